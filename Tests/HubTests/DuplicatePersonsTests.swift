import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import MergeEngine
import Register
import Replica
import SyncCore
import SyncProtocol
import Testing
import TestSupport

/// Collision 7, the same person created on two sides: the hub opens one `duplicate` item per
/// citizen id shared by records standing on their own, and a reviewer's pick merges the
/// others into the kept one. In-process, on each storage (`HubBackend`).
@Suite struct DuplicatePersonsTests {
    typealias Bench = HubStoreTests.Bench

    static let citizenID = "022090000123"

    /// One text read with SQL from the hub's register ('' for NULL or no row).
    static func text(_ bench: Bench, _ sql: String) throws -> String {
        try bench.backend.scalar(sql, in: bench.directory)?.textValue ?? ""
    }

    static func reviewer(_ bench: Bench) async throws -> Caller {
        try await bench.store.authenticate("Bearer " + (try await bench.store.issueCredential(for: "reviewer1", scope: nil, reviewer: true)))
    }

    static func duplicates(_ bench: Bench, state: String = "all") async throws -> [ConflictView] {
        try await bench.store.conflicts(state: state, for: try await reviewer(bench)).filter { $0.kind == "duplicate" }
    }

    /// A hub with office 11111 (unit-a) and office 22222 (unit-b).
    static func twoOffices(on backend: HubBackend) async throws -> (bench: Bench, a: (Replica, Caller), b: (Replica, Caller)) {
        let bench = try Bench(backend)
        return (bench, try await bench.office("11111", scope: "unit-a"), try await bench.office("22222", scope: "unit-b"))
    }

    /// Office 11111 (unit-a) and office 22222 (unit-b) each create Nguyễn Văn An with the same
    /// citizen id, each with an assignment; a also with an evaluation, b with a training.
    /// Pushed, a first.
    static func sameManTwice(on backend: HubBackend) async throws -> (bench: Bench, a: (Replica, Caller), b: (Replica, Caller)) {
        let (bench, a, b) = try await twoOffices(on: backend)
        try a.0.database.execute("""
            INSERT INTO persons(id, commune_id, full_name, birth_date, citizen_id) VALUES ('pa', 'unit-a', 'Nguyễn Văn An', '1980-02-03', '\(citizenID)');
            INSERT INTO assignments(id, commune_id, person_id, position_id, kind) VALUES ('as-a', 'unit-a', 'pa', 'seat-a', 'primary');
            INSERT INTO evaluations(id, commune_id, person_id, year, rating) VALUES ('ev-a', 'unit-a', 'pa', 2024, 'good');
            """)
        try b.0.database.execute("""
            INSERT INTO persons(id, commune_id, full_name, birth_date, citizen_id) VALUES ('pb', 'unit-b', 'Nguyen Van An', '1980-02-03', '\(citizenID)');
            INSERT INTO assignments(id, commune_id, person_id, position_id, kind) VALUES ('as-b', 'unit-b', 'pb', 'seat-b', 'concurrent');
            INSERT INTO trainings(id, commune_id, person_id, course) VALUES ('tr-b', 'unit-b', 'pb', 'Trung cấp lý luận chính trị');
            """)
        try await bench.push(a)
        try await bench.push(b)
        return (bench, a, b)
    }

    @Test(arguments: HubBackend.allCases)
    func twoRecordsWithOneCitizenIDOpenOneItemNamingBoth(on backend: HubBackend) async throws {
        let (bench, a, b) = try await Self.sameManTwice(on: backend)
        var items = try await Self.duplicates(bench)
        #expect(items.map(\.id) == ["persons/\(Self.citizenID)/*duplicate"])
        let item = try #require(items.first)
        #expect(item.state == "open" && item.table == "persons" && item.row == Self.citizenID && item.count == nil)
        #expect(item.sides.map(\.person) == ["pa", "pb"])
        #expect(item.sides.map(\.fullName) == ["Nguyễn Văn An", "Nguyen Van An"])
        #expect(item.sides.map(\.birthDate) == ["1980-02-03", "1980-02-03"])
        #expect(item.sides.map(\.commune) == ["unit-a", "unit-b"])
        #expect(item.sides.map(\.citizenID) == [Self.citizenID, Self.citizenID])
        #expect(item.sides.map(\.origin) == ["11111", "22222"])

        // Found again (the citizen id typed again, a re-sent batch, the district touching it):
        // still one item.
        try b.0.database.execute("UPDATE persons SET citizen_id = '\(Self.citizenID)', phone = '0912' WHERE id = 'pb'")
        try await bench.push(b)
        try await bench.push(a)
        try bench.districtSQL("UPDATE persons SET citizen_id = '\(Self.citizenID)' WHERE id = 'pa'")
        try await bench.store.ingestLocalEdits()
        items = try await Self.duplicates(bench)
        #expect(items.map(\.id) == ["persons/\(Self.citizenID)/*duplicate"] && items.first?.state == "open")

        // A citizen id corrected at one office closes the item.
        try b.0.database.execute("UPDATE persons SET citizen_id = '022090000999' WHERE id = 'pb'")
        try await bench.push(b)
        items = try await Self.duplicates(bench)
        #expect(items.map(\.state) == ["closed"])
    }

    @Test(arguments: HubBackend.allCases)
    func differentBlankOrMissingCitizenIDsOpenNothing(on backend: HubBackend) async throws {
        let (bench, a, b) = try await Self.twoOffices(on: backend)
        try a.0.database.execute("""
            INSERT INTO persons(id, commune_id, full_name, citizen_id) VALUES
                ('p1', 'unit-a', 'An', '022090000001'), ('p2', 'unit-a', 'Bình', ''), ('p3', 'unit-a', 'Cúc', NULL),
                ('p4', 'unit-a', 'Dũng', ' ');
            """)
        try b.0.database.execute("""
            INSERT INTO persons(id, commune_id, full_name, citizen_id) VALUES
                ('q1', 'unit-b', 'An', '022090000002'), ('q2', 'unit-b', 'Bình', ''), ('q3', 'unit-b', 'Cúc', NULL),
                ('q4', 'unit-b', 'Dũng', ' ');
            """)
        try await bench.push(a)
        try await bench.push(b)
        try bench.districtSQL("INSERT INTO persons(id, commune_id, full_name, citizen_id) VALUES ('d1', 'unit-a', 'Em', '')")
        try await bench.store.ingestLocalEdits()
        #expect(try await Self.duplicates(bench).isEmpty)

        // District staff record someone the office has already: found from the district's side too.
        try bench.districtSQL("INSERT INTO persons(id, commune_id, full_name, citizen_id) VALUES ('d2', 'unit-b', 'An', '022090000002')")
        try await bench.store.ingestLocalEdits()
        #expect(try await Self.duplicates(bench).map(\.id) == ["persons/022090000002/*duplicate"])
        #expect(try await Self.duplicates(bench).first?.sides.map(\.person) == ["d2", "q1"])
    }

    @Test(arguments: HubBackend.allCases)
    func keepingOneRecordRepointsTheOthersRowsAndMarksItMerged(on backend: HubBackend) async throws {
        let (bench, a, b) = try await Self.sameManTwice(on: backend)
        let reviewer = try await Self.reviewer(bench)
        let item = try #require(try await Self.duplicates(bench).first)
        let fedBefore = try bench.feedDotCounts().keys.filter { $0.replica == "200" }.count

        let decided = try await bench.store.resolve(
            ResolveRequest(id: item.id, pick: "pa", value: nil, reason: "cùng một người, CCCD đã đối chiếu"), by: reviewer)
        #expect(decided.wrote == 3, "as-b and tr-b re-pointed, pb marked merged")
        for (sql, expected) in [
            ("SELECT person_id FROM assignments WHERE id = 'as-b'", "pa"),
            ("SELECT commune_id FROM assignments WHERE id = 'as-b'", "unit-b"),
            ("SELECT person_id FROM trainings WHERE id = 'tr-b'", "pa"),
            ("SELECT person_id FROM assignments WHERE id = 'as-a'", "pa"),
            ("SELECT person_id FROM evaluations WHERE id = 'ev-a'", "pa"),
            ("SELECT merged_into FROM persons WHERE id = 'pb'", "pa"),
            ("SELECT status FROM persons WHERE id = 'pb'", "merged"),
            ("SELECT coalesce(merged_into, '-') FROM persons WHERE id = 'pa'", "-"),
            ("SELECT commune_id FROM persons WHERE id = 'pb'", "unit-b"),
        ] {
            #expect(try Self.text(bench, sql) == expected, "\(sql)")
        }
        #expect(try await Self.duplicates(bench).map(\.state) == ["closed"])
        #expect(try bench.feedDotCounts().keys.filter { $0.replica == "200" }.count > fedBefore, "the merge is in the feed")

        // Office b receives the re-pointed rows and the merge mark: they are in its scope.
        let pulled = try await bench.store.pull(for: b.1, after: 0, limit: 1_000)
        try b.0.apply(pulled.changes.flatMap { $0.changes() ?? [] })
        #expect(try b.0.database.scalar("SELECT person_id FROM assignments WHERE id = 'as-b'")?.textValue == "pa")
        #expect(try b.0.database.scalar("SELECT merged_into FROM persons WHERE id = 'pb'")?.textValue == "pa")

        // A merged record is no duplicate any more, whatever touches its citizen id.
        try b.0.database.execute("UPDATE persons SET citizen_id = '\(Self.citizenID)', note = 'x' WHERE id = 'pb'")
        try await bench.push(b)
        try await bench.push(a)
        #expect(try await Self.duplicates(bench).map(\.state) == ["closed"])
        #expect(try await bench.store.conflicts(state: "open", for: reviewer).filter { $0.kind == "duplicate" }.isEmpty)

        // Reverted: the rows point where they did, the record stands alone again, and the item
        // is open again.
        let reverted = try await bench.store.revert(RevertRequest(review: decided.review, reason: "hai người khác nhau"), by: reviewer)
        #expect(reverted.wrote == 3)
        #expect(try Self.text(bench, "SELECT person_id FROM assignments WHERE id = 'as-b'") == "pb")
        #expect(try Self.text(bench, "SELECT person_id FROM trainings WHERE id = 'tr-b'") == "pb")
        #expect(try Self.text(bench, "SELECT coalesce(merged_into, '-') FROM persons WHERE id = 'pb'") == "-")
        #expect(try await Self.duplicates(bench, state: "open").map(\.id) == [item.id])
    }

    @Test(arguments: HubBackend.allCases)
    func aPickThatIsNeitherRecordIsRefusedAndChangesNothing(on backend: HubBackend) async throws {
        let (bench, _, _) = try await Self.sameManTwice(on: backend)
        let reviewer = try await Self.reviewer(bench)
        let item = try #require(try await Self.duplicates(bench).first)
        let feedBefore = try bench.feedDotCounts()
        for pick in ["pc", "as-b", "", nil] as [String?] {
            do {
                _ = try await bench.store.resolve(ResolveRequest(id: item.id, pick: pick, value: nil, reason: "thử"), by: reviewer)
                Issue.record("pick \(pick ?? "nil") was taken")
            } catch let error as HubError {
                #expect(error.status == 400 && error.message.contains("pa or pb"), "\(error)")
            }
        }
        #expect(try Self.text(bench, "SELECT person_id FROM assignments WHERE id = 'as-b'") == "pb")
        #expect(try Self.text(bench, "SELECT coalesce(merged_into, '-') || '|' || coalesce(status, '-') FROM persons WHERE id = 'pb'") == "-|-")
        #expect(try Self.text(bench, "SELECT CAST(count(*) AS TEXT) FROM _sync_hub_reviews") == "0")
        #expect(try await Self.duplicates(bench).map(\.state) == ["open"])
        #expect(try bench.feedDotCounts() == feedBefore)
    }

    /// One push of many records sharing one citizen id: one item naming them all (the first
    /// of them listed, with the count), not one per pair; a pick keeps one record and merges
    /// every other into it.
    @Test(arguments: HubBackend.allCases)
    func manyRecordsOfOneCitizenIDAreOneItemAndOnePickMergesThemAll(on backend: HubBackend) async throws {
        let (bench, a, b) = try await Self.twoOffices(on: backend)
        let values = (0..<300).map { "('m\(1000 + $0)', 'unit-a', 'Trần Thị Mai', '\(Self.citizenID)')" }.joined(separator: ", ")
        try a.0.database.execute("INSERT INTO persons(id, commune_id, full_name, citizen_id) VALUES \(values)")
        try a.0.database.execute("INSERT INTO trainings(id, commune_id, person_id, course) VALUES ('tr-1', 'unit-a', 'm1299', 'Tin học')")
        try await bench.push(a)
        var items = try await Self.duplicates(bench)
        #expect(items.count == 1)
        var item = try #require(items.first)
        #expect(item.id == "persons/\(Self.citizenID)/*duplicate" && item.state == "open")
        #expect(item.count == 300 && item.sides.count == 20 && item.sides.first?.person == "m1000")
        #expect(try Self.text(bench, "SELECT CAST(count(*) AS TEXT) FROM _sync_conflicts WHERE kind = 'duplicate'") == "1")

        // One more record at another office: the same item, now naming 301.
        try b.0.database.execute("INSERT INTO persons(id, commune_id, full_name, citizen_id) VALUES ('m0999', 'unit-b', 'Mai', '\(Self.citizenID)')")
        try await bench.push(b)
        items = try await Self.duplicates(bench)
        item = try #require(items.first)
        #expect(items.count == 1 && item.count == 301 && item.sides.first?.person == "m0999")

        // The reviewer keeps one record: every other one is merged into it, its rows re-pointed.
        let reviewer = try await Self.reviewer(bench)
        let decided = try await bench.store.resolve(ResolveRequest(id: item.id, pick: "m1000", value: nil, reason: "một người"), by: reviewer)
        #expect(decided.wrote == 301, "300 records marked merged, one training re-pointed")
        #expect(try Self.text(bench, "SELECT CAST(count(*) AS TEXT) FROM persons WHERE merged_into = 'm1000' AND status = 'merged'") == "300")
        #expect(try Self.text(bench, "SELECT person_id FROM trainings WHERE id = 'tr-1'") == "m1000")
        #expect(try await Self.duplicates(bench).map(\.state) == ["closed"])
    }

    /// The citizen ids of all but one record corrected, one by one: the item stands while two
    /// records share it and closes when one is left.
    @Test(arguments: HubBackend.allCases)
    func anItemClosesWhenOnlyOneRecordKeepsTheCitizenID(on backend: HubBackend) async throws {
        let (bench, a, _) = try await Self.twoOffices(on: backend)
        try a.0.database.execute("""
            INSERT INTO persons(id, commune_id, full_name, citizen_id) VALUES
                ('x1', 'unit-a', 'An', '\(Self.citizenID)'), ('x2', 'unit-a', 'An', '\(Self.citizenID)'), ('x3', 'unit-a', 'An', '\(Self.citizenID)')
            """)
        try await bench.push(a)
        #expect(try await Self.duplicates(bench).map(\.sides.count) == [3])
        try a.0.database.execute("UPDATE persons SET citizen_id = '022090000777' WHERE id = 'x2'")
        try await bench.push(a)
        #expect(try await Self.duplicates(bench).map { "\($0.state) \($0.sides.compactMap(\.person))" } == ["open [\"x1\", \"x3\"]"])
        try bench.districtSQL("UPDATE persons SET citizen_id = '022090000778' WHERE id = 'x3'")
        try await bench.store.ingestLocalEdits()
        #expect(try await Self.duplicates(bench).map(\.state) == ["closed"])
        // Shared again: the same item opens again.
        try a.0.database.execute("UPDATE persons SET citizen_id = '\(Self.citizenID)' WHERE id = 'x2'")
        try await bench.push(a)
        #expect(try await Self.duplicates(bench).map { "\($0.state) \($0.sides.compactMap(\.person))" } == ["open [\"x1\", \"x2\"]"])
    }

    /// An item of an earlier version (one per pair) stays decidable, and closes when its pair
    /// no longer stands.
    @Test(arguments: HubBackend.allCases)
    func anItemOfAnEarlierVersionIsDecidedAsAPair(on backend: HubBackend) async throws {
        let (bench, a, b) = try await Self.sameManTwice(on: backend)
        // As an earlier hub recorded it: one item per pair.
        try bench.districtSQL("""
            UPDATE _sync_conflicts SET pk = 'pa', col = '*duplicate:pb' WHERE kind = 'duplicate';
            """)
        let reviewer = try await Self.reviewer(bench)
        let item = try #require(try await Self.duplicates(bench).first)
        #expect(item.id == "persons/pa/*duplicate:pb")
        let decided = try await bench.store.resolve(ResolveRequest(id: item.id, pick: "pb", value: nil, reason: "một người"), by: reviewer)
        #expect(decided.wrote == 3, "as-a and ev-a re-pointed, pa marked merged")
        #expect(try Self.text(bench, "SELECT merged_into FROM persons WHERE id = 'pa'") == "pb")
        _ = (a, b)
    }

    /// The review API is paged: a page at most `limit` long, in id order, continued after the
    /// last id; every item is on exactly one page.
    @Test(arguments: HubBackend.allCases)
    func conflictsAreServedPageByPage(on backend: HubBackend) async throws {
        let (bench, a, _) = try await Self.twoOffices(on: backend)
        let values = (0..<250).map { "('r\($0)', 'unit-a', 'An', '0220900\(10000 + $0)'), ('s\($0)', 'unit-a', 'An', '0220900\(10000 + $0)')" }
        try a.0.database.execute("INSERT INTO persons(id, commune_id, full_name, citizen_id) VALUES \(values.joined(separator: ", "))")
        try await bench.push(a)
        let reviewer = try await Self.reviewer(bench)
        var seen: [String] = []
        var after: String?
        var pages = 0
        while true {
            let page = try await bench.store.conflicts(state: "open", after: after, limit: 100, for: reviewer)
            seen += page.map(\.id)
            pages += 1
            guard page.count == 100 else { break }
            after = page.last?.id
        }
        #expect(pages == 3 && seen.count == 250 && Set(seen).count == 250 && seen == seen.sorted())
        #expect(try await bench.store.conflicts(state: "open", for: reviewer).count == 250, "500 by default")
        await #expect(throws: HubError.self) { try await bench.store.conflicts(state: "open", limit: 5_000, for: reviewer) }
    }
}
