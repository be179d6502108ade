import ArgumentParser
import Foundation
import Hub
import Logging
import Replica
import SyncClient
import SyncCore

/// End-to-end sync throughput on loopback: a commune replica holding `--rows` new person
/// records pushes them to a real hub (in this process, over HTTP through libcurl), from the
/// commune's commit to the hub's commit of the last batch. Beside it, plain SQLite inserts of
/// the same rows in the same run, counted in field values, and the compressed bytes each
/// change cost on the wire.
struct SyncBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Field changes per second from commune commit to hub commit, vs plain SQLite inserts.")

    @Option(help: "Person rows written at the commune (each is one change per column).")
    var rows = 10_000

    @Option(help: "Changes per push request.")
    var batch = 5_000

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncbench-sync-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let columns = RegisterSchema.current.table(named: "persons")!.columns.map(\.name)
        let insert = "INSERT INTO persons(id, \(columns.joined(separator: ", "))) VALUES (?\(String(repeating: ", ?", count: columns.count)))"
        let people = (0..<rows).map { index -> [Value] in
            var values = PersonFixture(index: index, round: 1).values
            values[1] = .text("unit-06913")
            return values
        }

        // Baseline: the same rows into plain SQLite, in one transaction per batch of rows.
        let plain = try SQLiteDatabase(path: directory.appendingPathComponent("plain.db").path)
        try plain.execute("PRAGMA journal_mode = WAL")
        try plain.execute(RegisterSchema.current.registerTablesSQL)
        let plainStart = ContinuousClock.now
        for chunk in stride(from: 0, to: people.count, by: 500) {
            try plain.transaction { for person in people[chunk..<min(chunk + 500, people.count)] { try plain.run(insert, person) } }
        }
        let plainPerSecond = Double(rows * columns.count) / seconds(since: plainStart)

        // A hub on a free port, the commune's credential, the commune's rows.
        var logger = Logger(label: "synchub")
        logger.logLevel = .warning
        let store = try HubStore(path: directory.appendingPathComponent("hub.db").path, district: "200")
        let ports = PortBox()
        let app = try HubServer.application(store: store, host: "127.0.0.1", port: 0, logger: logger) { await ports.set($0) }
        let server = Task { try await app.runService() }
        let port = await ports.wait()
        let credential = try await store.issueCredential(for: "06913", scope: "unit-06913")

        let communePath = directory.appendingPathComponent("06913.db").path
        let commune = try Replica.create(at: communePath, id: "06913", role: .commune)
        try commune.database.transaction { for person in people { try commune.database.run(insert, person) } }

        // Push everything: fold, encode, gzip, HTTP, validate, merge, feed, acknowledge.
        let (elapsed, report) = try await onThread {
            let replica = try Replica(openingExisting: communePath)
            let session = try SyncSession(
                replica: replica, hubURL: "http://127.0.0.1:\(port)", credential: credential, batchChanges: batch)
            let start = ContinuousClock.now
            try replica.fold()
            let folded = seconds(since: start)
            try session.push()
            let total = seconds(since: start)
            print(String(format: "  of which folding at the commune: %.2f s, pushing and applying at the hub: %.2f s", folded, total - folded))
            return (total, session.lastReport)
        }
        server.cancel()
        let changes = rows * columns.count
        let perSecond = Double(changes) / elapsed
        let atHub = try await store.receivedCounter(of: "06913")
        guard report.pushed == changes, atHub > 0 else {
            throw ValidationError("pushed \(report.pushed) of \(changes) changes; the hub holds up to \(atHub)")
        }
        let wireBytes = Double(report.bytesSent) / Double(changes)
        print("\(rows) person rows = \(changes) field changes, pushed in batches of \(batch) over HTTP on loopback")
        print(String(format: "plain SQLite inserts:        %10.0f field values/s", plainPerSecond))
        print(String(format: "commune commit -> hub commit: %10.0f field changes/s  (ratio %.3f; target >= 50000/s)", perSecond, perSecond / plainPerSecond))
        print(String(format: "wire: %.1f bytes per change compressed (%d requests, %d bytes; target <= 30)", wireBytes, report.requests, report.bytesSent))
        print(String(format: #"{"changes_per_s": %.0f, "plain_insert_per_s": %.0f, "ratio": %.4f, "wire_bytes_per_change": %.2f}"#,
                     perSecond, plainPerSecond, perSecond / plainPerSecond, wireBytes))
    }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Runs blocking work (libcurl, SQLite) on a thread of its own, off Swift's cooperative pool
/// where the in-process hub runs.
private func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// The port the hub bound, handed from its start-up callback to the benchmark.
private actor PortBox {
    private var port: Int?
    private var waiting: [CheckedContinuation<Int, Never>] = []

    func set(_ value: Int) {
        port = value
        for continuation in waiting { continuation.resume(returning: value) }
        waiting = []
    }

    func wait() async -> Int {
        if let port { return port }
        return await withCheckedContinuation { waiting.append($0) }
    }
}
