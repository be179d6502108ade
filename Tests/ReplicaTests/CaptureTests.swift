import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import Testing
import TestSupport

/// Writes made with plain SQL by the real sqlite3 shell, in a separate process, are captured
/// with the expected changes, dots and contexts.
@Suite struct CaptureTests {
    let personColumns = RegisterSchema.current.table(named: "persons")!.columns.map(\.name)

    @Test func anInsertCapturesEveryColumnEachWithItsOwnDot() throws {
        let fixture = try ReplicaFixture()
        let replica = try fixture.create("22499")
        try SQLiteShell.run(fixture.path("22499"), "INSERT INTO persons(id, full_name, phone) VALUES ('p1', 'Nguyễn Văn An', '0901');")
        try replica.fold()
        let changes = try replica.capturedChanges()
        #expect(changes.count == personColumns.count)
        #expect(changes.map(\.column) == personColumns)
        #expect(Set(changes.map(\.dot)).count == changes.count)
        #expect(changes.map(\.dot.counter) == changes.map(\.dot.counter).sorted())
        #expect(changes.allSatisfy { $0.dot.replica == "22499" && $0.table == "persons" && $0.row == "p1" })
        let byColumn = Dictionary(uniqueKeysWithValues: changes.map { ($0.column!, $0) })
        #expect(byColumn["full_name"]?.operation == .set(column: "full_name", value: .text("Nguyễn Văn An")))
        #expect(byColumn["phone"]?.operation == .set(column: "phone", value: .text("0901")))
        #expect(byColumn["email"]?.operation == .set(column: "email", value: .null))
        // A new row: the writer had seen nothing of it but its own earlier writes.
        for change in changes {
            #expect(change.context == VersionVector(["22499": change.dot.counter - 1]))
        }
    }

    @Test func anUpdateCapturesOnlyTheChangedColumnsWithTheRowAsContext() throws {
        let fixture = try ReplicaFixture()
        let replica = try fixture.create("22499")
        try SQLiteShell.run(fixture.path("22499"), "INSERT INTO persons(id, full_name, phone) VALUES ('p1', 'An', '0901');")
        try replica.fold()
        let inserted = try replica.capturedChanges()
        try SQLiteShell.run(fixture.path("22499"), "UPDATE persons SET phone = '0902', degree = 'university' WHERE id = 'p1';")
        try replica.fold()
        let updated = try replica.capturedChanges(after: inserted.last!.dot.counter)
        #expect(updated.map(\.column) == ["phone", "degree"])
        #expect(updated.map(\.operation) == [
            .set(column: "phone", value: .text("0902")), .set(column: "degree", value: .text("university")),
        ])
        #expect(updated.allSatisfy { $0.context.covers(inserted.last!.dot) })
        #expect(updated[0].dot.counter > inserted.last!.dot.counter)
    }

    @Test func anUpdateThatChangesNothingRecordsNothing() throws {
        let fixture = try ReplicaFixture()
        let replica = try fixture.create("22499")
        try SQLiteShell.run(fixture.path("22499"), """
            INSERT INTO persons(id, phone) VALUES ('p1', '0901');
            UPDATE persons SET phone = '0901' WHERE id = 'p1';
            UPDATE persons SET phone = phone;
            """)
        try replica.fold()
        #expect(try replica.capturedChanges().count == personColumns.count)
    }

    @Test func aDeleteCapturesOneTombstoneThatSawTheRow() throws {
        let fixture = try ReplicaFixture()
        let replica = try fixture.create("22499")
        try SQLiteShell.run(fixture.path("22499"), "INSERT INTO trainings(id, course) VALUES ('t1', 'Quản lý nhà nước');")
        try replica.fold()
        let inserted = try replica.capturedChanges()
        try SQLiteShell.run(fixture.path("22499"), "DELETE FROM trainings WHERE id = 't1';")
        try replica.fold()
        let deleted = try replica.capturedChanges(after: inserted.last!.dot.counter)
        #expect(deleted.count == 1)
        #expect(deleted.first?.operation == .delete)
        #expect(inserted.allSatisfy { deleted.first!.context.covers($0.dot) })
    }

    @Test func aCommuneRefusesLocalWritesToReferenceTables() throws {
        let fixture = try ReplicaFixture()
        _ = try fixture.create("22499")
        for sql in ["INSERT INTO units(id, name) VALUES ('u1', 'Thôn 1');", "INSERT INTO titles(id) VALUES ('t');",
                    "INSERT INTO quotas(id) VALUES ('q');"] {
            let error = #expect(throws: SQLiteShell.Failure.self) { try SQLiteShell.run(fixture.path("22499"), sql) }
            #expect(error?.standardError.contains("managed by the district hub; ask the district office to change them") == true)
        }
        #expect(try fixture.rows("22499", "units").isEmpty)
        #expect(try SQLiteShell.run(fixture.path("22499"), "SELECT count(*) FROM _sync_log;") == "0")
    }

    @Test func theDistrictHubWritesReferenceTables() throws {
        let fixture = try ReplicaFixture()
        let hub = try fixture.create("200", role: .district)
        try SQLiteShell.run(fixture.path("200"), "INSERT INTO units(id, code, name, kind) VALUES ('u1', '07111', 'Xã Quảng Tân', 'commune');")
        try hub.fold()
        #expect(try hub.capturedChanges().contains { $0.operation == .set(column: "name", value: .text("Xã Quảng Tân")) })
    }

    @Test func aRowsIdCannotChange() throws {
        let fixture = try ReplicaFixture()
        _ = try fixture.create("22499")
        try SQLiteShell.run(fixture.path("22499"), "INSERT INTO persons(id) VALUES ('p1');")
        let error = #expect(throws: SQLiteShell.Failure.self) {
            try SQLiteShell.run(fixture.path("22499"), "UPDATE persons SET id = 'p2';")
        }
        #expect(error?.standardError.contains("never changes") == true)
    }

    @Test func anInsertWithoutAnIdMintsOne() throws {
        let fixture = try ReplicaFixture()
        let replica = try fixture.create("22499")
        try SQLiteShell.run(fixture.path("22499"), "INSERT INTO persons(full_name) VALUES ('Lê Thị Chi'), ('Lê Văn Dũng');")
        let ids = try SQLiteShell.run(fixture.path("22499"), "SELECT id FROM persons;").split(separator: "\n")
        #expect(ids.count == 2 && Set(ids).count == 2 && ids.allSatisfy { $0.count == 32 })
        try replica.fold()
        #expect(Set(try replica.capturedChanges().map(\.row)) == Set(ids.map(String.init)))
    }

    @Test func aLocalWriteAfterARemoteOneCarriesItInItsContext() throws {
        let fixture = try ReplicaFixture()
        let commune = try fixture.create("22499")
        let hub = try fixture.create("200", role: .district)
        try SQLiteShell.run(fixture.path("200"), "INSERT INTO persons(id, full_name) VALUES ('p1', 'An');")
        try hub.fold()
        let fromHub = try hub.capturedChanges()
        try commune.apply(fromHub)
        try SQLiteShell.run(fixture.path("22499"), "UPDATE persons SET phone = '0901' WHERE id = 'p1';")
        try commune.fold()
        let local = try commune.capturedChanges()
        #expect(local.count == 1)
        #expect(fromHub.allSatisfy { local[0].context.covers($0.dot) })
    }
}
