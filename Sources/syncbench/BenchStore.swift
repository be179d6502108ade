import ArgumentParser
import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
#if canImport(Glibc)
import Glibc
#endif

/// Which store a benchmark's hub runs on.
enum StoreKind: String, ExpressibleByArgument, CaseIterable, Sendable {
    case sqlite, postgresql
}

struct BenchStoreOptions: ParsableArguments {
    @Option(help: "The hub's store: sqlite (one file) or postgresql.")
    var store: StoreKind = .sqlite

    @Option(help: "PostgreSQL to use with --store postgresql (an empty database); without it, a throw-away cluster is started with Deploy/postgres-test.sh.")
    var postgresURL: String?

    func open(in directory: URL) async throws -> BenchStore {
        switch store {
        case .sqlite:
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return BenchStore(kind: .sqlite, location: directory.appendingPathComponent("hub.db").path, cluster: nil)
        case .postgresql:
            if let postgresURL { return BenchStore(kind: .postgresql, location: postgresURL, cluster: nil) }
            let cluster = try ThrowAwayPostgres(in: directory.appendingPathComponent("postgres"))
            return BenchStore(kind: .postgresql, location: cluster.url, cluster: cluster)
        }
    }
}

/// A benchmark hub's store: where it is, how hub.toml names it, and a `HubStore` on it.
final class BenchStore: Sendable {
    let kind: StoreKind
    /// The SQLite file's path, or the PostgreSQL URL.
    let location: String
    let cluster: ThrowAwayPostgres?

    init(kind: StoreKind, location: String, cluster: ThrowAwayPostgres?) {
        self.kind = kind
        self.location = location
        self.cluster = cluster
    }

    /// Whether several hub processes can run on it at once.
    var isShared: Bool { kind == .postgresql }

    /// The hub.toml lines that choose this store (top-level keys, then any table).
    var settings: String {
        switch kind {
        case .sqlite: return "database = \"\(location)\""
        case .postgresql: return "[store]\nkind = \"postgresql\"\nurl = \"\(location)\"\npool_size = 8"
        }
    }

    /// A hub on this store, in this process, as district 200.
    func hubStore() async throws -> HubStore {
        switch kind {
        case .sqlite: return try HubStore(path: location, district: "200")
        case .postgresql: return HubStore(storage: try await PostgresHubStorage.open(url: location, district: "200", poolSize: 8))
        }
    }

    /// Ends the run's use of the store: a throw-away cluster is removed, or with `keep`
    /// stopped and kept (`Deploy/postgres-test.sh resume DIR` starts it again).
    func close(keep: Bool = false) { cluster?.stop(keep: keep) }
}

/// A PostgreSQL cluster of this run only (Deploy/postgres-test.sh), removed at the end.
final class ThrowAwayPostgres: Sendable {
    let directory: String
    let url: String

    init(in directory: URL) throws {
        self.directory = directory.path
        let script = "Deploy/postgres-test.sh"
        guard FileManager.default.fileExists(atPath: script) else {
            throw ValidationError("\(script) is not here: run syncbench from the repository's top directory, or pass --postgres-url")
        }
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, "start", directory.path]
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let url = text.split(separator: "\n").first(where: { $0.hasPrefix("postgresql://") }).map(String.init)
        else {
            throw ValidationError("Deploy/postgres-test.sh could not start a PostgreSQL (see its message above); is the postgresql package installed (Deploy/setup-debian.sh)?")
        }
        self.url = url
    }

    /// CPU seconds the server has used, all its processes: the postmaster and every child now
    /// running (connections, background workers), and children that have exited (the
    /// postmaster's cutime). Compare two readings taken while the same connections are open.
    func cpuSeconds() -> Double? {
        guard let first = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8).split(separator: "\n").first,
            let postmaster = Int32(first)
        else { return nil }
        guard let own = IdleBenchmark.statFields(postmaster) else { return nil }
        var total = own[11...14].compactMap { Double($0) }.reduce(0, +)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name), let fields = IdleBenchmark.statFields(pid), Int32(fields[1]) == postmaster else { continue }
            total += (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        }
        return total / IdleBenchmark.clockTicks
    }

    func stop(keep: Bool = false) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["Deploy/postgres-test.sh", keep ? "pause" : "stop", directory]
        try? process.run()
        process.waitUntilExit()
    }
}
