import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import Testing
import TestSupport

/// Applying changes from other replicas: one transaction per batch, never captured again,
/// idempotent, with conflicts recorded.
@Suite struct ApplyTests {
    /// Everything the sync bookkeeping and the register hold, as the sqlite3 shell prints it.
    func dump(_ fixture: ReplicaFixture, _ id: ReplicaID) throws -> String {
        let tables = RegisterSchema.current.tables.map(\.name) + ["_sync_log", "_sync_rows", "_sync_fields", "_sync_conflicts", "_sync_clock"]
        return try tables.map { try SQLiteShell.run(fixture.path(id), "SELECT * FROM \($0) ORDER BY 1;") }.joined(separator: "\n--\n")
    }

    func written(on fixture: ReplicaFixture, _ replica: Replica, _ sql: String) throws -> [Change] {
        let before = try replica.capturedChanges().last?.dot.counter ?? 0
        try SQLiteShell.run(replica.database.path, sql)
        try replica.fold()
        return try replica.capturedChanges(after: before)
    }

    @Test func remoteChangesAreNotCapturedAgain() throws {
        let fixture = try ReplicaFixture()
        let hub = try fixture.create("200", role: .district)
        let commune = try fixture.create("22499")
        let changes = try written(on: fixture, hub, "INSERT INTO persons(id, full_name) VALUES ('p1', 'An'), ('p2', 'Bình');")
        let report = try commune.apply(changes)
        #expect(report.applied == changes.count && report.duplicates == 0 && report.rowsMaterialised == 2)
        #expect(try fixture.rows("22499", "persons", "id, full_name") == "p1|An\np2|Bình")
        #expect(try SQLiteShell.run(fixture.path("22499"), "SELECT count(*) FROM _sync_log;") == "0")
        try commune.fold()
        #expect(try commune.capturedChanges().isEmpty)
    }

    @Test func applyingTheSameBatchTwiceChangesNothing() throws {
        let fixture = try ReplicaFixture()
        let hub = try fixture.create("200", role: .district)
        let commune = try fixture.create("22499")
        let changes = try written(on: fixture, hub, """
            INSERT INTO persons(id, full_name, phone) VALUES ('p1', 'An', '0901');
            INSERT INTO units(id, name) VALUES ('u1', 'Xã Quảng Tân');
            """)
        try commune.apply(changes)
        let once = try dump(fixture, "22499")
        let again = try commune.apply(changes.reversed() + changes)
        #expect(again.applied == 0 && again.duplicates == 2 * changes.count)
        #expect(try dump(fixture, "22499") == once)
    }

    @Test func concurrentEditsOfOneFieldAreSettledAndRecorded() throws {
        let fixture = try ReplicaFixture()
        let hub = try fixture.create("200", role: .district)
        let commune = try fixture.create("22499")
        try commune.apply(try written(on: fixture, hub, "INSERT INTO persons(id, phone) VALUES ('p1', '0900');"))
        let fromHub = try written(on: fixture, hub, "UPDATE persons SET phone = 'district' WHERE id = 'p1';")
        _ = try written(on: fixture, commune, "UPDATE persons SET phone = 'commune' WHERE id = 'p1';")
        let report = try commune.apply(fromHub)
        #expect(report.concurrent == 1)
        let conflicts = try commune.conflicts()
        #expect(conflicts.count == 1)
        #expect(conflicts.first?.column == "phone" && conflicts.first?.state == .settled)
        let values: Set<Value> = Set((conflicts.first?.fieldSides ?? []).map(\.value))
        #expect(values == [.text("district"), .text("commune")])
        // Last writer wins: the commune wrote after the district here.
        #expect(try fixture.rows("22499", "persons", "phone") == "commune")

        // Editing the field again settles it: the new write has seen both sides.
        _ = try written(on: fixture, commune, "UPDATE persons SET phone = '0999' WHERE id = 'p1';")
        #expect(try commune.conflicts(state: .settled).isEmpty)
        #expect(try commune.conflicts(state: .closed).count == 1)
    }

    @Test func aDeleteMeetingAConcurrentUpdateBringsTheWholeRowBack() throws {
        let fixture = try ReplicaFixture()
        let hub = try fixture.create("200", role: .district)
        let commune = try fixture.create("22499")
        try commune.apply(try written(on: fixture, hub, "INSERT INTO persons(id, full_name, phone) VALUES ('p1', 'An', '0901');"))
        let deletion = try written(on: fixture, hub, "DELETE FROM persons WHERE id = 'p1';")
        _ = try written(on: fixture, commune, "UPDATE persons SET phone = '0902' WHERE id = 'p1';")
        try commune.apply(deletion)
        #expect(try fixture.rows("22499", "persons", "id, full_name, phone") == "p1|An|0902")
    }

    @Test func aDeleteThatSawEverythingRemovesTheRow() throws {
        let fixture = try ReplicaFixture()
        let hub = try fixture.create("200", role: .district)
        let commune = try fixture.create("22499")
        try commune.apply(try written(on: fixture, hub, "INSERT INTO persons(id, full_name) VALUES ('p1', 'An');"))
        try commune.apply(try written(on: fixture, hub, "DELETE FROM persons WHERE id = 'p1';"))
        #expect(try fixture.rows("22499", "persons").isEmpty)
    }

    /// The district's store takes no column its schema lacks, and refuses the batch whole.
    /// (An office keeps such columns: `MigrationTests.anOfficeBehindItsHubKeepsNewerColumnsAndShowsThemOnceUpgraded`.)
    @Test func aBatchNamingAColumnTheDistrictsStoreLacksIsRefusedWhole() throws {
        let fixture = try ReplicaFixture()
        let writer = try fixture.create("22499")
        let district = try fixture.create("200", role: .district)
        let good = try written(on: fixture, writer, "INSERT INTO persons(id, full_name) VALUES ('p1', 'An');")
        let bad = Change(
            table: "persons", row: "p1", operation: .set(column: "shoe_size", value: .integer(42)),
            dot: Dot(replica: "22499", counter: 9_999), context: VersionVector(), timestamp: .zero)
        let before = try dump(fixture, "200")
        #expect(throws: ApplyError.unknownColumn(table: "persons", column: "shoe_size")) { try district.apply(good + [bad]) }
        #expect(try dump(fixture, "200") == before)
    }

    @Test func applyWaitsForAnOfficeProgramHoldingTheWriteLock() throws {
        let fixture = try ReplicaFixture()
        let hub = try fixture.create("200", role: .district)
        let commune = try fixture.create("22499")
        let changes = try written(on: fixture, hub, "INSERT INTO persons(id, full_name) VALUES ('p1', 'An');")
        // An office program holds a write transaction for about a second.
        let holder = try SQLiteShell.start(fixture.path("22499"), script: """
            BEGIN IMMEDIATE;
            INSERT INTO persons(id, full_name) VALUES ('local', 'Chi');
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT count(*) FROM n;
            COMMIT;
            """)
        Thread.sleep(forTimeInterval: 0.2)
        try commune.apply(changes)
        Programs.finish(holder, within: 120)
        #expect(holder.terminationStatus == 0)
        #expect(try fixture.rows("22499", "persons", "id") == "local\np1")
    }
}

/// Rules across rows checked on a replica itself, with the rules the hub would serve.
@Suite struct HamletTitleTests {
    @Test func aFourthHamletTitleOpensAReviewItemAndRemovingItClosesIt() throws {
        let fixture = try ReplicaFixture()
        let hub = try fixture.create("200", role: .district)
        try hub.adopt(RuleSet(version: 1, holding: HoldingRules(maxTitles: 2, maxHamletTitles: 3)))
        try SQLiteShell.run(fixture.path("200"), """
            INSERT INTO units(id, code, name, kind, parent_id) VALUES ('thon-1', '06913-01', 'Thôn Lý Quáng', 'hamlet', 'unit-06913');
            INSERT INTO titles(id, code, level) VALUES ('t1', 'bi_thu_chi_bo', 'hamlet'), ('t2', 'truong_thon', 'hamlet'),
                ('t3', 'truong_ban_cong_tac_mat_tran', 'hamlet'), ('t4', 'cong_an_vien', 'hamlet');
            INSERT INTO positions(id, commune_id, unit_id, title_id, seat_no, capacity) VALUES
                ('s1', 'unit-06913', 'thon-1', 't1', 1, 1), ('s2', 'unit-06913', 'thon-1', 't2', 1, 1), ('s3', 'unit-06913', 'thon-1', 't3', 1, 1);
            """)
        try hub.fold()
        #expect(try hub.conflicts().filter { $0.state != .closed }.isEmpty)
        try SQLiteShell.run(fixture.path("200"), "INSERT INTO positions(id, commune_id, unit_id, title_id, seat_no, capacity) VALUES ('s4', 'unit-06913', 'thon-1', 't4', 1, 1);")
        try hub.fold()
        let open = try hub.conflicts(state: .open)
        #expect(open.map(\.id) == ["units/thon-1/*hamlet_titles"])
        #expect(open.first?.chosen == "4 hamlet titles in one hamlet; at most 3 are allowed")
        try SQLiteShell.run(fixture.path("200"), "DELETE FROM positions WHERE id = 's4';")
        try hub.fold()
        #expect(try hub.conflicts(state: .open).isEmpty)
    }
}
