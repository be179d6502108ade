import Foundation
import SyncProtocol
import Testing
import TestSupport

/// Collision 7 of DOMAIN.md with real processes: two offices create the same person (one
/// citizen id), each with rows of their own; the hub lists one `duplicate` item; a reviewer
/// keeps one record with `syncctl review resolve`, and the merge reaches the offices.
@Suite(.serialized) struct DuplicatePersonTests {
    static let citizenID = "022090004567"

    @Test func thePersonCreatedAtTwoOfficesIsMergedByAReviewerAndTheMergeReachesBoth() throws {
        let cluster = try SyncCluster(label: "duplicate")
        let quangTan = try cluster.addCommune("06913")
        let damHa = try cluster.addCommune("06916")
        for office in [quangTan, damHa] {
            #expect(try office.syncOnce().status == 0)
            #expect(office.hasUnits)
        }
        // Offline from each other, both offices record Mr An, who moved between them.
        try SQLiteShell.run(quangTan.database, """
            INSERT INTO persons(id, commune_id, full_name, birth_date, citizen_id) VALUES ('p-qt', 'unit-06913', 'Nguyễn Văn An', '1980-02-03', '\(Self.citizenID)');
            INSERT INTO assignments(id, commune_id, person_id, position_id, kind, decision_no) VALUES ('as-qt', 'unit-06913', 'p-qt', 'seat-qt', 'primary', '12/QĐ-UBND');
            INSERT INTO evaluations(id, commune_id, person_id, year, rating) VALUES ('ev-qt', 'unit-06913', 'p-qt', 2023, 'good');
            """)
        try SQLiteShell.run(damHa.database, """
            INSERT INTO persons(id, commune_id, full_name, birth_date, citizen_id) VALUES ('p-dh', 'unit-06916', 'Nguyễn Văn An', '1980-02-03', '\(Self.citizenID)');
            INSERT INTO assignments(id, commune_id, person_id, position_id, kind, decision_no) VALUES ('as-dh', 'unit-06916', 'p-dh', 'seat-dh', 'concurrent', '3/QĐ-UBND');
            INSERT INTO evaluations(id, commune_id, person_id, year, rating) VALUES ('ev-dh', 'unit-06916', 'p-dh', 2024, 'excellent');
            """)
        for office in [quangTan, damHa] { #expect(try office.syncOnce().status == 0) }

        // The hub lists one open item naming both records, on the API and in syncctl.
        let reviewer = cluster.directory.path("reviewer.credential")
        try cluster.hub.issueCredential(for: "can-bo-noi-vu", into: reviewer, reviewer: true)
        let token = try String(contentsOfFile: reviewer, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let served = try CurlTool.send("GET", cluster.hub.url + "/v1/conflicts?state=open", headers: ["Authorization": "Bearer \(token)"])
        #expect(served.status == 200)
        let open = try JSONDecoder().decode([ConflictView].self, from: Data(served.body.utf8))
        #expect(open.map(\.kind) == ["duplicate"], "\(served.body)")
        let item = try #require(open.first)
        #expect(item.id == "persons/\(Self.citizenID)/*duplicate")
        #expect(item.sides.map(\.person) == ["p-dh", "p-qt"] && item.sides.map(\.origin) == ["06916", "06913"])
        #expect(item.sides.allSatisfy { $0.citizenID == Self.citizenID && $0.fullName == "Nguyễn Văn An" })
        let desk = ["--hub", cluster.hub.url, "--credential-file", reviewer]
        let listed = try Programs.run("syncctl", ["review", "list", "--json"] + desk)
        #expect(listed.status == 0)
        #expect(try JSONDecoder().decode([ConflictView].self, from: Data(listed.output.utf8)) == open)
        let human = try Programs.run("syncctl", ["review", "list"] + desk)
        #expect(human.output.contains("duplicate") && human.output.contains("citizen ID \(Self.citizenID)"), "\(human.output)")

        // The review page shows both records side by side, each with a choice to keep it.
        let (_, session) = try ReviewDeskTests.login(cluster.hub.url, credential: token)
        let page = try CurlTool.send("GET", cluster.hub.url + "/review", cookies: ["review_session": try #require(session)]).body
        #expect(page.contains("2 hồ sơ cùng số CCCD \(Self.citizenID)") && page.contains("<b>Nguyễn Văn An</b>"), "\(page)")
        #expect(page.contains("Giữ hồ sơ này") && page.contains("Xã Quảng Tân (06913)") && page.contains("Xã Đầm Hà (06916)"))
        for record in ["p-dh", "p-qt"] { #expect(page.contains("name=\"pick\" value=\"\(record)\"")) }
        // Both records whole: the birth date as dd/mm/yyyy, the commune that keeps each, and each
        // one's titles, ratings and trainings side by side.
        #expect(page.contains("03/02/1980"), "\(page)")
        #expect(page.contains("Xã quản lý") && !page.contains(">unit-06916<"), "the keeping commune by name, not its units.id")
        #expect(page.contains("QĐ 12/QĐ-UBND") && page.contains("QĐ 3/QĐ-UBND"), "each record's assignments: \(page)")
        #expect(page.contains("2023: hoàn thành tốt nhiệm vụ") && page.contains("2024: hoàn thành xuất sắc nhiệm vụ"), "each record's ratings")

        // A pick that is neither record is refused (400 on the API), and nothing is written.
        let refused = try RawHTTP.send(
            "POST", cluster.hub.url + "/v1/conflicts/resolve", headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
            body: try JSONEncoder().encode(ResolveRequest(id: item.id, pick: "p-nobody", value: nil, reason: "nhầm")))
        #expect(refused.status == 400 && refused.body.contains("p-dh or p-qt"), "\(refused.body)")
        let wrong = try Programs.run("syncctl", ["review", "resolve", item.id, "--pick", "as-dh", "--reason", "nhầm"] + desk)
        #expect(wrong.status != 0 && wrong.output.contains("pick the persons.id"), "\(wrong.output)")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM _sync_hub_reviews;") == "0")

        // The reviewer keeps Quảng Tân's record (where he works now).
        let kept = try Programs.run("syncctl", ["review", "resolve", item.id, "--pick", "p-qt", "--reason", "cùng một người, đã đối chiếu CCCD"] + desk)
        #expect(kept.status == 0, "\(kept.output)")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT state FROM _sync_conflicts WHERE kind = 'duplicate';") == "closed")
        let stillOpen = try Programs.run("syncctl", ["review", "list", "--json"] + desk)
        #expect(try JSONDecoder().decode([ConflictView].self, from: Data(stillOpen.output.utf8)).isEmpty)

        for office in [quangTan, damHa] { #expect(try office.syncOnce().status == 0) }
        // Both offices whose records the item named are told the outcome and who decided it.
        for office in [quangTan, damHa] {
            let told = try Programs.run("syncctl", ["conflicts", "--all", "--config", office.config]).output
            #expect(told.contains("decided  Nguyễn Văn An") && told.contains("is kept; the others are merged into it")
                    && told.contains("decided by can-bo-noi-vu") && told.contains("why: cùng một người, đã đối chiếu CCCD"), "\(office.code): \(told)")
        }
        // Đầm Hà's rows now name the kept record and stay Đầm Hà's; its own record is marked merged.
        #expect(try SQLiteShell.run(damHa.database, "SELECT id, person_id, commune_id FROM assignments;") == "as-dh|p-qt|unit-06916")
        #expect(try SQLiteShell.run(damHa.database, "SELECT id, person_id, commune_id FROM evaluations;") == "ev-dh|p-qt|unit-06916")
        #expect(try SQLiteShell.run(damHa.database, "SELECT merged_into, status FROM persons WHERE id = 'p-dh';") == "p-qt|merged")
        // Quảng Tân's record is the one kept: its rows unchanged, nothing of Đầm Hà's in its scope.
        #expect(try SQLiteShell.run(quangTan.database, "SELECT id, coalesce(merged_into, '-') FROM persons;") == "p-qt|-")
        #expect(try SQLiteShell.run(quangTan.database, "SELECT id, person_id FROM assignments; SELECT id, person_id FROM evaluations;")
                == "as-qt|p-qt\nev-qt|p-qt")
        // The hub holds the same, and both offices agree with it on their own scope.
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT id, person_id FROM assignments ORDER BY id;") == "as-dh|p-qt\nas-qt|p-qt")
        for office in [quangTan, damHa] {
            #expect(try scopeContent(office.database, unit: office.unit) == scopeContent(cluster.hub.database, unit: office.unit), "\(office.code)")
        }
    }
}
