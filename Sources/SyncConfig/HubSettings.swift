import Foundation
import Logging

/// `hub.toml`: how `synchub` runs. `Config/hub.toml` documents every setting.
public struct HubSettings: SettingsDocument, Sendable {
    /// Code of the district (or the authority above the communes): the hub's replica id.
    public let replica: String
    /// The SQLite file of the hub (`[store] kind = "sqlite"`, the default).
    public let database: String
    /// The key of the seal the hub puts on the district's own changes (`district_key`;
    /// default: `district.key` beside `database`). Not in the store, so that a copy of the
    /// store put back still has it; hubs sharing one PostgreSQL database share it.
    public let districtKey: String
    /// Where the hub keeps what it holds: the `[store]` table.
    public let store: HubStoreSettings
    /// The district's conflict rules (rules.toml); nil keeps the rules the hub holds.
    public let rules: String?
    public let host: String
    public let port: Int
    /// The `[limits]` table.
    public let limits: HubLimits
    /// Certificate and key to serve HTTPS with; nil serves plain HTTP.
    public let tls: TLSFiles?
    /// The least severe events synchub logs (`log_level`, default info).
    public let logLevel: Logger.Level

    /// The `[tls]` section: PEM files the hub serves HTTPS with.
    public struct TLSFiles: Decodable, Sendable, Equatable {
        /// The hub's certificate, followed by any intermediate certificates (PEM).
        public let certificate: String
        /// The certificate's private key (PEM), readable by the synchub user only.
        public let key: String
    }

    public static let fileName = "hub.toml"

    enum Keys: String, CodingKey {
        case replica, database, listen, limits, rules, tls, store
        case logLevel = "log_level"
        case districtKey = "district_key"
        case oldestOfficeSchema = "oldest_office_schema"
    }

    enum ListenKeys: String, CodingKey { case host, port }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: Keys.self)
        replica = try keys.decode(String.self, forKey: .replica)
        database = try keys.value(.database, default: "/var/lib/communesync/hub.db")
        districtKey = try keys.value(.districtKey, default: (database as NSString).deletingLastPathComponent + "/district.key")
        rules = try keys.decodeIfPresent(String.self, forKey: .rules)
        store = try HubStoreSettings(from: keys, database: database)
        if keys.contains(.listen) {
            let listen = try keys.nestedContainer(keyedBy: ListenKeys.self, forKey: .listen)
            host = try listen.value(.host, default: "127.0.0.1")
            // 0 asks the system for a free port (logged at start), as `--port 0` does.
            port = try listen.value(.port, default: 8470)
            guard (0...65_535).contains(port) else {
                throw DecodingError.dataCorrupted(.init(codingPath: listen.codingPath + [ListenKeys.port], debugDescription: "must be a port number from 0 to 65535, not \(port)"))
            }
        } else {
            (host, port) = ("127.0.0.1", 8470)
        }
        var limits = try keys.decodeIfPresent(HubLimits.self, forKey: .limits) ?? HubLimits()
        let oldest = try keys.value(.oldestOfficeSchema, default: 1)
        guard oldest >= 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: keys.codingPath + [Keys.oldestOfficeSchema], debugDescription: "must be a register schema version, 1 or more, not \(oldest)"))
        }
        limits.oldestOfficeSchema = oldest
        self.limits = limits
        tls = try keys.decodeIfPresent(TLSFiles.self, forKey: .tls)
        logLevel = try LogLevelSetting.decode(keys, .logLevel)
    }
}
