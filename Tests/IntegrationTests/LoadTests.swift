import Foundation
import MergeEngine
import Register
import Replica
import SyncClient
import SyncCore
import Testing
import TestSupport

/// 200 communes, each a real replica file with its own libcurl session, writing and syncing
/// concurrently against one synchub process. No round may fail, and every commune must end
/// holding exactly its scope as the hub holds it. Prints rounds per second and latency
/// percentiles (figures, not asserts). 3 rounds each by default, 10 with COMMUNESYNC_LONG=1.
@Suite(.serialized) struct LoadTests {
    static let communes = 200
    static let rounds = ProcessInfo.processInfo.environment["COMMUNESYNC_LONG"] == nil ? 3 : 10

    @Test func twoHundredCommunesSyncConcurrentlyWithoutErrorsAndConverge() throws {
        let cluster = try SyncCluster(label: "load")
        let codes = (0..<Self.communes).map { String(format: "L%04d", $0) }
        let units = codes.map { "unit-\($0)" }
        let credentials = try zip(codes, units).map { code, unit in
            let issued = try Programs.run("synchub", ["credential", "issue", "--config", cluster.hub.config, "--replica", code, "--scope", unit])
            #expect(issued.status == 0)
            return issued.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let results = LoadResults()
        let start = Date()
        let threads = (0..<Self.communes).map { index in
            Thread {
                do {
                    let path = cluster.directory.path("\(codes[index]).db")
                    let replica = try Replica.create(at: path, id: ReplicaID(rawValue: codes[index])!, role: .commune)
                    let session = try SyncSession(replica: replica, hubURL: cluster.hub.url, credential: credentials[index],
                                                  connectTimeoutSeconds: 10, requestTimeoutSeconds: 120)
                    for round in 0..<Self.rounds {
                        try replica.database.run(
                            "INSERT INTO persons(id, commune_id, full_name, phone) VALUES (?, ?, ?, ?)",
                            [.text("p-\(codes[index])-\(round)"), .text(units[index]), .text("Người \(round)"), .text("09\(round)")])
                        let began = Date()
                        _ = try session.round()
                        results.record(latency: Date().timeIntervalSince(began))
                    }
                } catch {
                    results.record(error: "\(codes[index]): \(error)")
                }
                results.finish()
            }
        }
        threads.forEach { $0.start() }
        #expect(results.waitForAll(Self.communes, timeout: 600))
        let elapsed = Date().timeIntervalSince(start)
        #expect(results.errors.isEmpty, "\(results.errors.prefix(5))")

        // Converged: the hub holds every commune's rows, and one more round at each commune
        // brings nothing new.
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM persons;") == "\(Self.communes * Self.rounds)")
        for index in stride(from: 0, to: Self.communes, by: 37) {
            let path = cluster.directory.path("\(codes[index]).db")
            #expect(try scopeContent(path, unit: units[index]) == scopeContent(cluster.hub.database, unit: units[index]))
        }
        let latencies = results.latencies.sorted()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 1000 }
        print(String(format: "load: %d communes x %d rounds = %d rounds in %.1f s: %.1f rounds/s; latency p50 %.0f ms, p99 %.0f ms, max %.0f ms; errors %d",
                     Self.communes, Self.rounds, latencies.count, elapsed, Double(latencies.count) / elapsed,
                     percentile(0.5), percentile(0.99), (latencies.last ?? 0) * 1000, results.errors.count))
    }
}

/// Figures gathered from many threads.
final class LoadResults: @unchecked Sendable {
    // @unchecked: every property is guarded by `condition`.
    private let condition = NSCondition()
    private var storedLatencies: [Double] = []
    private var storedErrors: [String] = []
    private var finished = 0

    var latencies: [Double] { condition.withLock { storedLatencies } }
    var errors: [String] { condition.withLock { storedErrors } }

    func record(latency: Double) { condition.withLock { storedLatencies.append(latency) } }
    func record(error: String) { condition.withLock { storedErrors.append(error) } }

    func finish() {
        condition.withLock {
            finished += 1
            condition.broadcast()
        }
    }

    func waitForAll(_ count: Int, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while finished < count {
                if !condition.wait(until: deadline) { return false }
            }
            return true
        }
    }
}
