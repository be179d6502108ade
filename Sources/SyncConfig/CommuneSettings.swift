import Foundation
import Logging

/// `commune.toml`: how a commune office's `syncd` finds its replica and its hub.
/// `Config/commune.toml` documents every setting.
public struct CommuneSettings: SettingsDocument, Sendable {
    /// Official code of the commune: the replica id.
    public let replica: String
    /// The replica's SQLite file.
    public let database: String
    public let hub: HubConnection
    public let sync: SyncSchedule
    /// The daemon's control socket, where `syncctl` asks it for status and rounds.
    public let controlSocket: String
    /// The least severe events syncd logs (`log_level`: trace, debug, info, notice, warning,
    /// error, critical; default info).
    public let logLevel: Logger.Level
    /// The language of `syncctl`'s text when the locale names none (`language`: vi or en;
    /// default: none, so English unless `LANG` says otherwise).
    public let language: OfficeLanguage?
    /// Where syncd writes its figures for node_exporter's textfile collector after every round
    /// (`metrics_textfile`, a `.prom` file; default: none).
    public let metricsTextfile: String?

    public static let fileName = "commune.toml"

    enum Keys: String, CodingKey {
        case replica, database, hub, sync
        case controlSocket = "control_socket"
        case logLevel = "log_level"
        case language
        case metricsTextfile = "metrics_textfile"
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: Keys.self)
        replica = try keys.decode(String.self, forKey: .replica)
        database = try keys.value(.database, default: "/var/lib/communesync/replica.db")
        hub = try keys.decode(HubConnection.self, forKey: .hub)
        sync = try keys.value(.sync, default: SyncSchedule())
        controlSocket = try keys.value(.controlSocket, default: "/run/communesync/syncd.sock")
        logLevel = try LogLevelSetting.decode(keys, .logLevel)
        language = try keys.decodeIfPresent(OfficeLanguage.self, forKey: .language)
        metricsTextfile = try keys.decodeIfPresent(String.self, forKey: .metricsTextfile)
        if let metricsTextfile, !metricsTextfile.hasSuffix(".prom") {
            throw DecodingError.dataCorrupted(.init(codingPath: keys.codingPath + [Keys.metricsTextfile],
                debugDescription: "must end in .prom (node_exporter's textfile collector reads only those), not '\(metricsTextfile)'"))
        }
    }
}

public struct HubConnection: Decodable, Sendable {
    /// Base URL of the hub, e.g. `https://hub.damha.example:8470`.
    public let url: String
    /// File holding this commune's credential (preferred), or the credential itself.
    public let credentialFile: String?
    public let credential: String?
    /// CA bundle to verify the hub's TLS certificate with, if not the system's.
    public let caFile: String?
    /// Send the credential over plain http to a hub that is not on this computer. Off by
    /// default: anyone on the path could read the credential and act as this office.
    public let allowInsecureHTTP: Bool
    public let connectTimeoutSeconds: Double
    public let requestTimeoutSeconds: Double

    enum Keys: String, CodingKey {
        case url, credential
        case credentialFile = "credential_file"
        case caFile = "ca_file"
        case allowInsecureHTTP = "allow_insecure_http"
        case connectTimeout = "connect_timeout_s"
        case requestTimeout = "request_timeout_s"
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: Keys.self)
        url = try keys.decode(String.self, forKey: .url)
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw DecodingError.dataCorrupted(.init(codingPath: keys.codingPath + [Keys.url], debugDescription: "must start with http:// or https://, not '\(url)'"))
        }
        credentialFile = try keys.decodeIfPresent(String.self, forKey: .credentialFile)
        credential = try keys.decodeIfPresent(String.self, forKey: .credential)
        guard credentialFile != nil || credential != nil else {
            throw DecodingError.keyNotFound(Keys.credentialFile, .init(codingPath: keys.codingPath, debugDescription: "a credential is needed"))
        }
        caFile = try keys.decodeIfPresent(String.self, forKey: .caFile)
        allowInsecureHTTP = try keys.value(.allowInsecureHTTP, default: false)
        connectTimeoutSeconds = try keys.positive(.connectTimeout, default: 10)
        requestTimeoutSeconds = try keys.positive(.requestTimeout, default: 60)
    }

    /// The name under which systemd hands syncd the credential (`LoadCredential=` in
    /// syncd.service): read from `$CREDENTIALS_DIRECTORY`, so the file itself stays root's alone.
    public static let systemdCredentialName = "hub-credential"

    /// The credential: inline `credential` if set, else the one systemd passed the service
    /// (`$CREDENTIALS_DIRECTORY/hub-credential`), else `credential_file`.
    public func token(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let credential { return credential }
        if let directory = environment["CREDENTIALS_DIRECTORY"],
            let passed = try? String(contentsOfFile: directory + "/" + Self.systemdCredentialName, encoding: .utf8) {
            return passed.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let path = credentialFile!
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw SettingsError(file: path, problem: "the credential file cannot be read (\(error.localizedDescription)): ask the district office for the commune's credential")
        }
    }
}

public struct SyncSchedule: Decodable, Sendable {
    /// Seconds between sync rounds while the hub answers.
    public let intervalSeconds: Double
    /// Longest wait between attempts while the hub does not answer.
    public let maxBackoffSeconds: Double
    /// Changes per push request.
    public let batchChanges: Int
    /// Seconds between comparisons of the replica with the hub by content (anti-entropy).
    public let digestIntervalSeconds: Double

    enum Keys: String, CodingKey {
        case interval = "interval_s"
        case maxBackoff = "max_backoff_s"
        case batchChanges = "batch_changes"
        case digestInterval = "digest_interval_s"
    }

    public init(intervalSeconds: Double = 60, maxBackoffSeconds: Double = 300, batchChanges: Int = 2_000, digestIntervalSeconds: Double = 900) {
        self.intervalSeconds = intervalSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
        self.batchChanges = batchChanges
        self.digestIntervalSeconds = digestIntervalSeconds
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: Keys.self)
        intervalSeconds = try keys.positive(.interval, default: 60)
        maxBackoffSeconds = try keys.positive(.maxBackoff, default: 300)
        batchChanges = Int(try keys.positive(.batchChanges, default: 2_000))
        digestIntervalSeconds = try keys.positive(.digestInterval, default: 900)
    }
}
