import Foundation
import Testing
import TestSupport

/// The district puts the hub back from last night's copy while offices and district staff
/// went on working (issue 21, item 6). Real synchub and syncd processes, SQLite hub.
@Suite(.serialized) struct HubRestoreTests {
    func person(_ id: String, _ unit: String, _ name: String) -> String {
        "INSERT INTO persons(id, commune_id, full_name, phone) VALUES ('\(id)', '\(unit)', '\(name)', '0900');"
    }

    func value(_ database: String, _ id: String, _ column: String = "full_name") throws -> String {
        try SQLiteShell.run(database, "SELECT \(column) FROM persons WHERE id = '\(id)';")
    }

    /// Every district counter a replica's merge state names.
    func districtCounters(_ database: String) throws -> [UInt64] {
        try SQLiteShell.run(database, "SELECT DISTINCT dot FROM _sync_fields WHERE dot LIKE '200:%';")
            .split(separator: "\n").compactMap { $0.split(separator: ":").last.flatMap { UInt64($0) } }
    }

    func converged(_ cluster: SyncCluster, _ commune: CommuneNode) throws -> Bool {
        try scopeContent(commune.database, unit: commune.unit) == scopeContent(cluster.hub.database, unit: commune.unit)
    }

    func healthy(_ commune: CommuneNode) throws -> Bool {
        let (json, exit) = try commune.status()
        return exit == 0 && json["unacked_changes"] as? Int == 0
    }

    /// Stops the hub, puts `copy` back in place of its database (nothing else: its
    /// district.key stays), starts it.
    func putBack(_ copy: String, _ cluster: SyncCluster) throws {
        cluster.hub.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: cluster.hub.database + suffix) }
        try FileManager.default.copyItem(atPath: copy, toPath: cluster.hub.database)
        try cluster.hub.start()
    }

    /// A copy of the hub's database taken while it is stopped, as a nightly backup would be.
    func copyHub(_ cluster: SyncCluster) throws -> String {
        cluster.hub.stop()
        let copy = cluster.hub.database + ".copy"
        try SQLiteShell.run(cluster.hub.database, ".backup '\(copy)'")
        try cluster.hub.start()
        return copy
    }

    @Test func officesGoOnAndTheHubTakesBackTheDistrictsChangesAfterItIsPutBackFromACopy() throws {
        let cluster = try SyncCluster(label: "hub-put-back")
        let typing = try cluster.addCommune("06913")
        let quiet = try cluster.addCommune("06916")
        for commune in [typing, quiet] { try commune.start() }
        #expect(eventually { typing.hasUnits && quiet.hasUnits })
        let key = URL(fileURLWithPath: cluster.hub.database).deletingLastPathComponent().appendingPathComponent("district.key").path
        let mode = (try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600, "the district's seal key is synchub's alone")
        try SQLiteShell.run(cluster.hub.database, person("p-d1", typing.unit, "Trước bản sao") + person("p-d2", quiet.unit, "Trước bản sao"))
        #expect(eventually { try value(typing.database, "p-d1") == "Trước bản sao" && value(quiet.database, "p-d2") == "Trước bản sao" })

        let copy = try copyHub(cluster)
        // After the copy: the district edits a person of one commune and adds one to the other;
        // the first office types on top of the district's edit.
        try SQLiteShell.run(cluster.hub.database, "UPDATE persons SET phone = '0911' WHERE id = 'p-d1';" + person("p-d3", quiet.unit, "Sau bản sao"))
        #expect(eventually { try value(typing.database, "p-d1", "phone") == "0911" && value(quiet.database, "p-d3") == "Sau bản sao" })
        try SQLiteShell.run(typing.database, "UPDATE persons SET degree = 'master' WHERE id = 'p-d1';")
        #expect(eventually { try value(cluster.hub.database, "p-d1", "degree") == "master" })
        let heldBefore = try (districtCounters(typing.database) + districtCounters(quiet.database)).max() ?? 0

        try putBack(copy, cluster)

        try SQLiteShell.run(typing.database, person("p-t1", typing.unit, "Gõ sau khi phục hồi"))

        // (a) The office that typed on top of a lost district write is not refused for ever
        // (before the district writes anything new, which would hide it by re-using counters).
        #expect(eventually { try value(cluster.hub.database, "p-t1") == "Gõ sau khi phục hồi" },
                "a write typed after the restore reaches the hub; the office's log:\n\((try? String(contentsOfFile: typing.log, encoding: .utf8))?.suffix(1500) ?? "")")
        try SQLiteShell.run(cluster.hub.database, person("p-d4", quiet.unit, "Huyện thêm sau phục hồi"))
        // (b) The district's person added after the restore reaches the office, under a
        // counter no office held before: no district counter is handed out twice.
        #expect(eventually { try value(quiet.database, "p-d4") == "Huyện thêm sau phục hồi" }, "the district's new person reaches the office")
        let newCounters = try SQLiteShell.run(cluster.hub.database, "SELECT dot FROM _sync_fields WHERE tbl = 'persons' AND pk = 'p-d4';")
            .split(separator: "\n").compactMap { $0.split(separator: ":").last.flatMap { UInt64($0) } }
        #expect(!newCounters.isEmpty && newCounters.allSatisfy { $0 > heldBefore }, "district counters \(newCounters) after the restore; offices held up to \(heldBefore)")
        // The offices give the district's lost changes back: the hub holds them again.
        #expect(eventually { try value(cluster.hub.database, "p-d3") == "Sau bản sao" }, "the hub takes back the district's person from the office")
        #expect(eventually { try value(cluster.hub.database, "p-d1", "phone") == "0911" }, "the hub takes back the district's edit")
        #expect(eventually { try converged(cluster, typing) && converged(cluster, quiet) })
        #expect(eventually { try healthy(typing) && healthy(quiet) }, "\((try? typing.status().json).map { "\($0)" } ?? "")")
        let feedDots = try SQLiteShell.run(cluster.hub.database, "SELECT count(*) - count(DISTINCT origin || ':' || counter) FROM _sync_hub_feed;")
        #expect(feedDots == "0", "no dot is held twice in the feed")
    }

    @Test func anOfficeThatDiffersFromAPutBackHubIsNeverHealthy() throws {
        let cluster = try SyncCluster(label: "hub-put-back-keyless")
        let quiet = try cluster.addCommune("06916")
        try quiet.start()
        #expect(eventually { quiet.hasUnits })
        let copy = try copyHub(cluster)
        try SQLiteShell.run(cluster.hub.database, person("p-d3", quiet.unit, "Sau bản sao"))
        #expect(eventually { try value(quiet.database, "p-d3") == "Sau bản sao" })
        #expect(eventually { try healthy(quiet) })
        // Put back with another district key: the hub cannot tell the office's copy of the
        // district's person from a made-up one, and does not take it.
        let key = URL(fileURLWithPath: cluster.hub.database).deletingLastPathComponent().appendingPathComponent("district.key").path
        try? FileManager.default.removeItem(atPath: key)
        try putBack(copy, cluster)
        Thread.sleep(forTimeInterval: 3)
        var readings: [Int32] = []
        for _ in 0..<10 {
            readings.append(try quiet.status().exitCode)
            Thread.sleep(forTimeInterval: 0.3)
        }
        #expect(try value(cluster.hub.database, "p-d3") == "")
        #expect(!readings.contains(0), "status while the office holds a person the hub lacks: \(readings)")
        let (json, exit) = try quiet.status()
        #expect(exit == 1)
        #expect((json["hint"] as? String)?.contains("district") == true, "\(json)")
    }

    /// The same with the hub's store in PostgreSQL: the database is copied while synchub is
    /// stopped (a template copy, as a dump and restore would give) and put back the same way.
    @Test func aPostgreSQLHubPutBackFromACopyTakesBackTheDistrictsChangesAndBlocksNoOffice() throws {
        let url = try PostgresTestServer.newDatabase()
        // Another database to run CREATE and DROP DATABASE from (not while connected to the hub's).
        let admin = try PostgresTestServer.newDatabase()
        let name = String(url[url.index(after: url.lastIndex(of: "/")!)...])
        let directory = try TemporaryDirectory("hub-put-back-pg")
        let hub = try HubNode(directory: directory, name: "hub")
        try hub.configure("[store]\nkind = \"postgresql\"\nurl = \"\(url)\"\npool_size = 4")
        try hub.start()
        defer { hub.stop() }
        func atHub(_ sql: String) throws -> String {
            try PostgresTestServer.psql(url, sql).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try PostgresTestServer.psql(url, "INSERT INTO units(id, code, name, kind) VALUES ('unit-A', '30001', 'Xã A', 'commune'), ('unit-B', '30002', 'Xã B', 'commune');")
        let offices = try [("30001", "unit-A"), ("30002", "unit-B")].map { code, unit in
            let node = try CommuneNode(code: code, directory: directory, hubURL: hub.url, interval: 0.3)
            try hub.issueCredential(for: code, into: node.credentialPath, scope: unit)
            try node.start()
            return node
        }
        defer { for office in offices { office.stop() } }
        let (typing, quiet) = (offices[0], offices[1])
        try PostgresTestServer.psql(url, person("p-d1", "unit-A", "Trước bản sao") + person("p-d2", "unit-B", "Trước bản sao"))
        #expect(eventually { try value(typing.database, "p-d1") == "Trước bản sao" && value(quiet.database, "p-d2") == "Trước bản sao" })

        hub.stop()
        try PostgresTestServer.psql(admin, "CREATE DATABASE \(name)_copy TEMPLATE \(name)")
        try hub.start()
        try PostgresTestServer.psql(url, "UPDATE persons SET phone = '0911' WHERE id = 'p-d1';" + person("p-d3", "unit-B", "Sau bản sao"))
        #expect(eventually { try value(typing.database, "p-d1", "phone") == "0911" && value(quiet.database, "p-d3") == "Sau bản sao" })
        try SQLiteShell.run(typing.database, "UPDATE persons SET degree = 'master' WHERE id = 'p-d1';")
        #expect(eventually { try atHub("SELECT degree FROM persons WHERE id = 'p-d1'") == "master" })

        hub.stop()
        // (Checked on the copy itself: once the hub is back, the offices may give p-d3 back at once.)
        let copyURL = String(url[..<url.lastIndex(of: "/")!]) + "/\(name)_copy"
        #expect(try PostgresTestServer.psql(copyURL, "SELECT count(*) FROM persons WHERE id = 'p-d3'").trimmingCharacters(in: .whitespacesAndNewlines) == "0",
                "the copy predates the district's new person")
        try PostgresTestServer.psql(admin, "DROP DATABASE \(name)")
        try PostgresTestServer.psql(admin, "CREATE DATABASE \(name) TEMPLATE \(name)_copy")
        try hub.start()
        try SQLiteShell.run(typing.database, person("p-t1", "unit-A", "Gõ sau khi phục hồi"))
        #expect(eventually { try atHub("SELECT full_name FROM persons WHERE id = 'p-t1'") == "Gõ sau khi phục hồi" },
                "a write typed after the restore reaches the hub")
        try PostgresTestServer.psql(url, person("p-d4", "unit-B", "Huyện thêm sau phục hồi"))
        #expect(eventually { try value(quiet.database, "p-d4") == "Huyện thêm sau phục hồi" }, "the district's new person reaches the office")
        #expect(eventually { try atHub("SELECT full_name FROM persons WHERE id = 'p-d3'") == "Sau bản sao" })
        #expect(eventually { try atHub("SELECT phone FROM persons WHERE id = 'p-d1'") == "0911" })
        #expect(eventually { try healthy(typing) && healthy(quiet) }, "\((try? quiet.status().json).map { "\($0)" } ?? "")")
        #expect(try atHub("SELECT count(*) FROM (SELECT origin, counter FROM _sync_hub_feed GROUP BY 1, 2 HAVING count(*) > 1) d") == "0")
    }
}
