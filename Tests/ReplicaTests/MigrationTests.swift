import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import Testing
import TestSupport

/// Opening a replica with a newer register schema upgrades it in place and keeps every row
/// and every captured change.
@Suite struct MigrationTests {
    /// The register as version 1 had it: persons without its last column (merged_into).
    static let olderSchema = RegisterSchema.latest.asOf(version: 1)
    static let newerSchema = RegisterSchema.latest

    /// Replaces `_sync_conflicts` by the table an older release created: with `kind` (its
    /// column definition) or, older still, without one.
    static func olderConflictsTable(kind: String?) -> String {
        """
        DROP TABLE _sync_conflicts;
        CREATE TABLE _sync_conflicts(
            tbl TEXT NOT NULL, pk TEXT NOT NULL, col TEXT NOT NULL, rule TEXT NOT NULL,
            sides TEXT NOT NULL, chosen TEXT NOT NULL, state TEXT NOT NULL,
            opened_hlc INTEGER NOT NULL, closed_hlc INTEGER, \(kind ?? "")
            PRIMARY KEY(tbl, pk, col)) WITHOUT ROWID;

        """
    }

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

    @Test func theEarlierSchemaIsTheLatestWithoutWhatCameLater() {
        let persons = Self.olderSchema.table(named: "persons")!.columns.map(\.name)
        #expect(persons == RegisterSchema.latest.table(named: "persons")!.columns.dropLast().map(\.name))
        #expect(Self.olderSchema.tables.map(\.name) == RegisterSchema.latest.tables.map(\.name))
    }

    /// An office whose syncd is a release behind its hub takes what the hub serves of columns
    /// it does not have: it keeps them in its merge state (digests agree with an up-to-date
    /// office, its deletes see those writes), shows them once upgraded, and the upgrade
    /// captures nothing as the office's own write.
    @Test func anOfficeBehindItsHubKeepsNewerColumnsAndShowsThemOnceUpgraded() throws {
        let fixture = try ReplicaFixture()
        let writer = try Replica.create(at: fixture.path("30001"), id: "30001", role: .commune, schema: Self.newerSchema)
        try writer.database.execute("""
            INSERT INTO persons(id, commune_id, full_name, merged_into) VALUES ('p1', 'u1', 'An', 'p0'), ('p2', 'u1', 'Bình', 'p0');
            """)
        try writer.fold()
        let served = try writer.capturedChanges()
        #expect(served.contains { $0.column == "merged_into" })

        let path = fixture.path("22499")
        let behind = try Replica.create(at: path, id: "22499", role: .commune, schema: Self.olderSchema)
        let current = try Replica.create(at: fixture.path("22500"), id: "22500", role: .commune, schema: Self.newerSchema)
        try behind.apply(served)
        try current.apply(served)
        #expect(try SQLiteShell.run(path, "SELECT id, full_name FROM persons ORDER BY id;") == "p1|An\np2|Bình")
        #expect(try behind.rowState(table: "persons", row: "p1")?.fields["merged_into"] != nil)
        #expect(try behind.digest(scope: nil) == current.digest(scope: nil))

        // Its delete saw the merged_into write it cannot show: the row is gone everywhere.
        try behind.database.execute("DELETE FROM persons WHERE id = 'p1'")
        try behind.fold()
        try current.apply(try behind.capturedChanges())
        #expect(try SQLiteShell.run(current.database.path, "SELECT id FROM persons ORDER BY id;") == "p2")

        let logged = try SQLiteShell.run(path, "SELECT count(*) FROM _sync_log;")
        let upgraded = try Replica(openingExisting: path, schema: Self.newerSchema)
        #expect(try upgraded.schemaVersion == Self.newerSchema.version)
        #expect(try SQLiteShell.run(path, "SELECT id, full_name, merged_into FROM persons ORDER BY id;") == "p2|Bình|p0")
        #expect(try SQLiteShell.run(path, "SELECT count(*) FROM _sync_log;") == logged)
        #expect(try upgraded.digest(scope: nil) == current.digest(scope: nil))
    }

    /// The district's store never takes a column its schema does not have.
    @Test func theDistrictsStoreRefusesAColumnItDoesNotHave() throws {
        let fixture = try ReplicaFixture()
        let writer = try Replica.create(at: fixture.path("30001"), id: "30001", role: .commune, schema: Self.newerSchema)
        try writer.database.execute("INSERT INTO persons(id, commune_id, merged_into) VALUES ('p1', 'u1', 'p0')")
        try writer.fold()
        let district = try Replica.create(at: fixture.path("200"), id: "200", role: .district, schema: Self.olderSchema)
        #expect(throws: ApplyError.unknownColumn(table: "persons", column: "merged_into")) { try district.apply(try writer.capturedChanges()) }
        #expect(try SQLiteShell.run(district.database.path, "SELECT count(*) FROM _sync_rows;") == "0")
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
        try SQLiteShell.run(path, Self.olderConflictsTable(kind: nil) + """
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

    /// A replica file written by a schema-1 release (persons without merged_into, conflicts
    /// checked against the four kinds of then) opens under schema 2: every row, captured
    /// change and conflict record kept, merged_into present and captured like any column, and
    /// the conflict table able to hold the new kinds.
    @Test func aSchemaOneReplicaOpensUnderSchemaTwo() throws {
        #expect(Self.newerSchema.version == 2)
        let fixture = try ReplicaFixture()
        let path = fixture.path("22499")
        let foldedBefore: [Change]
        do {
            let old = try Replica.create(at: path, id: "22499", role: .commune, schema: Self.olderSchema)
            try SQLiteShell.run(path, """
                INSERT INTO persons(id, commune_id, full_name, citizen_id) VALUES ('p1', 'u1', 'An', '022090000001'), ('p2', 'u1', 'Bình', NULL);
                INSERT INTO assignments(id, commune_id, person_id, position_id) VALUES ('a1', 'u1', 'p1', 's1');
                INSERT INTO evaluations(id, commune_id, person_id, year, rating) VALUES ('e1', 'u1', 'p2', 2024, 'good');
                """)
            try old.fold()
            foldedBefore = try old.capturedChanges()
        }
        // The conflict table as schema-1 files have it, with a record of each kind of then.
        try SQLiteShell.run(path, Self.olderConflictsTable(
            kind: "kind TEXT NOT NULL DEFAULT 'field' CHECK (kind IN ('field', 'seat', 'holding', 'quota')),") + """
            INSERT INTO _sync_conflicts VALUES
                ('persons', 'p1', 'full_name', 'review', '[]', '', 'open', 1, NULL, 'field'),
                ('positions', 's1', '*holders', 'review', '[]', 'a1', 'settled', 2, NULL, 'seat'),
                ('persons', 'p1', '*titles', 'review', '[]', 'too many', 'closed', 3, 4, 'holding'),
                ('units', 'u1', '*quota:cadre', 'review', '[]', 'over', 'open', 5, NULL, 'quota');
            """)
        // One write still unfolded when the new release opens the file.
        try SQLiteShell.run(path, "UPDATE persons SET phone = '0912' WHERE id = 'p2';")
        let recordsBefore = try SQLiteShell.run(path, "SELECT * FROM _sync_conflicts ORDER BY tbl, pk, col;")

        let upgraded = try Replica(openingExisting: path, schema: Self.newerSchema)
        #expect(try upgraded.schemaVersion == 2)
        let columns = try SQLiteShell.run(path, "SELECT group_concat(name, ' ') FROM pragma_table_info('persons');")
        #expect(columns.hasSuffix("status note merged_into"), "\(columns)")
        #expect(try SQLiteShell.run(path, "SELECT id, full_name, citizen_id, merged_into IS NULL FROM persons ORDER BY id;")
                == "p1|An|022090000001|1\np2|Bình||1")
        #expect(try SQLiteShell.run(path, "SELECT person_id FROM assignments; SELECT rating FROM evaluations;") == "p1\ngood")
        #expect(try SQLiteShell.run(path, "SELECT * FROM _sync_conflicts ORDER BY tbl, pk, col;") == recordsBefore)
        #expect(try upgraded.conflicts().map(\.kind) == [.holding, .field, .seat, .quota])
        // The table takes the new kinds now; an unknown one is still refused.
        try SQLiteShell.run(path, """
            INSERT INTO _sync_conflicts(tbl, pk, col, rule, sides, chosen, state, opened_hlc, kind)
            VALUES ('persons', 'p1', '*duplicate:p2', 'review', '[]', '', 'open', 6, 'duplicate'),
                   ('persons', 'p2', '*placement', 'review', '[]', '', 'open', 6, 'placement');
            """)
        #expect(throws: (any Error).self) {
            try SQLiteShell.run(path, "INSERT INTO _sync_conflicts(tbl, pk, col, rule, sides, chosen, state, opened_hlc, kind) VALUES ('x', 'y', 'z', 'r', '[]', '', 'open', 1, 'other');")
        }

        // Every change captured before is still there, the unfolded one folds, and the new
        // column is captured like the others.
        try SQLiteShell.run(path, "UPDATE persons SET merged_into = 'p1', status = 'merged' WHERE id = 'p2';")
        try upgraded.fold()
        let changes = try upgraded.capturedChanges()
        #expect(Array(changes.prefix(foldedBefore.count)) == foldedBefore)
        #expect(changes.dropFirst(foldedBefore.count).map(\.operation) == [
            .set(column: "phone", value: .text("0912")),
            .set(column: "status", value: .text("merged")), .set(column: "merged_into", value: .text("p1")),
        ])
        // Opening again changes nothing.
        _ = try Replica(openingExisting: path, schema: Self.newerSchema)
        #expect(try SQLiteShell.run(path, "SELECT count(*) FROM _sync_conflicts;") == "6")
    }
}
