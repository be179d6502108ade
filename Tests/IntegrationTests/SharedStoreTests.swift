import Foundation
import Register
import Testing
import TestSupport

/// Two synchub processes on one PostgreSQL database ([store] kind = "postgresql"), offices
/// syncing with either: what an office sends through one hub reaches the offices of its
/// commune that sync with the other, and the seat rule holds everywhere.
@Suite struct SharedStoreTests {
    @Test func officesOfOneCommuneOnTwoHubsConvergeThroughTheirDatabase() throws {
        let url = try PostgresTestServer.newDatabase()
        let directory = try TemporaryDirectory("shared-store")
        let hubs = try ["hub-a", "hub-b"].map { name in
            let hub = try HubNode(directory: directory, name: name, rules: "version = 2\n[seats]\nrule = \"later-decision-wins\"\n")
            try hub.configure("[store]\nkind = \"postgresql\"\nurl = \"\(url)\"\npool_size = 4")
            return hub
        }
        for hub in hubs { try hub.start() }
        defer { for hub in hubs { hub.stop() } }
        try PostgresTestServer.psql(url, """
            INSERT INTO units(id, code, name, kind) VALUES ('unit-A', '30001', 'Xã A', 'commune'), ('unit-B', '30002', 'Xã B', 'commune');
            INSERT INTO positions(id, commune_id, unit_id, capacity) VALUES ('seat-A', 'unit-A', 'unit-A', 1), ('seat-B', 'unit-B', 'unit-B', 1);
            """)
        // Two offices per commune, each pair split over the two hubs.
        let plan: [(code: String, unit: String, hub: Int)] = [
            ("30001", "unit-A", 0), ("30001b", "unit-A", 1), ("30002", "unit-B", 1), ("30002b", "unit-B", 0),
        ]
        let offices = try plan.map { office in
            let node = try CommuneNode(code: office.code, directory: directory, hubURL: hubs[office.hub].url, interval: 0.3)
            try hubs[1 - office.hub].issueCredential(for: office.code, into: node.credentialPath, scope: office.unit)
            try node.start()
            return node
        }
        defer { for office in offices { office.stop() } }
        #expect(eventually { offices.allSatisfy(\.hasReplica) })
        for (index, office) in offices.enumerated() {
            let unit = plan[index].unit
            try SQLiteShell.run(office.database, (0..<20).map { row in
                "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-\(office.code)-\(row)', '\(unit)', 'Người \(row)');"
            }.joined() + """
                INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, decision_date, start_date)
                VALUES ('as-\(office.code)', '\(unit)', 'p-\(office.code)-0', 'seat-\(unit.suffix(1))', '\(index)/QĐ', '2024-0\(index + 1)-01', '2024-09-01');
                """)
        }
        for (index, office) in offices.enumerated() {
            let unit = plan[index].unit
            let expected = plan.filter { $0.unit == unit }.flatMap { other in (0..<20).map { "p-\(other.code)-\($0)" } }.sorted()
            let converged = eventually(timeout: 60) {
                let held = try SQLiteShell.run(office.database, "SELECT id FROM persons ORDER BY id;").split(separator: "\n").map(String.init)
                let active = try SQLiteShell.run(
                    office.database, "SELECT count(*) FROM assignments WHERE end_date IS NULL OR end_date = '';")
                return held.sorted() == expected && active == "1"
            }
            #expect(converged, "\(office.code) holds every person of \(unit) and one holder of its seat")
        }
        // The later decision kept each seat; every dot is in the feed once.
        let holders = try PostgresTestServer.psql(
            url, "SELECT id FROM assignments WHERE end_date IS NULL OR end_date = '' ORDER BY id")
        #expect(holders.split(separator: "\n") == ["as-30001b", "as-30002b"])
        let repeated = try PostgresTestServer.psql(url, "SELECT origin, counter FROM _sync_hub_feed GROUP BY 1, 2 HAVING count(*) > 1")
        #expect(repeated.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }

    /// A rolling upgrade of the hubs on one database: a hub of the previous register schema
    /// keeps serving while one of the next has upgraded the tables. The older hub leaves the
    /// district's writes of the newer column for the newer hub to fold and never writes over
    /// that column; an office of the previous schema syncs through either hub.
    @Test func hubsOfTwoAdjacentSchemasShareOneDatabaseDuringARollingUpgrade() throws {
        let previous = [RegisterSchema.rehearsalVariable: String(RegisterSchema.latest.version - 1)]
        let url = try PostgresTestServer.newDatabase()
        let directory = try TemporaryDirectory("rolling-upgrade")
        let hubs = try ["hub-old", "hub-new"].map { name in
            let hub = try HubNode(directory: directory, name: name)
            try hub.configure("[store]\nkind = \"postgresql\"\nurl = \"\(url)\"\npool_size = 4")
            return hub
        }
        hubs[0].environment = previous
        try hubs[0].start()
        defer { for hub in hubs { hub.stop() } }
        try PostgresTestServer.psql(url, "INSERT INTO units(id, code, name, kind) VALUES ('unit-A', '30001', 'Xã A', 'commune');")
        let behind = try CommuneNode(code: "30001", directory: directory, hubURL: hubs[0].url, interval: 0.3)
        try hubs[0].issueCredential(for: "30001", into: behind.credentialPath, scope: "unit-A")
        try behind.start(environment: previous)
        defer { behind.stop() }
        #expect(eventually { behind.hasReplica }, "\((try? String(contentsOfFile: behind.log, encoding: .utf8)) ?? "")")
        try SQLiteShell.run(behind.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-A', 'An'), ('p2', 'unit-A', 'Bình');")
        #expect(eventually { try PostgresTestServer.psql(url, "SELECT count(*) FROM persons").trimmingCharacters(in: .whitespacesAndNewlines) == "2" })
        #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'persons' AND column_name = 'merged_into'")
            .trimmingCharacters(in: .whitespacesAndNewlines) == "0")

        // The newer hub starts on the same database and upgrades its tables; the older one runs on.
        try hubs[1].start()
        #expect(try PostgresTestServer.psql(url, "SELECT value FROM _sync_meta WHERE key = 'schema_version'")
            .trimmingCharacters(in: .whitespacesAndNewlines) == String(RegisterSchema.latest.version))
        let ahead = try CommuneNode(code: "30001b", directory: directory, hubURL: hubs[1].url, interval: 0.3)
        try hubs[1].issueCredential(for: "30001b", into: ahead.credentialPath, scope: "unit-A")
        try ahead.start()
        defer { ahead.stop() }
        #expect(eventually { try SQLiteShell.run(ahead.database, "SELECT count(*) FROM persons;") == "2" })
        // Only the older hub runs now (the newer one is restarted below, as in a rolling restart).
        ahead.stop()
        hubs[1].stop()
        // District staff merge a duplicate in plain SQL: a write of the newer column.
        try PostgresTestServer.psql(url, "UPDATE persons SET merged_into = 'p2', status = 'merged' WHERE id = 'p1'")
        // The office behind edits the same person through the older hub, again and again.
        let acked = try SQLiteShell.run(behind.database, "SELECT value FROM _sync_meta WHERE key = 'push_acked';")
        for round in 0..<5 {
            try SQLiteShell.run(behind.database, "UPDATE persons SET phone = '0912000\(round)' WHERE id = 'p1';")
            Thread.sleep(forTimeInterval: 0.3)
        }
        #expect(eventually { try SQLiteShell.run(behind.database, "SELECT value FROM _sync_meta WHERE key = 'push_acked';") != acked })
        // The older hub merged the office's pushes and left the staff's write for the newer one.
        let unfolded = try PostgresTestServer.psql(url, "SELECT count(*) FROM _sync_log WHERE hlc IS NULL AND tbl = 'persons'")
        #expect(unfolded.trimmingCharacters(in: .whitespacesAndNewlines) == "1", """
            unfolded: \(unfolded); log: \((try? PostgresTestServer.psql(url, "SELECT seq, tbl, pk, op, cols, hlc, block FROM _sync_log ORDER BY seq")) ?? "")
            newer hub: \((try? String(contentsOfFile: hubs[1].log, encoding: .utf8)) ?? "")
            """)
        try hubs[1].start()
        try ahead.start()
        let settled = "09120004|p2|merged"
        #expect(eventually(timeout: 60) {
            try PostgresTestServer.psql(url, "SELECT phone || '|' || coalesce(merged_into, '') || '|' || coalesce(status, '') FROM persons WHERE id = 'p1'")
                .trimmingCharacters(in: .whitespacesAndNewlines) == settled
        }, "\((try? PostgresTestServer.psql(url, "SELECT * FROM persons WHERE id = 'p1'")) ?? "")")
        #expect(eventually(timeout: 60) {
            try SQLiteShell.run(ahead.database, "SELECT phone || '|' || coalesce(merged_into, '') || '|' || coalesce(status, '') FROM persons WHERE id = 'p1';") == settled
        }, "\((try? SQLiteShell.run(ahead.database, "SELECT * FROM persons WHERE id = 'p1';")) ?? "") log: \((try? PostgresTestServer.psql(url, "SELECT seq, tbl, pk, op, cols, hlc, block FROM _sync_log ORDER BY seq")) ?? "")")
        // The office behind has the merge in its merge state, not in its table.
        #expect(eventually(timeout: 60) {
            try SQLiteShell.run(behind.database, "SELECT count(*) FROM _sync_fields WHERE tbl = 'persons' AND pk = 'p1' AND col = 'merged_into';") == "1"
                && SQLiteShell.run(behind.database, "SELECT status FROM persons WHERE id = 'p1';") == "merged"
        })

        // The older hub restarted as the newer release: everything still as it was, every dot fed once.
        hubs[0].stop()
        hubs[0].environment = [:]
        try hubs[0].start()
        try SQLiteShell.run(behind.database, "UPDATE persons SET full_name = 'Nguyễn Văn An' WHERE id = 'p1';")
        #expect(eventually(timeout: 60) {
            try SQLiteShell.run(ahead.database, "SELECT full_name || '|' || merged_into FROM persons WHERE id = 'p1';") == "Nguyễn Văn An|p2"
        })
        let repeated = try PostgresTestServer.psql(url, "SELECT origin, counter FROM _sync_hub_feed GROUP BY 1, 2 HAVING count(*) > 1")
        #expect(repeated.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }
}
