import Foundation
import Replica
import SyncCore
import Testing
import TestSupport

/// Opening a replica with a newer register schema upgrades it in place and keeps every row
/// and every captured change.
@Suite struct MigrationTests {
    /// The current register as version 1 was: persons without its last column.
    static let olderSchema: RegisterSchema = {
        let current = RegisterSchema.current
        return RegisterSchema(version: 1, tables: current.tables.map { table in
            guard table.name == "persons" else { return table }
            return TableSchema(name: table.name, summary: table.summary, owner: table.owner, columns: Array(table.columns.dropLast()))
        })
    }()
    static let newerSchema = RegisterSchema(version: 2, tables: RegisterSchema.current.tables)

    @Test func openingWithANewerSchemaAddsColumnsAndKeepsTheLog() throws {
        let fixture = try ReplicaFixture()
        let path = fixture.path("22499")
        do {
            let old = try Replica.create(at: path, id: "22499", role: .commune, schema: Self.olderSchema)
            try SQLiteShell.run(path, "INSERT INTO persons(id, full_name) VALUES ('p1', 'An');")
            try old.fold()
            #expect(try old.schemaVersion == 1)
        }
        // One captured write still unfolded when the upgrade happens.
        try SQLiteShell.run(path, "UPDATE persons SET full_name = 'Nguyễn Văn An' WHERE id = 'p1';")
        let upgraded = try Replica(openingExisting: path, schema: Self.newerSchema)
        #expect(try upgraded.schemaVersion == 2)
        try SQLiteShell.run(path, "UPDATE persons SET note = 'kiêm nhiệm' WHERE id = 'p1';")
        try upgraded.fold()
        let changes = try upgraded.capturedChanges()
        let olderColumns = Self.olderSchema.table(named: "persons")!.columns.count
        #expect(changes.count == olderColumns + 2)
        #expect(changes.contains { $0.operation == .set(column: "full_name", value: .text("Nguyễn Văn An")) })
        #expect(changes.last?.operation == .set(column: "note", value: .text("kiêm nhiệm")))
        #expect(try SQLiteShell.run(path, "SELECT full_name, note FROM persons;") == "Nguyễn Văn An|kiêm nhiệm")
    }

    @Test func aReplicaFromANewerReleaseIsNotOpened() throws {
        let fixture = try ReplicaFixture()
        let path = fixture.path("22499")
        _ = try Replica.create(at: path, id: "22499", role: .commune, schema: Self.newerSchema)
        #expect(throws: ReplicaError.newerSchema(path: path, found: 2, supported: 1)) {
            try Replica(openingExisting: path, schema: Self.olderSchema)
        }
    }

    @Test func aFileThatIsNoReplicaIsNamedAsSuch() throws {
        let fixture = try ReplicaFixture()
        let path = fixture.path("foreign")
        try SQLiteShell.run(path, "CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        #expect(throws: ReplicaError.notAReplica(path: path)) { try Replica(openingExisting: path) }
        #expect(try SQLiteShell.run(path, "SELECT name FROM sqlite_master;") == "t")
    }

    @Test func aReplicaIsNotInitialisedTwice() throws {
        let fixture = try ReplicaFixture()
        _ = try fixture.create("22499")
        #expect(throws: ReplicaError.alreadyAReplica(path: fixture.path("22499"), replica: "22499")) {
            try Replica.create(at: fixture.path("22499"), id: "22502", role: .commune)
        }
    }

    /// Conflicts recorded before kinds had a column of their own (the kind was read from the
    /// column name) get their kind when the file is opened, and keep it.
    @Test func conflictsRecordedBeforeKindsGetTheirKind() throws {
        let fixture = try ReplicaFixture()
        let path = fixture.path("22499")
        _ = try Replica.create(at: path, id: "22499", role: .commune)
        // The table as files written before this change have it, with one record of each kind.
        try SQLiteShell.run(path, """
            DROP TABLE _sync_conflicts;
            CREATE TABLE _sync_conflicts(
                tbl TEXT NOT NULL, pk TEXT NOT NULL, col TEXT NOT NULL, rule TEXT NOT NULL,
                sides TEXT NOT NULL, chosen TEXT NOT NULL, state TEXT NOT NULL,
                opened_hlc INTEGER NOT NULL, closed_hlc INTEGER,
                PRIMARY KEY(tbl, pk, col)) WITHOUT ROWID;
            INSERT INTO _sync_conflicts VALUES
                ('persons', 'p1', 'full_name', 'review', '[]', '', 'open', 1, NULL),
                ('positions', 's1', '*holders', 'review', '[]', '', 'open', 1, NULL),
                ('persons', 'p1', '*titles', 'review', '[]', '', 'open', 1, NULL),
                ('units', 'u1', '*quota:cadre', 'review', '[]', '', 'open', 1, NULL);
            """)
        let reopened = try Replica(openingExisting: path)
        let kinds = Dictionary(uniqueKeysWithValues: try reopened.conflicts().map { ($0.column, $0.kind) })
        #expect(kinds == ["full_name": .field, "*holders": .seat, "*titles": .holding, "*quota:cadre": .quota])
        // Opening again changes nothing.
        let again = try Replica(openingExisting: path)
        #expect(try again.conflicts().map(\.kind) == reopened.conflicts().map(\.kind))
    }
}
