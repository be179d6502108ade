import Foundation
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
}
