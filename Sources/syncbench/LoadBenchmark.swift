import ArgumentParser
import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import MergeEngine
import Register
import Replica
import SyncClient
import SyncCore

/// Many offices against the hub: `--communes` real replica files, each with its own libcurl
/// session, against `--hubs` synchub processes on loopback (the `synchub` built next to this
/// program; several share one PostgreSQL database, and offices take them in turn).
/// Each office writes one person row and syncs, `--rounds` times; `--workers` threads run
/// offices at once. Prints rounds per second, latency percentiles, errors, and the hub's CPU
/// time per round (from /proc), beside the same number of plain SQLite inserts of the rows
/// measured in the same run.
struct LoadBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Sync rounds per second, latency and hub CPU per round with many offices against one synchub process.")

    @Option(help: "Commune offices, each a replica file and a libcurl session of its own.")
    var communes = 1_000

    @Option(help: "Sync rounds per office (each after writing one person row).")
    var rounds = 3

    @Option(help: "Offices syncing at once.")
    var workers = 64

    @Option(help: "synchub processes, all on one store (more than one needs --store postgresql).")
    var hubs = 1

    @OptionGroup var store: BenchStoreOptions

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncbench-load-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let codes = (0..<communes).map { String(format: "B%05d", $0) }

        // The hub's store with a credential per office, issued before the hub processes start.
        guard hubs >= 1 else { throw ValidationError("--hubs must be at least 1") }
        let benchStore = try await store.open(in: directory)
        defer { benchStore.close() }
        guard hubs == 1 || benchStore.isShared else {
            throw ValidationError("\(hubs) hubs need a store they can share: add --store postgresql")
        }
        var issued: [String] = []
        do {
            let hubStore = try await benchStore.hubStore()
            for code in codes {
                issued.append(try await hubStore.issueCredential(for: ReplicaID(rawValue: code)!, scope: "unit-\(code)"))
            }
        }
        let credentials = issued
        var started: [HubProcess] = []
        defer { started.forEach { $0.stop() } }
        for index in 0..<hubs {
            started.append(try HubProcess(directory: directory, name: "hub\(index + 1)", store: benchStore.settings))
        }
        let hubProcesses = started

        // Baseline: the same rows into plain SQLite, one transaction per row (as offices commit).
        let columns = RegisterSchema.current.table(named: "persons")!.columns.map(\.name)
        let insert = "INSERT INTO persons(id, \(columns.joined(separator: ", "))) VALUES (?\(String(repeating: ", ?", count: columns.count)))"
        @Sendable func person(_ office: Int, _ round: Int) -> [Value] {
            var values = PersonFixture(index: office, round: round).values
            values[1] = .text("unit-\(codes[office])")
            return values
        }
        let plain = try SQLiteDatabase(path: directory.appendingPathComponent("plain.db").path)
        try plain.execute("PRAGMA journal_mode = WAL")
        try plain.execute(RegisterSchema.current.registerTablesSQL)
        let plainStart = ContinuousClock.now
        for office in 0..<communes {
            for round in 0..<rounds { try plain.transaction { try plain.run(insert, person(office, round)) } }
        }
        let plainSeconds = seconds(since: plainStart)

        let paths = codes.map { directory.appendingPathComponent("\($0).db").path }
        for (code, path) in zip(codes, paths) { _ = try Replica.create(at: path, id: ReplicaID(rawValue: code)!, role: .commune) }
        let cpuBefore = try hubProcesses.map { try $0.cpuSeconds() }.reduce(0, +)
        let serverBefore = benchStore.cluster?.cpuSeconds()
        let hubURLs = hubProcesses.map(\.url)
        let results = LoadFigures()
        let start = ContinuousClock.now
        let next = NextIndex()
        let threads = (0..<min(workers, communes)).map { _ in
            Thread {
                while let office = next.take(below: communes) {
                    do {
                        let replica = try Replica(openingExisting: paths[office])
                        let session = try SyncSession(
                            replica: replica, hubURL: hubURLs[office % hubURLs.count], credential: credentials[office],
                            connectTimeoutSeconds: 10, requestTimeoutSeconds: 120)
                        for round in 0..<rounds {
                            try replica.database.run(insert, person(office, round))
                            let began = ContinuousClock.now
                            _ = try session.round()
                            results.record(latency: seconds(since: began))
                        }
                    } catch {
                        results.record(error: "\(codes[office]): \(error)")
                    }
                }
                results.finish()
            }
        }
        threads.forEach { $0.start() }
        results.waitForAll(threads.count)
        let elapsed = seconds(since: start)
        for hub in hubProcesses where !hub.process.isRunning {
            let log = (try? String(contentsOfFile: hub.log, encoding: .utf8)) ?? ""
            print("\(hub.name) exited during the run (status \(hub.process.terminationStatus)); the end of its log:")
            for line in log.split(separator: "\n").suffix(400) { print("  \(line.prefix(300))") }
            throw ExitCode.failure
        }
        let cpu = try hubProcesses.map { try $0.cpuSeconds() }.reduce(0, +) - cpuBefore
        let serverCPU = serverBefore.flatMap { before in benchStore.cluster?.cpuSeconds().map { $0 - before } }
        let latencies = results.latencies.sorted()
        func percentile(_ share: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * share))] * 1000
        }
        let roundsPerSecond = Double(latencies.count) / elapsed
        let plainPerSecond = Double(communes * rounds) / plainSeconds
        let cpuPerRound = latencies.isEmpty ? 0 : cpu * 1000 / Double(latencies.count)
        print("\(communes) offices x \(rounds) rounds, \(min(workers, communes)) at once, against \(hubs) synchub process(es) on loopback, store \(store.store.rawValue)")
        print(String(format: "plain SQLite row commits:  %10.0f rows/s", plainPerSecond))
        print(String(format: "sync rounds:               %10.1f rounds/s (ratio %.4f); latency p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                     roundsPerSecond, roundsPerSecond / plainPerSecond, percentile(0.5), percentile(0.99), percentile(1)))
        print(String(format: "hub CPU (all hubs): %.1f ms per round (%.1f s in all); errors: %d", cpuPerRound, cpu, results.errors.count))
        if let serverCPU, !latencies.isEmpty {
            print(String(format: "PostgreSQL CPU:     %.1f ms per round (%.1f s in all)", serverCPU * 1000 / Double(latencies.count), serverCPU))
        }
        for error in results.errors.prefix(3) { print("  error: \(error)") }
        if !results.errors.isEmpty {
            for hub in hubProcesses {
                let log = (try? String(contentsOfFile: hub.log, encoding: .utf8)) ?? ""
                let complaints = log.split(separator: "\n").filter { !$0.contains("info") }
                print("\(hub.name) log, its last complaints:")
                for line in complaints.suffix(5) { print("  \(line.prefix(300))") }
            }
        }
        print(String(format: #"{"rounds_per_s": %.1f, "plain_rows_per_s": %.0f, "ratio": %.5f, "p50_ms": %.1f, "p99_ms": %.1f, "hub_cpu_ms_per_round": %.2f, "errors": %d}"#,
                     roundsPerSecond, plainPerSecond, roundsPerSecond / plainPerSecond, percentile(0.5), percentile(0.99), cpuPerRound,
                     results.errors.count))
        // A round that failed is a fault, not a slow figure: CI runs this as a check.
        if !results.errors.isEmpty { throw ExitCode.failure }
    }
}

/// synchub as a separate process on a free port, so that its CPU time can be read apart.
final class HubProcess {
    let process = Process()
    let name: String
    let log: String
    let url: String

    /// `store`: the hub.toml lines that choose its store (`BenchStore.settings`); `limits`:
    /// lines added to its [limits] table.
    init(directory: URL, name: String, store: String, limits: String = "") throws {
        self.name = name
        let config = directory.appendingPathComponent("\(name).toml").path
        log = directory.appendingPathComponent("\(name).log").path
        // A hub on PostgreSQL keeps its district seal key beside `database`: the hubs of a run
        // share this directory, so they share the key, as hubs of one database must.
        let keyPlace = store.contains("database =") ? "" : "database = \"\(directory.appendingPathComponent("hub.db").path)\""
        try """
        replica = "200"
        \(keyPlace)
        \(store)
        [listen]
        host = "127.0.0.1"
        port = 0
        [limits]
        max_requests_per_caller = 4
        \(limits)
        """.write(toFile: config, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("synchub")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ValidationError("\(executable.path) is missing: build it first ('swift build -c release --product synchub')")
        }
        process.executableURL = executable
        process.arguments = ["serve", "--config", config]
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = process.standardError
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        var port: Int?
        while port == nil && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("[synchub] listening") }),
                let range = line.range(of: "address=127.0.0.1:")
            {
                port = Int(line[range.upperBound...].prefix { $0.isNumber })
            }
        }
        guard let port else { throw ValidationError("\(name) did not start; see \(log)") }
        url = "http://127.0.0.1:\(port)"
    }

    /// User and system CPU time the process has used, from /proc.
    func cpuSeconds() throws -> Double { try IdleBenchmark.cpuSeconds(process.processIdentifier) }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// Which office a worker thread takes next.
private final class NextIndex: @unchecked Sendable {
    // @unchecked: every access holds the lock.
    private let lock = NSLock()
    private var next = 0

    func take(below limit: Int) -> Int? {
        lock.withLock {
            guard next < limit else { return nil }
            defer { next += 1 }
            return next
        }
    }
}

/// Latencies and errors from every worker thread.
private final class LoadFigures: @unchecked Sendable {
    // @unchecked: every access holds the lock; `finished` is signalled once per thread.
    private let lock = NSLock()
    private var recorded: [Double] = []
    private var failures: [String] = []
    private let finished = DispatchSemaphore(value: 0)

    func record(latency: Double) { lock.withLock { recorded.append(latency) } }
    func record(error: String) { lock.withLock { failures.append(error) } }
    func finish() { finished.signal() }
    func waitForAll(_ count: Int) { for _ in 0..<count { finished.wait() } }

    var latencies: [Double] { lock.withLock { recorded } }
    var errors: [String] { lock.withLock { failures } }
}
