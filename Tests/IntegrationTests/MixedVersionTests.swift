import Foundation
import Register
import Replica
import Testing
import TestSupport

/// A rolling upgrade, with real processes: the hub and the offices start on the previous
/// register schema (`COMMUNESYNC_REGISTER_SCHEMA`, files made by it), then are upgraded one
/// by one. An office upgraded before its hub holds its changes and says why; the hub upgraded
/// before an office keeps syncing with it both ways; the office behind keeps the newer
/// column's values it cannot show, so its writes and deletes never undo them, and shows them
/// once upgraded.
@Suite(.serialized) struct MixedVersionTests {
    static let previous = RegisterSchema.latest.version - 1
    static let speakPrevious = [RegisterSchema.rehearsalVariable: String(previous)]

    @Test func aHubUpgradedBeforeAnOfficeKeepsSyncingWithItBothWays() throws {
        let cluster = try SyncCluster(label: "mixed-versions", hubEnvironment: Self.speakPrevious)
        let behind = try cluster.addCommune("06913")
        let ahead = try CommuneNode(code: "06913b", directory: cluster.directory, hubURL: cluster.hub.url, interval: 0.3)
        try cluster.hub.issueCredential(for: "06913b", into: ahead.credentialPath, scope: "unit-06913")
        defer { ahead.stop() }
        for office in [behind, ahead] { try office.start(environment: Self.speakPrevious) }
        #expect(eventually { behind.hasUnits && ahead.hasUnits })
        func columns(_ database: String) throws -> String {
            try SQLiteShell.run(database, "SELECT group_concat(name) FROM pragma_table_info('persons') WHERE name = 'merged_into';")
        }
        func schema(_ database: String) throws -> String {
            try SQLiteShell.run(database, "SELECT value FROM _sync_meta WHERE key = 'schema_version';")
        }
        for database in [cluster.hub.database, behind.database, ahead.database] {
            #expect(try schema(database) == String(Self.previous) && columns(database).isEmpty, "\(database) was made by the previous release")
        }
        try SQLiteShell.run(behind.database, """
            INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-06913', 'An'), ('p2', 'unit-06913', 'Bình');
            """)
        #expect(eventually { try SQLiteShell.run(ahead.database, "SELECT count(*) FROM persons;") == "2" })

        // An office upgraded before its hub: its changes are held, and it says why.
        ahead.stop()
        try ahead.start()
        #expect(eventually { try schema(ahead.database) == String(RegisterSchema.latest.version) })
        try SQLiteShell.run(ahead.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p5', 'unit-06913', 'Dũng');")
        #expect(eventually {
            let error = try ahead.status().json["last_error"] as? String ?? ""
            return error.contains("a later release's") && error.contains("upgrade the hub")
        }, "\((try? ahead.status().json) ?? [:])")
        let held = try ahead.status().json
        #expect(held["state"] as? String != "healthy" && (held["unacked_rows"] as? Int ?? 0) >= 1, "\(held)")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM persons WHERE id = 'p5';") == "0")

        // The hub upgraded: the held change arrives, and the office behind goes on both ways.
        cluster.hub.stop()
        cluster.hub.environment = [:]
        try cluster.hub.start()
        #expect(try schema(cluster.hub.database) == String(RegisterSchema.latest.version))
        #expect(eventually { try SQLiteShell.run(behind.database, "SELECT count(*) FROM persons WHERE id = 'p5';") == "1" })
        try SQLiteShell.run(behind.database, "UPDATE persons SET phone = '0912000111' WHERE id = 'p1';")
        #expect(eventually { try SQLiteShell.run(ahead.database, "SELECT phone FROM persons WHERE id = 'p1';") == "0912000111" })

        // The newer column, written where it exists, reaches the office behind unseen.
        try SQLiteShell.run(ahead.database, """
            UPDATE persons SET merged_into = 'p2', status = 'merged' WHERE id = 'p1';
            INSERT INTO persons(id, commune_id, full_name, merged_into) VALUES ('p3', 'unit-06913', 'Chi', 'p2'), ('p4', 'unit-06913', 'Giang', 'p2');
            """)
        #expect(eventually { try SQLiteShell.run(behind.database, "SELECT group_concat(id || ':' || coalesce(status, ''), ',') FROM (SELECT * FROM persons WHERE id IN ('p1', 'p3', 'p4') ORDER BY id);") == "p1:merged,p3:,p4:" })
        // The office behind edits a row and deletes another; neither undoes what it cannot show.
        try SQLiteShell.run(behind.database, "UPDATE persons SET phone = '0987' WHERE id = 'p4'; DELETE FROM persons WHERE id = 'p3';")
        for database in [cluster.hub.database, ahead.database] {
            #expect(eventually {
                try SQLiteShell.run(database, "SELECT group_concat(id || ':' || coalesce(phone, '') || ':' || coalesce(merged_into, ''), ' ') FROM (SELECT * FROM persons ORDER BY id);")
                    == "p1:0912000111:p2 p2:: p4:0987:p2 p5::"
            }, "\(database): \((try? SQLiteShell.run(database, "SELECT id, phone, merged_into FROM persons ORDER BY id;")) ?? "")")
        }

        // Both sides say an upgrade is pending.
        #expect(eventually { try behind.status().json["hub_schema_version"] as? Int == RegisterSchema.latest.version })
        let pending = try behind.status()
        #expect(pending.json["schema_version"] as? Int == Self.previous && pending.json["state"] as? String == "degraded", "\(pending.json)")
        #expect((pending.json["hint"] as? String ?? "").contains("keeps syncing"), "\(pending.json)")
        let text = try Programs.run("syncctl", ["status", "--config", behind.config, "--lang", "en"]).output
        #expect(text.contains("the hub keeps register \(RegisterSchema.latest.version)"), "\(text)")
        #expect(eventually(timeout: 20) {
            try Programs.run("synchub", ["offices", "--config", cluster.hub.config]).output.contains("keeps register schema \(Self.previous)")
        }, "\((try? Programs.run("synchub", ["offices", "--config", cluster.hub.config]).output) ?? "")")

        // The office behind holds the same merge state as the one ahead: equal digests.
        #expect(eventually {
            let mine = try Replica(openingExisting: behind.database, schema: RegisterSchema.latest.asOf(version: Self.previous), access: .readOnly)
            let theirs = try Replica(openingExisting: ahead.database, access: .readOnly)
            return try mine.digest(scope: nil) == theirs.digest(scope: nil)
        })

        // Upgraded at last: it shows what it kept, and captured nothing in doing so.
        behind.stop()
        let logged = try SQLiteShell.run(behind.database, "SELECT count(*) FROM _sync_log;")
        try behind.start()
        #expect(eventually { try schema(behind.database) == String(RegisterSchema.latest.version) })
        #expect(try SQLiteShell.run(behind.database, "SELECT group_concat(id || ':' || coalesce(merged_into, ''), ' ') FROM (SELECT * FROM persons ORDER BY id);")
                == "p1:p2 p2: p4:p2 p5:")
        #expect(try SQLiteShell.run(behind.database, "SELECT count(*) FROM _sync_log;") == logged)
        #expect(eventually {
            let status = try behind.status().json
            return status["state"] as? String == "healthy" && status["unacked_rows"] as? Int == 0
        }, "\((try? behind.status().json) ?? [:])")
    }
}
