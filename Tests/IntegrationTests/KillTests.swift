import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import Testing
import TestSupport

/// SIGKILL syncd and synchub at random instants while offices and the district write, while
/// pushes and pulls run, and while a new office bootstraps from a multi-page snapshot; restart
/// them; at the end every change written anywhere is on every replica of its scope, and no
/// dot is held twice by the hub. 50 kills in the default (CI) mode, 200 with
/// COMMUNESYNC_LONG=1.
@Suite(.serialized) struct KillTests {
    static let kills = ProcessInfo.processInfo.environment["COMMUNESYNC_LONG"] == nil ? 50 : 200

    @Test func randomKillsOfHubAndDaemonsLoseNothingAndDuplicateNothing() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SeededGenerator(seed: seed)
        let cluster = try SyncCluster(label: "kills")
        let writers = try ["06913", "06916"].map { try cluster.addCommune($0, interval: 0.1) }
        // A new office whose scope already holds 1,500 people at the hub: its snapshot takes
        // several pages, and it is killed while bootstrapping.
        let newcomer = try cluster.addCommune("06910", interval: 0.1)
        try SQLiteShell.run(cluster.hub.database, """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500)
            INSERT INTO persons(id, commune_id, full_name) SELECT 'p-06910-' || i, 'unit-06910', 'Người ' || i FROM n;
            """)
        for commune in writers + [newcomer] { try commune.start() }

        let stop = StopSignal()
        let writer = Thread {
            var batch = 0
            while !stop.isSet {
                for commune in writers {
                    _ = try? SQLiteShell.run(commune.database, """
                        BEGIN;
                        INSERT INTO persons(id, commune_id, full_name, phone) VALUES ('p-\(commune.code)-\(batch)', '\(commune.unit)', 'Người \(batch)', '09\(batch)');
                        UPDATE persons SET note = 'lần \(batch)' WHERE id = 'p-\(commune.code)-\(batch / 2)';
                        COMMIT;
                        """)
                }
                _ = try? SQLiteShell.run(cluster.hub.database, "UPDATE persons SET phone = 'd\(batch)' WHERE id = 'p-06913-\(batch / 3)';")
                batch += 1
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        writer.start()

        let nodes: [(String, () -> Void, () throws -> Void)] =
            [("hub", cluster.hub.kill, cluster.hub.start)]
            + (writers + [newcomer]).map { commune in (commune.code, commune.kill, { try commune.start() }) }
        var killed: [String: Int] = [:]
        for _ in 0..<Self.kills {
            Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.35, using: &random))
            let (name, kill, start) = nodes.randomElement(using: &random)!
            kill()
            killed[name, default: 0] += 1
            Thread.sleep(forTimeInterval: Double.random(in: 0...0.2, using: &random))
            try start()
        }
        stop.set()
        while writer.isExecuting { Thread.sleep(forTimeInterval: 0.05) }
        #expect(killed.values.reduce(0, +) == Self.kills)
        #expect(killed["hub", default: 0] > 0, "seed \(seed): the hub was never killed")

        let everyone = writers + [newcomer]
        let converged = eventually(timeout: 120) {
            try everyone.allSatisfy { try scopeContent($0.database, unit: $0.unit) == scopeContent(cluster.hub.database, unit: $0.unit) }
        }
        #expect(converged, "seed \(seed): replicas did not converge; kills \(killed)")
        #expect(try SQLiteShell.run(cluster.hub.database,
            "SELECT count(*) FROM (SELECT origin, counter FROM _sync_hub_feed GROUP BY origin, counter HAVING count(*) > 1);") == "0",
            "seed \(seed): a dot is held twice at the hub")
        for commune in writers {
            let written = Set(try Replica(openingExisting: commune.database).capturedChanges().map(\.dot.counter))
            let atHub = Set(try SQLiteShell.run(cluster.hub.database, "SELECT counter FROM _sync_hub_feed WHERE origin = '\(commune.code)';")
                .split(separator: "\n").compactMap { UInt64($0) })
            #expect(!written.isEmpty && written == atHub, "seed \(seed): \(commune.code) wrote \(written.count) changes, the hub holds \(atHub.count)")
        }
        #expect(try SQLiteShell.run(newcomer.database, "SELECT count(*) FROM persons;") == "1500")
        print("kills: \(killed) (seed \(seed))")
    }
}

/// A flag one thread sets and another reads.
final class StopSignal: @unchecked Sendable {
    // @unchecked: guarded by the lock.
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
