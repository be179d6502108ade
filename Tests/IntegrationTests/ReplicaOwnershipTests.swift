import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import Testing
import TestSupport

/// Who may change a replica's layout: syncd (and `syncctl init`) alone. Readers open it
/// read-only; an upgrade by a newer syncd keeps every change not yet at the hub.
@Suite(.serialized) struct ReplicaOwnershipTests {
    /// What an older release's register looked like: persons without its last column.
    static let olderSchema = RegisterSchema(version: 0, tables: RegisterSchema.current.tables.map { table in
        guard table.name == "persons" else { return table }
        return TableSchema(name: table.name, summary: table.summary, owner: table.owner, columns: Array(table.columns.dropLast()))
    })

    /// Turns a current replica file into the one the older release would have left: the last
    /// persons column gone, triggers for the older layout, schema 0.
    static func makeOlder(_ path: String) throws {
        try SQLiteShell.run(path, """
            SELECT 'DROP TRIGGER ' || name || ';' FROM sqlite_master WHERE type = 'trigger' AND name LIKE '\\_sync\\_%' ESCAPE '\\'
            """).split(separator: "\n").forEach { try SQLiteShell.run(path, String($0)) }
        try SQLiteShell.run(path, "ALTER TABLE persons DROP COLUMN merged_into; UPDATE _sync_meta SET value = 0 WHERE key = 'schema_version';")
        _ = try Replica(openingExisting: path, schema: olderSchema)
    }

    static func schemaVersion(_ path: String) throws -> String {
        try SQLiteShell.run(path, "SELECT value FROM _sync_meta WHERE key = 'schema_version';")
    }

    @Test func readersChangeNothingAndANewerSyncctlNeverUpgradesTheFile() throws {
        let cluster = try SyncCluster(label: "readers")
        let commune = try cluster.addCommune("06913")
        #expect(try commune.syncOnce().status == 0)
        try Self.makeOlder(commune.database)
        try SQLiteShell.run(commune.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-06913', 'An');")
        let before = try SQLiteShell.run(commune.database, ".dump")

        let log = try Programs.run("syncctl", ["log", "--database", commune.database])
        #expect(log.status == 0 && log.output.contains("added  persons p1  [syncd has not picked it up yet]"), "\(log.output)")
        #expect(try Programs.run("syncctl", ["conflicts", "--all", "--config", commune.config]).status == 0)
        #expect(try Programs.run("syncctl", ["status", "--config", commune.config]).status == 2, "down: no daemon")
        // No daemon, and the file is older: syncctl sync refuses to upgrade it under anyone.
        let sync = try Programs.run("syncctl", ["sync", "--config", commune.config])
        #expect(sync.status != 0 && sync.output.contains("only syncd upgrades"), "\(sync.output)")
        #expect(try SQLiteShell.run(commune.database, ".dump") == before, "a reader changed the file")
        #expect(try Self.schemaVersion(commune.database) == "0")
    }

    @Test func upgradingWhileOfflineWithPendingChangesLosesNothing() throws {
        let cluster = try SyncCluster(label: "upgrade")
        let commune = try cluster.addCommune("06913", interval: 0.2)
        try commune.start()
        #expect(eventually { commune.hasUnits })
        try SQLiteShell.run(commune.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-06913', 'An');")
        #expect(eventually { try commune.status().json["unacked_changes"] as? Int == 0 })
        commune.stop()
        // The older release ran here, and the office kept writing with the hub away.
        try Self.makeOlder(commune.database)
        cluster.hub.stop()
        try SQLiteShell.run(commune.database, """
            INSERT INTO persons(id, commune_id, full_name) VALUES ('p2', 'unit-06913', 'Bình');
            UPDATE persons SET phone = '0901' WHERE id = 'p1';
            """)
        // The newer syncd is installed and started while the hub is still away.
        try commune.start()
        #expect(eventually { try Self.schemaVersion(commune.database) == String(RegisterSchema.current.version) })
        #expect(eventually { try commune.status().json["unacked_changes"] as? Int ?? 0 > 0 })
        try SQLiteShell.run(commune.database, "UPDATE persons SET merged_into = 'p1' WHERE id = 'p2';")
        try cluster.hub.start()
        #expect(eventually { try commune.status().json["unacked_changes"] as? Int == 0 })
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT id, full_name, phone, merged_into FROM persons ORDER BY id;")
            == "p1|An|0901|\np2|Bình||p1")
    }
}
