import Foundation
import Synchronization

/// The throw-away PostgreSQL of a test process (`Deploy/postgres-test.sh`): started on first
/// use, stopped when the process exits, a fresh database per test. With
/// `COMMUNESYNC_TEST_POSTGRES_URL` set, that server is used instead (and left running).
public enum PostgresTestServer {
    /// Why the server cannot be had: a failure, never a skip (CI installs PostgreSQL).
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    static let script = Programs.packageRoot.appendingPathComponent("Deploy/postgres-test.sh").path
    static let psqlPath = "/usr/bin/psql"
    /// The directory of the cluster this process started, removed at exit.
    private static let started = Mutex<String?>(nil)
    private static let databases = Atomic<Int>(0)

    private static let server: Result<String, Unavailable> = {
        if let url = ProcessInfo.processInfo.environment["COMMUNESYNC_TEST_POSTGRES_URL"], !url.isEmpty { return .success(url) }
        let binaries = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard binaries.contains(where: { FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb") }),
            FileManager.default.isExecutableFile(atPath: psqlPath)
        else {
            return .failure(Unavailable(description:
                "PostgreSQL is not installed here (no /usr/lib/postgresql/*/bin/initdb or \(psqlPath)), and the hub's PostgreSQL "
                + "store is tested on it: run Deploy/setup-debian.sh (it installs postgresql), or set "
                + "COMMUNESYNC_TEST_POSTGRES_URL to a server's URL"))
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("communesync-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        guard let run = try? Programs.runSystem("/bin/bash", [script, "start", directory]), run.status == 0,
            let url = run.output.split(separator: "\n").first(where: { $0.hasPrefix("postgresql://") }).map(String.init)
        else {
            return .failure(Unavailable(description: "Deploy/postgres-test.sh could not start a PostgreSQL cluster in \(directory)"))
        }
        started.withLock { $0 = directory }
        atexit {
            if let directory = PostgresTestServer.started.withLock({ $0 }) {
                _ = try? Programs.runSystem("/bin/bash", [PostgresTestServer.script, "stop", directory])
            }
        }
        return .success(url)
    }()

    /// The URL of a new, empty database of the test server.
    public static func newDatabase() throws -> String {
        let url = try server.get()
        let name = "hubtest_\(getpid())_\(databases.wrappingAdd(1, ordering: .relaxed).newValue)"
        try psql(url, "CREATE DATABASE \(name)")
        guard let slash = url.range(of: "/", options: .backwards), !url[..<slash.lowerBound].hasSuffix("/") else {
            throw Unavailable(description: "the test PostgreSQL URL \(url) names no database")
        }
        return String(url[..<slash.upperBound]) + name
    }

    /// Runs SQL with psql, as district staff would, and returns its unaligned output.
    @discardableResult
    public static func psql(_ url: String, _ sql: String) throws -> String {
        var input = ["-c", sql]
        // A script too long for one argument goes in a file, run as one transaction as -c runs it.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("psql-\(UUID().uuidString).sql")
        if sql.utf8.count > 64 * 1024 {
            try sql.write(to: file, atomically: true, encoding: .utf8)
            input = ["-1", "-f", file.path]
        }
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try Programs.runSystem(psqlPath, [url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA"] + input)
        guard run.status == 0 else { throw Unavailable(description: "psql failed (\(run.status)) on \(sql.prefix(2000)): \(run.output)") }
        return run.output
    }
}

/// A psql session left open, as district staff at a psql prompt: statements are sent one
/// line at a time, and a transaction begun stays open between them until COMMIT is sent.
public final class PsqlSession: @unchecked Sendable {
    // @unchecked: used by one test at a time; the process is only written to and waited for here.
    private let process = Process()
    private let input = Pipe()

    /// Starts psql on `url`; its output goes to `log`.
    public init(_ url: String, log: String) throws {
        process.executableURL = URL(fileURLWithPath: PostgresTestServer.psqlPath)
        process.arguments = [url, "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        process.standardInput = input
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    deinit { if process.isRunning { process.terminate() } }

    /// Sends `sql` (one or more statements, each ending in ';').
    public func send(_ sql: String) { input.fileHandleForWriting.write(Data((sql + "\n").utf8)) }

    /// Ends the session (what is not committed rolls back) and returns psql's exit status.
    @discardableResult
    public func close() -> Int32 {
        try? input.fileHandleForWriting.close()
        Programs.finish(process, within: 120)
        return process.terminationStatus
    }
}
