import Foundation
import Testing
import TestSupport

/// `synchub backup` as the nightly timer runs it: a copy taken while offices push, put back,
/// and every office healthy and equal to the hub again within a few rounds. Real synchub,
/// real syncd processes.
@Suite(.serialized) struct HubBackupTests {
    func backup(_ cluster: SyncCluster, to target: String, keep: Int = 14) throws -> (status: Int32, output: String) {
        try Programs.run("synchub", ["backup", "--config", cluster.hub.config, "--to", target, "--keep", String(keep)])
    }

    func count(_ database: String, _ sql: String = "SELECT count(*) FROM persons;") throws -> Int {
        Int(try SQLiteShell.run(database, sql)) ?? -1
    }

    @Test func aBackupTakenWhileOfficesPushIsPutBackAndEveryOfficeIsWholeAgain() throws {
        let cluster = try SyncCluster(label: "backup")
        let offices = try ["06913", "06916"].map { try cluster.addCommune($0, digestInterval: 0.5) }
        for office in offices { #expect(try office.syncOnce().status == 0) }
        for office in offices { try office.start() }
        defer { for office in offices { office.stop() } }
        // Offices type while the copy is taken.
        let typing = Thread {
            for index in 0..<40 {
                for office in offices {
                    _ = try? SQLiteShell.run(office.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-\(office.code)-\(index)', '\(office.unit)', 'Người \(index)');")
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        typing.start()
        Thread.sleep(forTimeInterval: 0.5)
        let directory = cluster.directory.path("backups") + "/"
        let taken = try backup(cluster, to: directory)
        #expect(taken.status == 0, "\(taken.output)")
        #expect(taken.output.contains("district.key is not in the copy"), "\(taken.output)")
        let copies = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix("Z.db") }
        #expect(copies.count == 1, "\(copies)")
        let copy = directory + copies[0]
        #expect(try SQLiteShell.run(copy, "PRAGMA quick_check;") == "ok")
        while typing.isExecuting || !typing.isFinished { Thread.sleep(forTimeInterval: 0.1) }
        // After the copy: the district adds a person that reaches the first office.
        try SQLiteShell.run(cluster.hub.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-district', 'unit-06913', 'Người của huyện');")
        #expect(eventually(timeout: 60) {
            let officesHave = try offices.allSatisfy { try count($0.database) == 40 + ($0.code == "06913" ? 1 : 0) }
            return try officesHave && count(cluster.hub.database) == 81
        }, "every office's rows reach the hub before the restore")
        // The district's person reached the first office by a pull (so it keeps the change, sealed,
        // to give back), not only by a digest repair, which installs the row's state and keeps no
        // change: a hub put back inside that window cannot take the row back, and the office
        // stays DEGRADED naming it (see the README, "Backups").
        #expect(eventually(timeout: 60) {
            try count(offices[0].database, "SELECT count(*) FROM _sync_district_changes WHERE pk = 'p-district';") > 0
        }, "the first office pulled the district's person")
        let atCopy = try count(copy)
        #expect(atCopy < 81, "the copy was taken while offices typed (it holds \(atCopy) persons)")

        // The hub is put back from the copy, as the README says.
        cluster.hub.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: cluster.hub.database + suffix) }
        try FileManager.default.copyItem(atPath: copy, toPath: cluster.hub.database)
        try cluster.hub.start()
        #expect(eventually(timeout: 60) {
            let all = try count(cluster.hub.database)
            let district = try count(cluster.hub.database, "SELECT count(*) FROM persons WHERE id = 'p-district';")
            return all == 81 && district == 1
        }, "the offices gave back what the copy lacked: \((try? count(cluster.hub.database)) ?? -1) persons at the hub")
        for office in offices {
            #expect(eventually(timeout: 60) {
                let (json, exit) = try office.status()
                return exit == 0 && json["unacked_changes"] as? Int == 0 && json["digest_differing_rows"] as? Int == 0
            }, "\(office.code): \(String(describing: try? office.status().json))")
        }

        // Retention: the newest --keep copies stay.
        for _ in 0..<2 {
            Thread.sleep(forTimeInterval: 1.1)
            #expect(try backup(cluster, to: directory, keep: 2).status == 0)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix("Z.db") }.count == 2)
    }

    @Test func aHubOnPostgreSQLIsToldToUsePgDump() throws {
        let directory = try TemporaryDirectory("backup-pg")
        let config = directory.path("hub.toml")
        try "replica = \"200\"\n[store]\nkind = \"postgresql\"\nurl = \"postgresql://nobody@127.0.0.1:1/none\"\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let refused = try Programs.run("synchub", ["backup", "--config", config, "--to", directory.path("copy.db")])
        #expect(refused.status != 0 && refused.output.contains("pg_dump"), "\(refused.output)")
    }
}
