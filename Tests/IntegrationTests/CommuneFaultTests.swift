import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import Testing
import TestSupport

/// Bad conditions at the commune: a damaged or foreign replica file, a full disk. Each gets
/// a clear error, nothing is corrupted, and sync resumes once the cause is gone.
@Suite(.serialized) struct CommuneFaultTests {
    @Test func aDamagedReplicaIsNamedAndTheOfficeRecoversFromTheHub() throws {
        let cluster = try SyncCluster(label: "damaged")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        try SQLiteShell.run(commune.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-06913', 'An');")
        #expect(eventually { try scopeContent(commune.database, unit: commune.unit) == scopeContent(cluster.hub.database, unit: commune.unit) })
        #expect(commune.terminate() == 0)

        // The file's first page is overwritten (a disk or a careless program did it).
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: commune.database))
        handle.write(Data((0..<512).map { UInt8(truncatingIfNeeded: $0 &* 31) }))
        try handle.close()
        try? FileManager.default.removeItem(atPath: commune.database + "-wal")
        let attempt = try Programs.run("syncd", ["--config", commune.config])
        #expect(attempt.status != 0)
        #expect(attempt.output.contains("is damaged"), "\(attempt.output)")
        #expect(attempt.output.contains("move it aside"))

        // The technician moves it aside as told: syncd rebuilds from the hub.
        try FileManager.default.moveItem(atPath: commune.database, toPath: commune.database + ".damaged")
        try commune.start()
        #expect(eventually { try scopeContent(commune.database, unit: commune.unit) == scopeContent(cluster.hub.database, unit: commune.unit) })
        #expect(try SQLiteShell.run(commune.database, "SELECT full_name FROM persons;") == "An")
    }

    @Test func anotherCommunesReplicaIsRefused() throws {
        let cluster = try SyncCluster(label: "foreign")
        let own = try cluster.addCommune("06913")
        let other = try cluster.addCommune("06916")
        #expect(try other.syncOnce().status == 0)
        try FileManager.default.copyItem(atPath: other.database, toPath: own.database)
        let attempt = try own.syncOnce()
        #expect(attempt.status != 0)
        #expect(attempt.output.contains("is the replica of 06916, but commune.toml says replica = 06913"), "\(attempt.output)")
        #expect(try SQLiteShell.run(own.database, "PRAGMA integrity_check;") == "ok")
    }

    @Test func aFullDiskFailsCleanlyAndSyncResumesWhenSpaceIsFreed() throws {
        let cluster = try SyncCluster(label: "fulldisk")
        let mount = cluster.directory.path("small-disk")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let mounted = try Programs.runSystem("/bin/mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mount])
        #expect(mounted.status == 0, "the full-disk test needs to mount a small tmpfs (run as root): \(mounted.output)")
        defer { _ = try? Programs.runSystem("/bin/umount", ["-l", mount]) }
        let commune = try cluster.addCommune("06913", database: mount + "/06913.db")
        try commune.start()
        #expect(eventually { commune.hasUnits })

        // Fill the disk.
        _ = try Programs.runSystem("/bin/dd", ["if=/dev/zero", "of=\(mount)/filler", "bs=64k", "count=2000"])
        let refused = #expect(throws: SQLiteShell.Failure.self) {
            try SQLiteShell.run(commune.database, """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
                INSERT INTO persons(id, commune_id, full_name, note) SELECT 'big-' || i, 'unit-06913', 'Người ' || i, hex(randomblob(64)) FROM n;
                """)
        }
        #expect(refused?.standardError.contains("full") == true, "\(String(describing: refused))")
        // The district writes meanwhile: the commune cannot store it yet, and says why.
        try SQLiteShell.run(cluster.hub.database, """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
            INSERT INTO persons(id, commune_id, full_name, note) SELECT 'd-' || i, 'unit-06913', 'Cán bộ ' || i, hex(randomblob(32)) FROM n;
            """)
        #expect(eventually(timeout: 30) { (try commune.status().json["last_error"] as? String)?.contains("disk holding the replica is full") == true })
        #expect(try SQLiteShell.run(commune.database, "PRAGMA integrity_check;") == "ok")

        // Space comes back: everything arrives, and the office can write again.
        try FileManager.default.removeItem(atPath: mount + "/filler")
        #expect(eventually(timeout: 60) { try scopeContent(commune.database, unit: commune.unit) == scopeContent(cluster.hub.database, unit: commune.unit) })
        try SQLiteShell.run(commune.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('after', 'unit-06913', 'Sau');")
        #expect(eventually { try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM persons WHERE id = 'after';") == "1" })
        #expect(try SQLiteShell.run(commune.database, "SELECT count(*) FROM persons WHERE id LIKE 'big-%';") == "0")
    }
}
