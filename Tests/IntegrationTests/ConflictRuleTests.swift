import Foundation
import MergeEngine
import Register
import Replica
import SyncClient
import SyncCore
import SyncProtocol
import Testing
import TestSupport

/// The collisions of DOMAIN.md that the rules cover, each with a real hub and a commune that
/// edits while offline: the expected winner, the loser ended with a reason (never deleted),
/// review items where the rule says review, and decisions reaching the commune.
@Suite(.serialized) struct ConflictRuleTests {
    static func rules(seats: String) -> String {
        """
        version = 3
        [fields]
        default = "last-writer-wins"
        [fields.persons]
        degree = "review"
        [fields.evaluations]
        rating = "district-wins"
        [seats]
        rule = "\(seats)"
        """
    }

    /// A commune with a chairman's seat and two people, synced; then offline.
    func offlineCommune(_ cluster: SyncCluster) throws -> CommuneNode {
        let commune = try cluster.addCommune("06913", interval: 0.2)
        try commune.start()
        #expect(eventually { commune.hasUnits })
        try SQLiteShell.run(commune.database, """
            INSERT INTO persons(id, commune_id, full_name, degree) VALUES ('p-a', 'unit-06913', 'Nguyễn Văn A', 'college'),
                                                                          ('p-b', 'unit-06913', 'Trần Văn B', 'college');
            INSERT INTO positions(id, commune_id, unit_id, title_id, seat_no, capacity) VALUES ('seat-ct', 'unit-06913', 'unit-06913', 'chu_tich_ubnd', 1, 1);
            INSERT INTO evaluations(id, commune_id, person_id, year, proposed_rating, rating) VALUES ('e-a', 'unit-06913', 'p-a', 2024, 'good', 'good');
            """)
        #expect(eventually { try scopeContent(commune.database, unit: commune.unit) == scopeContent(cluster.hub.database, unit: commune.unit) })
        commune.stop()
        return commune
    }

    /// The offline commune appoints p-a to the chairman's seat; the district, not knowing,
    /// appoints p-b to the same seat with an earlier decision.
    func fillTheSeatTwice(_ cluster: SyncCluster, _ commune: CommuneNode) throws {
        try SQLiteShell.run(commune.database, """
            INSERT INTO assignments(id, commune_id, person_id, position_id, kind, decision_no, decision_date, start_date)
            VALUES ('as-commune', 'unit-06913', 'p-a', 'seat-ct', 'primary', '31/QĐ-UBND', '2024-05-01', '2024-05-01');
            """)
        try SQLiteShell.run(cluster.hub.database, """
            INSERT INTO assignments(id, commune_id, person_id, position_id, kind, decision_no, decision_date, start_date)
            VALUES ('as-district', 'unit-06913', 'p-b', 'seat-ct', 'primary', '7/QĐ-UBND huyện', '2024-03-01', '2024-03-01');
            """)
    }

    func converge(_ cluster: SyncCluster, _ commune: CommuneNode) -> Bool {
        eventually(timeout: 30) { try scopeContent(commune.database, unit: commune.unit) == scopeContent(cluster.hub.database, unit: commune.unit) }
    }

    @Test func aSeatFilledTwiceOfflineGoesToTheDistrictAndTheLoserIsEndedNotDeleted() throws {
        let cluster = try SyncCluster(label: "seat", rules: Self.rules(seats: "district-wins"))
        let commune = try offlineCommune(cluster)
        try fillTheSeatTwice(cluster, commune)
        // The commune sees the conflict as soon as both holders are in its replica.
        try commune.start()
        #expect(converge(cluster, commune))
        let holders = try SQLiteShell.run(commune.database, "SELECT id, end_date, end_reason IS NOT NULL FROM assignments ORDER BY id;")
        // The loser started after the keeper: it ends on its own start, never before it.
        #expect(holders == "as-commune|2024-05-01|1\nas-district||0", "\(holders)")
        let reason = try SQLiteShell.run(commune.database, "SELECT end_reason FROM assignments WHERE id = 'as-commune';")
        #expect(reason.contains("p-b giữ vị trí") && reason.contains("7/QĐ-UBND huyện") && reason.contains("district-wins"), "\(reason)")
        // The hub saw the seat filled twice: recorded with both candidates, decisions and
        // origins, closed once the loser was ended. The commune received the district's holder
        // together with the ending, so its seat never went over capacity.
        let record = try SQLiteShell.run(cluster.hub.database, "SELECT state, rule, sides FROM _sync_conflicts WHERE pk = 'seat-ct';")
        #expect(record.hasPrefix("closed|district-wins|"), "\(record)")
        #expect(record.contains("\"origin\":\"06913\"") && record.contains("\"origin\":\"200\"") && record.contains("31/QĐ-UBND"), "\(record)")
        #expect(try SQLiteShell.run(commune.database, "SELECT count(*) FROM _sync_conflicts WHERE pk = 'seat-ct' AND state <> 'closed';") == "0")
        // The office whose appointment lost still learns of it.
        let listed = try Programs.run("syncctl", ["conflicts", "--all", "--config", commune.config])
        #expect(listed.output.contains("ended    Nguyễn Văn A (chu_tich_ubnd – Xã Quảng Tân) as of 01/05/2024: xung đột chức danh: p-b giữ vị trí"), "\(listed.output)")
    }

    @Test func aSeatUnderTheReviewRuleWaitsForAReviewerWhoseDecisionReachesTheCommune() throws {
        let cluster = try SyncCluster(label: "seatreview", rules: Self.rules(seats: "review"))
        let commune = try offlineCommune(cluster)
        let reviewer = cluster.directory.path("reviewer.credential")
        try cluster.hub.issueCredential(for: "can-bo-noi-vu", into: reviewer, reviewer: true)
        try fillTheSeatTwice(cluster, commune)
        try commune.start()
        #expect(converge(cluster, commune))
        #expect(try SQLiteShell.run(commune.database, "SELECT state FROM _sync_conflicts WHERE pk = 'seat-ct';") == "open")
        #expect(try SQLiteShell.run(commune.database, "SELECT count(*) FROM assignments WHERE end_date IS NULL;") == "2", "review ends nobody")

        // Meanwhile the commune's other work keeps flowing.
        try SQLiteShell.run(commune.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-c', 'unit-06913', 'Lê Thị C');")
        #expect(eventually { try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM persons WHERE id = 'p-c';") == "1" })

        let list = try Programs.run("syncctl", ["review", "list", "--json", "--hub", cluster.hub.url, "--credential-file", reviewer])
        #expect(list.status == 0)
        let listed = try JSONDecoder().decode([ConflictView].self, from: Data(list.output.utf8))
        #expect(listed.map(\.id) == ["positions/seat-ct/*holders"])
        #expect(Set(listed.first?.sides.compactMap(\.assignment) ?? []) == ["as-commune", "as-district"])
        let decided = try Programs.run("syncctl", ["review", "resolve", "positions/seat-ct/*holders", "--pick", "as-commune",
                                                   "--reason", "quyết định của xã đúng thẩm quyền", "--hub", cluster.hub.url, "--credential-file", reviewer])
        #expect(decided.status == 0, "\(decided.output)")
        #expect(converge(cluster, commune))
        #expect(try SQLiteShell.run(commune.database, "SELECT id FROM assignments WHERE end_date IS NULL;") == "as-commune")
        #expect(try SQLiteShell.run(commune.database, "SELECT end_reason FROM assignments WHERE id = 'as-district';").contains("quyết định của xã"))
        for database in [commune.database, cluster.hub.database] {
            #expect(try SQLiteShell.run(database, "SELECT state FROM _sync_conflicts WHERE pk = 'seat-ct';") == "closed")
        }
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT reviewer, reason FROM _sync_hub_reviews;") == "can-bo-noi-vu|quyết định của xã đúng thẩm quyền")
        // The office learns the outcome, who decided, when and why; no English in the register.
        let told = try Programs.run("syncctl", ["conflicts", "--all", "--config", commune.config]).output
        #expect(told.contains("decided  chu_tich_ubnd – Xã Quảng Tân has 2 holders: Nguyễn Văn A (written here), Trần Văn B (written at Huyện Đầm Hà)"), "\(told)")
        #expect(told.contains("decision #1: Nguyễn Văn A (chu_tich_ubnd – Xã Quảng Tân) keeps the seat; the other holders end; decided by can-bo-noi-vu on ")
                && told.contains("why: quyết định của xã đúng thẩm quyền"), "\(told)")
        #expect(told.contains("ended    Trần Văn B (chu_tich_ubnd – Xã Quảng Tân) as of ") && told.contains("kết thúc theo quyết định xem xét của huyện (can-bo-noi-vu)"), "\(told)")
    }

    @Test func concurrentFieldEditsFollowTheirColumnsRulesAndAReviewDecisionClosesTheItemEverywhere() throws {
        let cluster = try SyncCluster(label: "fieldreview", rules: Self.rules(seats: "district-wins"))
        let commune = try offlineCommune(cluster)
        // Both sides edit the degree (review) and the rating (district wins), offline.
        try SQLiteShell.run(commune.database, """
            UPDATE persons SET degree = 'university' WHERE id = 'p-a';
            UPDATE evaluations SET rating = 'excellent' WHERE id = 'e-a';
            """)
        try SQLiteShell.run(cluster.hub.database, """
            UPDATE persons SET degree = 'master' WHERE id = 'p-a';
            UPDATE evaluations SET rating = 'completed' WHERE id = 'e-a';
            """)
        try commune.start()
        #expect(converge(cluster, commune))
        // The decided rating is the authority's, even though the commune wrote last.
        #expect(try SQLiteShell.run(commune.database, "SELECT rating FROM evaluations WHERE id = 'e-a';") == "completed")
        #expect(try SQLiteShell.run(commune.database, "SELECT state FROM _sync_conflicts WHERE pk = 'e-a';") == "settled")
        // The degree waits for review, both values kept.
        let open = try SQLiteShell.run(commune.database, "SELECT state, sides FROM _sync_conflicts WHERE pk = 'p-a' AND col = 'degree';")
        #expect(open.hasPrefix("open|") && open.contains("university") && open.contains("master"), "\(open)")
        #expect(try Programs.run("syncctl", ["conflicts", "--config", commune.config]).output.contains("open     Nguyễn Văn A: degree written differently: "))

        let reviewer = cluster.directory.path("reviewer.credential")
        try cluster.hub.issueCredential(for: "reviewer-1", into: reviewer, reviewer: true)
        let desk = try ReviewClient(hubURL: cluster.hub.url, credential: try String(contentsOfFile: reviewer, encoding: .utf8))
        let item = try #require(try desk.conflicts(state: "open").conflicts.first { $0.id == "persons/p-a/degree" })
        let communeSide = try #require(item.sides.first { $0.origin == "06913" })
        #expect(try desk.resolve(ResolveRequest(id: item.id, pick: communeSide.dot, value: nil, reason: "bằng đại học đã xác minh")).wrote == 1)
        #expect(converge(cluster, commune))
        for database in [commune.database, cluster.hub.database] {
            #expect(try SQLiteShell.run(database, "SELECT degree FROM persons WHERE id = 'p-a';") == "university")
            #expect(try SQLiteShell.run(database, "SELECT state FROM _sync_conflicts WHERE pk = 'p-a' AND col = 'degree';") == "closed")
        }
        // The commune holds the hub's rule version.
        #expect(try commune.status().json["rules_version"] as? Int == 3)
        let told = try Programs.run("syncctl", ["conflicts", "--all", "--config", commune.config]).output
        #expect(told.contains("decided  Nguyễn Văn A: degree written differently: ") && told.contains("kept university (written here)")
                && told.contains("decided by reviewer-1 on ") && told.contains("why: bằng đại học đã xác minh"), "\(told)")
        #expect(told.contains("settled  Nguyễn Văn A: rating written differently: excellent (written here) / completed (written at Huyện Đầm Hà)"), "one word for what a rule settled: \(told)")
        let status = try Programs.run("syncctl", ["status", "--config", commune.config]).output
        #expect(status.contains("0 awaiting district review, 1 settled by a rule"), "\(status)")

        // The decision is reverted: the value shown before it comes back everywhere.
        let decision = try #require(try SQLiteShell.run(cluster.hub.database, "SELECT id FROM _sync_hub_reviews;").split(separator: "\n").first.flatMap { Int64($0) })
        let reverted = try Programs.run("syncctl", ["review", "revert", String(decision), "--reason", "nhầm hồ sơ",
                                                    "--hub", cluster.hub.url, "--credential-file", reviewer])
        #expect(reverted.status == 0, "\(reverted.output)")
        #expect(converge(cluster, commune))
        #expect(try SQLiteShell.run(commune.database, "SELECT degree FROM persons WHERE id = 'p-a';") == "master")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT id, reverts, reverted_by FROM _sync_hub_reviews ORDER BY id;") == "1||2\n2|1|")
        let undone = try Programs.run("syncctl", ["conflicts", "--all", "--config", commune.config]).output
        #expect(undone.contains("decision #2: decision #1 undone") && undone.contains("why: nhầm hồ sơ"), "\(undone)")
        let again = try Programs.run("syncctl", ["review", "revert", String(decision), "--reason", "x", "--hub", cluster.hub.url, "--credential-file", reviewer])
        #expect(again.status != 0 && again.output.contains("already reverted"))
    }

    @Test func aCommuneCannotReachTheReviewDeskAndAReviewerCannotSync() throws {
        let cluster = try SyncCluster(label: "roles")
        let commune = try cluster.addCommune("06913")
        let token = try String(contentsOfFile: commune.credentialPath, encoding: .utf8)
        let refused = #expect(throws: SyncError.self) { try ReviewClient(hubURL: cluster.hub.url, credential: token).conflicts() }
        guard case .refused(let status, _, _) = refused else { return }
        #expect(status == 403)
        let reviewer = cluster.directory.path("reviewer.credential")
        try cluster.hub.issueCredential(for: "reviewer-1", into: reviewer, reviewer: true)
        let pulled = try RawHTTP.send("GET", cluster.hub.url + "/v1/pull?after=0", headers: [
            "Authorization": "Bearer " + (try String(contentsOfFile: reviewer, encoding: .utf8)),
            WireVersion.protocolHeader: String(WireVersion.protocolVersion), WireVersion.schemaHeader: String(RegisterSchema.current.version),
        ])
        #expect(pulled.status == 403)
    }
}

/// Concurrent holding (kiêm nhiệm) outside the rules, and a head-count over quota: review
/// items on every replica, closed everywhere once a reviewer ends an assignment.
@Suite(.serialized) struct HoldingRuleTests {
    @Test func aThirdTitleAndAnOverQuotaHireBecomeReviewItemsThatAReviewerClears() throws {
        let cluster = try SyncCluster(label: "holding", rules: """
            version = 5
            [seats]
            rule = "district-wins"
            [holding]
            max_titles = 2
            allowed_pairs = [["bi_thu_chi_bo", "truong_thon"]]
            """)
        try SQLiteShell.run(cluster.hub.database, """
            INSERT INTO titles(id, code, name_vi, category, level, max_holders) VALUES
              ('t-bt', 'bi_thu_chi_bo', 'Bí thư chi bộ', 'nonspecialised_hamlet', 'hamlet', 1),
              ('t-tt', 'truong_thon', 'Trưởng thôn', 'nonspecialised_hamlet', 'hamlet', 1),
              ('t-ct', 'chu_tich_ubnd', 'Chủ tịch UBND', 'cadre', 'commune', 1),
              ('t-pct', 'pho_chu_tich_ubnd', 'Phó Chủ tịch UBND', 'cadre', 'commune', 2);
            INSERT INTO quotas(id, unit_id, category, max_headcount, legal_basis) VALUES ('q-1', 'unit-06913', 'cadre_civil_servant', 1, 'ND 33/2023');
            """)
        let commune = try cluster.addCommune("06913", interval: 0.2)
        try commune.start()
        #expect(eventually { (try? SQLiteShell.run(commune.database, "SELECT count(*) FROM titles;")) == "4" })
        func assign(_ id: String, _ person: String, _ seat: String) -> String {
            "INSERT INTO assignments(id, commune_id, person_id, position_id, kind, decision_no, start_date) VALUES ('\(id)', 'unit-06913', '\(person)', '\(seat)', 'primary', '\(id)/QĐ', '2024-01-01');"
        }
        try SQLiteShell.run(commune.database, """
            INSERT INTO persons(id, commune_id, full_name) VALUES ('p-a', 'unit-06913', 'Hoàng Văn A'), ('p-b', 'unit-06913', 'Lò Thị B');
            INSERT INTO positions(id, commune_id, unit_id, title_id, seat_no, capacity) VALUES
              ('seat-bt', 'unit-06913', 'unit-06913', 't-bt', 1, 1), ('seat-tt', 'unit-06913', 'unit-06913', 't-tt', 1, 1),
              ('seat-ct', 'unit-06913', 'unit-06913', 't-ct', 1, 1), ('seat-pct', 'unit-06913', 'unit-06913', 't-pct', 1, 1);
            \(assign("a-bt", "p-a", "seat-bt"))
            \(assign("a-tt", "p-a", "seat-tt"))
            """)
        // Party-cell secretary and hamlet head together: encouraged, no item.
        #expect(eventually { try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM assignments;") == "2" })
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM _sync_conflicts WHERE state <> 'closed';") == "0")

        // A third title for the same person, and a second cadre over a quota of one.
        try SQLiteShell.run(commune.database, assign("a-ct", "p-a", "seat-ct") + assign("a-pct", "p-b", "seat-pct"))
        for database in [commune.database, cluster.hub.database] {
            #expect(eventually {
                try SQLiteShell.run(database, "SELECT pk, col, state FROM _sync_conflicts WHERE state <> 'closed' ORDER BY pk;")
                    == "p-a|*titles|open\nunit-06913|*quota:cadre_civil_servant|open"
            }, "\(database)")
        }
        #expect(try SQLiteShell.run(commune.database, "SELECT chosen FROM _sync_conflicts WHERE col = '*titles';") == "holds 3 titles at once; at most 2 are allowed")
        let listed = try Programs.run("syncctl", ["conflicts", "--config", commune.config]).output
        #expect(listed.contains("open     Hoàng Văn A holds titles together that the rules do not allow: bi_thu_chi_bo, chu_tich_ubnd, truong_thon"), "\(listed)")
        #expect(listed.contains("open     Xã Quảng Tân is over its quota of cadre civil servant: Hoàng Văn A – chu_tich_ubnd, Lò Thị B – pho_chu_tich_ubnd"), "\(listed)")
        #expect(!listed.contains("*titles") && !listed.contains("*quota"), "\(listed)")

        // The reviewer ends the chairman assignment: both items clear, everywhere.
        let reviewer = cluster.directory.path("reviewer.credential")
        try cluster.hub.issueCredential(for: "reviewer-1", into: reviewer, reviewer: true)
        let desk = try ReviewClient(hubURL: cluster.hub.url, credential: try String(contentsOfFile: reviewer, encoding: .utf8))
        let items = try desk.conflicts(state: "open").conflicts
        #expect(Set(items.map(\.kind)) == ["holding", "quota"])
        #expect(try desk.resolve(ResolveRequest(id: "persons/p-a/*titles", pick: "a-ct", value: nil, reason: "chỉ kiêm nhiệm hai chức danh")).wrote == 1)
        for database in [commune.database, cluster.hub.database] {
            #expect(eventually { try SQLiteShell.run(database, "SELECT count(*) FROM _sync_conflicts WHERE state <> 'closed';") == "0" }, "\(database)")
        }
        #expect(try SQLiteShell.run(commune.database, "SELECT end_reason FROM assignments WHERE id = 'a-ct';").contains("chỉ kiêm nhiệm hai chức danh"))
        #expect(try SQLiteShell.run(commune.database, "SELECT count(*) FROM assignments;") == "4", "ended, never deleted")
    }
}
