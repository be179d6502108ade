import Foundation
import Testing
import TestSupport

/// syncd's log as journald files it: a real syncd whose standard error is the stream
/// `JOURNAL_STREAM` names (as systemd starts it), a real hub that goes away.
@Suite(.serialized) struct DaemonLogTests {
    @Test func underJournaldFailedRoundsAreWarningsAndIdleRoundsAreNotLogged() throws {
        let cluster = try SyncCluster(label: "journal")
        let office = try cluster.addCommune("06913")
        #expect(try office.syncOnce().status == 0)
        _ = FileManager.default.createFile(atPath: office.log, contents: nil)  // emptied: syncd's lines only
        let file = try FileManager.default.attributesOfItem(atPath: office.log)
        let device = try #require(file[.systemNumber] as? NSNumber)
        let inode = try #require(file[.systemFileNumber] as? NSNumber)
        try office.start(environment: ["JOURNAL_STREAM": "\(device.uint64Value):\(inode.uint64Value)"])
        defer { office.stop() }
        try SQLiteShell.run(office.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-log', 'unit-06913', 'Nguyễn Văn Nhật');")
        #expect(eventually { try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM persons WHERE id = 'p-log';") == "1" })
        // Idle rounds every 0.3 s: none of them is logged at info.
        Thread.sleep(forTimeInterval: 3)
        cluster.hub.stop()
        #expect(eventually { (try String(contentsOfFile: office.log, encoding: .utf8)).contains("round failed") })
        office.stop()

        let lines = try String(contentsOfFile: office.log, encoding: .utf8).split(separator: "\n").map(String.init)
        let ours = lines.filter { $0.contains("syncd:") }
        #expect(!ours.isEmpty)
        #expect(ours.allSatisfy { $0.hasPrefix("<") && $0.dropFirst().first?.isNumber == true && $0.dropFirst(2).hasPrefix(">") },
                "every line starts with its priority: \(ours.prefix(5))")
        #expect(ours.contains { $0.hasPrefix("<4>") && $0.contains("round failed") }, "\(ours)")
        #expect(ours.contains { $0.hasPrefix("<6>") && $0.contains("started") })
        let rounds = ours.filter { $0.hasSuffix("] round") }
        #expect((1...3).contains(rounds.count), "only rounds that moved something are logged (about 10 ran): \(rounds)")
        #expect(!ours.contains { $0.first?.isNumber == true }, "no second timestamp")
    }
}
