import Foundation

/// A district hub and commune offices as separate processes on 127.0.0.1, each with its own
/// SQLite file and configuration, in a temporary directory.
public final class SyncCluster: @unchecked Sendable {
    // @unchecked: used from one test at a time; processes are only started and stopped here.
    public let directory: TemporaryDirectory
    public let hub: HubNode
    public private(set) var communes: [String: CommuneNode] = [:]

    /// Starts a hub for district 200 (Đầm Hà), with `rules` (rules.toml text) if given, over
    /// HTTPS with `tls` (certificate and key files) if given, and loads its units.
    /// `hubEnvironment` is added to the environment of the hub and its commands (`HubNode.environment`).
    public init(label: String = "cluster", rules: String? = nil, tls: (certificate: String, key: String)? = nil,
                hubEnvironment: [String: String] = [:]) throws {
        directory = try TemporaryDirectory(label)
        hub = try HubNode(directory: directory, rules: rules, tls: tls)
        hub.environment = hubEnvironment
        try hub.start()
        try hub.loadDamHaUnits()
    }

    deinit {
        for commune in communes.values { commune.stop() }
        hub.stop()
    }

    /// Adds a commune office (official code) with a credential issued by the hub.
    /// `hubPort` lets the commune reach the hub through something else (a faulty proxy);
    /// `hubURL` replaces the hub's address altogether; `hubSettings` adds lines to [hub].
    @discardableResult
    public func addCommune(
        _ code: String, interval: Double = 0.3, hubPort: Int? = nil, database: String? = nil, digestInterval: Double = 900,
        hubURL: String? = nil, hubSettings: String = ""
    ) throws -> CommuneNode {
        let commune = try CommuneNode(
            code: code, directory: directory, hubURL: hubURL ?? "\(hub.scheme)://127.0.0.1:\(hubPort ?? hub.port)", interval: interval,
            database: database, digestInterval: digestInterval, hubSettings: hubSettings)
        try hub.issueCredential(for: code, into: commune.credentialPath)
        communes[code] = commune
        return commune
    }
}

public final class HubNode: @unchecked Sendable {
    // @unchecked: see SyncCluster.
    public let database: String
    public let config: String
    public let log: String
    /// The port the hub bound on its first start (it picks a free one itself, so that test
    /// runs side by side never collide); restarts reuse it.
    public private(set) var port = 0
    private var process: Process?

    /// "https" when the hub was given a certificate.
    public let scheme: String

    /// A hub whose files in `directory` are named after `name` (several hubs may share a
    /// directory, and with `[store]` added by `configure`, a database).
    public init(directory: TemporaryDirectory, name: String = "hub", rules: String? = nil, tls: (certificate: String, key: String)? = nil) throws {
        database = directory.path("\(name).db")
        config = directory.path("\(name).toml")
        log = directory.path("\(name).log")
        var rulesLine = ""
        if let rules {
            try rules.write(toFile: directory.path("\(name)-rules.toml"), atomically: true, encoding: .utf8)
            rulesLine = "rules = \"\(directory.path("\(name)-rules.toml"))\""
        }
        scheme = tls == nil ? "http" : "https"
        try """
        replica = "200"
        database = "\(database)"
        \(rulesLine)
        [listen]
        host = "127.0.0.1"
        port = 8470
        \(tls.map { "[tls]\ncertificate = \"\($0.certificate)\"\nkey = \"\($0.key)\"" } ?? "")
        """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    public var url: String { "\(scheme)://127.0.0.1:\(port)" }

    /// Adds `toml` (e.g. a `[limits]` table) to hub.toml; takes effect at the next start.
    public func configure(_ toml: String) throws {
        let current = try String(contentsOfFile: config, encoding: .utf8)
        try (current + "\n" + toml + "\n").write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// The process id of the running hub.
    public var processIdentifier: Int32? { process?.isRunning == true ? process?.processIdentifier : nil }

    /// Added to the environment of synchub, served or run as a command (e.g. the register
    /// schema it speaks); takes effect at the next start.
    public var environment: [String: String] = [:]

    public func start() throws {
        func starts() -> Int {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").components(separatedBy: "[synchub] listening").count
        }
        let before = starts()
        process = try Programs.start("synchub", ["serve", "--config", config, "--port", String(port)], log: log, environment: environment)
        let up = eventually(timeout: 30) { starts() > before }
        guard up else { throw ClusterError("synchub did not start; its log:\n" + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")) }
        if port == 0 {
            // "... address=127.0.0.1:PORT ... [synchub] listening"
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let line = text.split(separator: "\n").last { $0.contains("[synchub] listening") } ?? ""
            guard let range = line.range(of: "address=127.0.0.1:"),
                let bound = Int(line[range.upperBound...].prefix { $0.isNumber }), bound > 0
            else { throw ClusterError("cannot read synchub's port from: \(line)") }
            port = bound
        }
    }

    /// SIGKILL: no chance to finish anything.
    public func kill() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        Programs.finish(process, within: 30)
    }

    public func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        Programs.finish(process, within: 60)
    }

    public var isRunning: Bool { process?.isRunning ?? false }

    /// The 10 commune-level units of Huyện Đầm Hà (Deploy/demo), written at the hub with the
    /// sqlite3 shell as district staff would: ids `unit-CODE`.
    public func loadDamHaUnits() throws {
        let demo = Programs.packageRoot.appendingPathComponent("Deploy/demo").path
        try SQLiteShell.run(database, ".cd \(demo)\n.read units.sql\n")
    }

    /// `scope` (a units.id) for an office whose code is not its commune's.
    public func issueCredential(for code: String, into path: String, reviewer: Bool = false, scope: String? = nil) throws {
        let (status, output) = try Programs.run(
            "synchub", ["credential", "issue", "--config", config, "--replica", code] + (reviewer ? ["--reviewer"] : [])
                + (scope.map { ["--scope", $0] } ?? []), environment: environment)
        guard status == 0 else { throw ClusterError("credential issue failed: \(output)") }
        try output.trimmingCharacters(in: .whitespacesAndNewlines).write(toFile: path, atomically: true, encoding: .utf8)
        // As an admin stores it: root's alone (the permissions model).
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }
}

public final class CommuneNode: @unchecked Sendable {
    // @unchecked: see SyncCluster.
    public let code: String
    public let database: String
    public let config: String
    public let credentialPath: String
    public let log: String
    public let controlSocket: String
    private var process: Process?

    public init(
        code: String, directory: TemporaryDirectory, hubURL: String, interval: Double, database: String? = nil, digestInterval: Double = 900,
        hubSettings: String = ""
    ) throws {
        self.code = code
        self.database = database ?? directory.path("\(code).db")
        config = directory.path("\(code).toml")
        credentialPath = directory.path("\(code).credential")
        log = directory.path("\(code).log")
        controlSocket = directory.path("\(code).sock")
        try """
        replica = "\(code)"
        database = "\(self.database)"
        control_socket = "\(controlSocket)"
        [hub]
        url = "\(hubURL)"
        credential_file = "\(credentialPath)"
        \(hubSettings)
        connect_timeout_s = 2
        request_timeout_s = 10
        [sync]
        interval_s = \(interval)
        max_backoff_s = 1
        batch_changes = 500
        digest_interval_s = \(digestInterval)
        """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// The commune's unit id at the hub (`unit-CODE`).
    public var unit: String { "unit-\(code)" }

    public func start(environment: [String: String] = [:]) throws {
        process = try Programs.start("syncd", ["--config", config], log: log, environment: environment)
    }

    /// `syncctl status --json`: the parsed object and the exit code.
    public func status() throws -> (json: [String: Any], exitCode: Int32) {
        let run = try Programs.execute(Programs.path("syncctl"), ["status", "--json", "--config", config], separateErrors: true, timeout: 120)
        let data = Data(run.output.utf8)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ClusterError("syncctl status --json printed no object: \(run.output)")
        }
        return (object, run.status)
    }

    /// SIGTERM, then the exit status.
    public func terminate() -> Int32 {
        guard let process, process.isRunning else { return -1 }
        process.terminate()
        Programs.finish(process, within: 60)
        return process.terminationStatus
    }

    public func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        Programs.finish(process, within: 60)
    }

    public func kill() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        Programs.finish(process, within: 30)
    }

    public var isRunning: Bool { process?.isRunning ?? false }

    /// One round with `syncctl sync`; returns its exit status and output.
    @discardableResult
    public func syncOnce() throws -> (status: Int32, output: String) {
        try Programs.run("syncctl", ["sync", "--config", config])
    }

    /// The daemon has created the replica (its register tables exist).
    public var hasReplica: Bool {
        FileManager.default.fileExists(atPath: database)
            && (try? SQLiteShell.run(database, "SELECT count(*) FROM sqlite_master WHERE name = 'persons';")) == "1"
    }

    /// Has bootstrapped: the hub's units arrived.
    public var hasUnits: Bool {
        (try? SQLiteShell.run(database, "SELECT count(*) FROM units;")) == "11"
    }
}

public struct ClusterError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
