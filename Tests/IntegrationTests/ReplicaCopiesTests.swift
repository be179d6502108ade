import Foundation
import Testing
import TestSupport

/// Two computers running copies of one replica file at once (the same replica id and
/// credential): each rebuilds itself from the hub after the other's pushes, losing nothing,
/// and `syncctl status` must say so and what to do instead of HEALTHY.
@Suite(.serialized) struct ReplicaCopiesTests {
    @Test func twoComputersRunningCopiesOfOneReplicaMakeStatusDegraded() throws {
        let cluster = try SyncCluster(label: "two-copies")
        let first = try cluster.addCommune("06913", interval: 0.3)
        try first.start()
        #expect(eventually { first.hasUnits })
        first.stop()
        // The second computer: a copy of the file and of the credential, its own syncd.
        let elsewhere = try TemporaryDirectory("two-copies-pc2")
        let second = try CommuneNode(code: "06913", directory: elsewhere, hubURL: cluster.hub.url, interval: 0.3)
        try SQLiteShell.run(first.database, ".backup '\(second.database)'")
        try FileManager.default.copyItem(atPath: first.credentialPath, toPath: second.credentialPath)
        try first.start()
        try second.start()
        defer { second.stop() }

        var told: (state: String, hint: String)?
        for round in 0..<15 where told == nil {
            for (name, office) in [("a", first), ("b", second)] {
                try SQLiteShell.run(office.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-\(name)-\(round)', 'unit-06913', 'Người \(round)');")
                Thread.sleep(forTimeInterval: 1)
            }
            for office in [first, second] {
                let (status, exitCode) = try office.status()
                if exitCode == 1, let hint = status["hint"] as? String, hint.contains("another computer") {
                    told = (status["state"] as? String ?? "", hint)
                }
            }
        }
        let last = (try? first.status().json).map { "\($0)" } ?? "-"
        let said = try #require(told, "syncctl status never said two copies run: \(last)")
        #expect(said.state == "degraded")
        #expect(said.hint.contains("rebuilt from the hub") && said.hint.contains("stop syncd on the other computer"), "\(said.hint)")
    }
}
