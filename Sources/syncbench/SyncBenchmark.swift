import ArgumentParser
import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import Logging
import MergeEngine
import Register
import Replica
import SyncClient
import SyncCore

/// End-to-end sync throughput on loopback: a commune replica holding `--rows` new person
/// records pushes them to a real hub (in this process, over HTTP through libcurl), from the
/// commune's commit to the hub's commit of the last batch; then the hub hands the same rows
/// to two new offices of the same commune, one by a snapshot (bootstrap) and one by a pull
/// of the feed. Beside them, in the same run: SQLite's session extension moving the same
/// rows between two files (`SessionPipeline`), plain SQLite inserts, and the compressed bytes
/// each change cost on the wire.
struct SyncBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Field changes per second from commune commit to hub commit, vs plain SQLite inserts.")

    @Option(help: "Person rows written at the commune (each is one change per column).")
    var rows = 10_000

    @Option(help: "Changes per push request.")
    var batch = 5_000

    @OptionGroup var store: BenchStoreOptions

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
        let sessionPerSecond = try SessionPipeline(insert: insert, rows: people).fieldsPerSecond(columns: columns.count, in: directory)

        // A hub on a free port, the commune's credential, the commune's rows.
        var logger = Logger(label: "synchub")
        logger.logLevel = .critical
        let benchStore = try await self.store.open(in: directory)
        defer { benchStore.close() }
        let store = try await benchStore.hubStore()
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
        let changes = rows * columns.count
        let perSecond = Double(changes) / elapsed
        let atHub = try await store.receivedCounter(of: "06913")
        guard report.pushed == changes, atHub > 0 else {
            throw ValidationError("pushed \(report.pushed) of \(changes) changes; the hub holds up to \(atHub)")
        }

        // Hub -> office: a new office of the same commune bootstraps from a snapshot, another
        // (told to skip the snapshot) pulls the same rows from the feed.
        let offices = try await NewOffices(("06914", "06915"), scope: "unit-06913", store: store, in: directory)
        let (snapshotSeconds, pullSeconds) = try await offices.time(
            from: "http://127.0.0.1:\(port)", batch: batch, expectingRows: rows, changes: changes)
        server.cancel()
        let snapshotPerSecond = Double(changes) / snapshotSeconds
        let pullPerSecond = Double(changes) / pullSeconds
        let wireBytes = Double(report.bytesSent) / Double(changes)
        print("\(rows) person rows = \(changes) field changes, in batches of \(batch) over HTTP on loopback; hub store \(self.store.store.rawValue)")
        print(String(format: "baseline, SQLite session extension (capture, changeset, gzip, apply): %10.0f field values/s", sessionPerSecond))
        print(String(format: "baseline, plain SQLite inserts:                                      %10.0f field values/s", plainPerSecond))
        print("                                    changes/s   vs session   vs plain")
        for (name, rate) in [("commune commit -> hub commit", perSecond), ("hub -> new office, snapshot", snapshotPerSecond),
                             ("hub -> new office, pull", pullPerSecond)] {
            print(name.padding(toLength: 30, withPad: " ", startingAt: 0)
                + String(format: " %12.0f %12.3f %10.3f", rate, rate / sessionPerSecond, rate / plainPerSecond))
        }
        print("targets: commune -> hub >= 100000/s and >= 0.15 of the session pipeline")
        print(String(format: "wire: %.1f bytes per change compressed (%d requests, %d bytes; target <= 30)", wireBytes, report.requests, report.bytesSent))
        print(String(format: #"{"changes_per_s": %.0f, "session_per_s": %.0f, "session_ratio": %.4f, "snapshot_per_s": %.0f, "pull_per_s": %.0f, "plain_insert_per_s": %.0f, "ratio": %.4f, "wire_bytes_per_change": %.2f}"#,
                     perSecond, sessionPerSecond, perSecond / sessionPerSecond, snapshotPerSecond, pullPerSecond, plainPerSecond,
                     perSecond / plainPerSecond, wireBytes))
    }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Runs blocking work (libcurl, SQLite) on a thread of its own, off Swift's cooperative pool
/// where the in-process hub runs.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
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
