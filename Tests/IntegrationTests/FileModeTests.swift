import Foundation
import MergeEngine
import Register
import Replica
import Testing
import TestSupport

/// Outside systemd (no UMask= to help), replica and hub files are created for their owner and
/// group only, whatever the creating process's umask.
@Suite struct FileModeTests {
    static func mode(_ path: String) throws -> Int {
        ((try FileManager.default.attributesOfItem(atPath: path))[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func aReplicaIsCreated0660EvenUnderAnOpenUmask() throws {
        let directory = try TemporaryDirectory("modes")
        let path = directory.path("06913.db")
        let created = try Programs.runSystem("/bin/sh", ["-c", "umask 000; exec \"$0\" init --database \"$1\" --replica 06913", Programs.path("syncctl"), path])
        #expect(created.status == 0, "\(created.output)")
        #expect(try Self.mode(path) == 0o660)
        // While a connection holds it open, the write-ahead log exists; it takes the file's mode.
        let open = try SQLiteDatabase(path: path, create: false)
        try open.run("INSERT INTO persons(id, full_name) VALUES ('p1', 'An')")
        #expect(try Self.mode(path + "-wal") == 0o660, "the write-ahead log follows the file")

        // A file someone made with sqlite3 before the first start is adopted with the mode too.
        let early = directory.path("early.db")
        _ = try Programs.runSystem("/bin/sh", ["-c", "umask 022; exec sqlite3 \"$0\" 'PRAGMA user_version = 0; VACUUM;'", early])
        #expect(try Self.mode(early) == 0o644)
        #expect(try Programs.run("syncctl", ["init", "--database", early, "--replica", "06913"]).status == 0)
        #expect(try Self.mode(early) == 0o660)
    }

    @Test func theHubsReplicaAndCredentialTableAreNotForEveryone() throws {
        let directory = try TemporaryDirectory("hub-modes")
        let config = directory.path("hub.toml")
        try "replica = \"200\"\ndatabase = \"\(directory.path("hub.db"))\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let issued = try Programs.runSystem("/bin/sh", ["-c", "umask 000; exec \"$0\" credential issue --config \"$1\" --replica 06913 --scope unit-06913", Programs.path("synchub"), config])
        #expect(issued.status == 0, "\(issued.output)")
        #expect(try Self.mode(directory.path("hub.db")) == 0o660)
    }
}
