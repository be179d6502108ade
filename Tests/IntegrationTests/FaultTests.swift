import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import Testing
import TestSupport

/// The hub killed with SIGKILL while communes push and pull: they back off, resume, and at
/// the end every change is at the hub exactly once.
@Suite(.serialized) struct FaultTests {
    @Test func killingTheHubMidRoundLosesNothingAndAppliesNothingTwice() throws {
        let cluster = try SyncCluster(label: "hubkill")
        let communes = try ["06913", "06916"].map { try cluster.addCommune($0, interval: 0.1) }
        for commune in communes { try commune.start() }
        #expect(eventually { communes.allSatisfy(\.hasUnits) })

        let writer = Thread {
            for batch in 0..<12 {
                for commune in communes {
                    let rows = (0..<40).map { index in
                        "INSERT INTO persons(id, commune_id, full_name, phone) VALUES ('p-\(commune.code)-\(batch)-\(index)', '\(commune.unit)', 'Người \(batch)-\(index)', '09\(index)');"
                    }
                    _ = try? SQLiteShell.run(commune.database, "BEGIN;\n" + rows.joined(separator: "\n") + "\nCOMMIT;")
                }
                Thread.sleep(forTimeInterval: 0.15)
            }
        }
        writer.start()
        var kills = 0
        for _ in 0..<4 {
            Thread.sleep(forTimeInterval: Double.random(in: 0.2...0.6))
            cluster.hub.kill()
            kills += 1
            Thread.sleep(forTimeInterval: Double.random(in: 0.1...0.5))
            try cluster.hub.start()
        }
        while writer.isExecuting { Thread.sleep(forTimeInterval: 0.1) }
        #expect(kills == 4)

        #expect(eventually(timeout: 60) {
            try communes.allSatisfy { try scopeContent($0.database, unit: $0.unit) == scopeContent(cluster.hub.database, unit: $0.unit) }
        })
        let duplicated = try SQLiteShell.run(cluster.hub.database,
            "SELECT count(*) FROM (SELECT origin, counter FROM _sync_hub_feed GROUP BY origin, counter HAVING count(*) > 1);")
        #expect(duplicated == "0", "a dot was applied twice at the hub")
        for commune in communes {
            #expect(try SQLiteShell.run(commune.database, "SELECT count(*) FROM persons;") == "480")
            let written = Set(try Replica(openingExisting: commune.database).capturedChanges().map(\.dot.counter))
            let atHub = Set(try SQLiteShell.run(cluster.hub.database, "SELECT counter FROM _sync_hub_feed WHERE origin = '\(commune.code)';")
                .split(separator: "\n").compactMap { UInt64($0) })
            #expect(written.count == 480 * RegisterSchema.current.table(named: "persons")!.columns.count, "one change per column of each row")
            #expect(written == atHub, "the hub's dots of \(commune.code) differ from what it wrote")
        }
    }
}

/// Bad links: every connection between the daemons and the hub goes through a proxy that
/// delays, drops requests mid-body, cuts replies short or resets. The daemons back off,
/// resume and converge; nothing is lost or held twice.
@Suite(.serialized) struct BadLinkTests {
    @Test func daemonsConvergeThroughALinkThatDropsTruncatesDelaysAndResets() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        let cluster = try SyncCluster(label: "badlink")
        let proxy = try FaultyProxy(targetPort: cluster.hub.port, seed: seed)
        let communes = try ["06913", "06916"].map { try cluster.addCommune($0, interval: 0.1, hubPort: proxy.port) }
        for commune in communes { try commune.start() }
        #expect(eventually { communes.allSatisfy(\.hasReplica) })
        for batch in 0..<40 {
            for commune in communes {
                let rows = (0..<25).map {
                    "INSERT INTO persons(id, commune_id, full_name, note) VALUES ('p-\(commune.code)-\(batch)-\($0)', '\(commune.unit)', 'Người \($0)', '\(String(repeating: "ghi chú ", count: 20))');"
                }
                try SQLiteShell.run(commune.database, "BEGIN;\n" + rows.joined(separator: "\n") + "\nCOMMIT;")
            }
            try SQLiteShell.run(cluster.hub.database, "UPDATE persons SET phone = 'd\(batch)' WHERE id = 'p-06913-\(batch / 2)-0';")
            Thread.sleep(forTimeInterval: 0.25)
        }
        let faults = proxy.faultCounts
        // The link heals; everything must arrive.
        proxy.faulty = false
        let converged = eventually(timeout: 90) {
            try communes.allSatisfy { try scopeContent($0.database, unit: $0.unit) == scopeContent(cluster.hub.database, unit: $0.unit) }
        }
        #expect(converged, "seed \(seed): no convergence after faults \(faults)")
        for fault in FaultyProxy.Fault.allCases {
            #expect(faults[fault, default: 0] >= 3, "seed \(seed): too few connections got \(fault): \(faults)")
        }
        #expect(try SQLiteShell.run(cluster.hub.database,
            "SELECT count(*) FROM (SELECT origin, counter FROM _sync_hub_feed GROUP BY origin, counter HAVING count(*) > 1);") == "0")
        for commune in communes {
            #expect(try SQLiteShell.run(commune.database, "SELECT count(*) FROM persons;") == "1000")
        }
        print("bad link faults: \(faults) (seed \(seed))")
    }
}
