/// The `[store]` table of hub.toml: where the hub keeps what it holds. `Config/hub.toml`
/// says what each setting does.
public enum HubStoreSettings: Sendable, Equatable {
    /// One SQLite file (the embedded default): the top-level `database` path.
    case sqlite(path: String)
    /// A PostgreSQL database several synchub processes may share.
    case postgresql(url: String, poolSize: Int)

    public static let defaultPoolSize = 8

    enum Keys: String, CodingKey { case kind, url, poolSize = "pool_size" }

    init(from container: KeyedDecodingContainer<HubSettings.Keys>, database: String) throws {
        guard container.contains(.store) else {
            self = .sqlite(path: database)
            return
        }
        let store = try container.nestedContainer(keyedBy: Keys.self, forKey: .store)
        let kind = try store.value(.kind, default: "sqlite")
        switch kind {
        case "sqlite":
            self = .sqlite(path: database)
        case "postgresql":
            guard let url = try store.decodeIfPresent(String.self, forKey: .url), url.hasPrefix("postgresql://") || url.hasPrefix("postgres://")
            else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: store.codingPath + [Keys.url],
                    debugDescription: "kind = \"postgresql\" needs url = \"postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE\""))
            }
            let poolSize = try store.value(.poolSize, default: Self.defaultPoolSize)
            guard (1...500).contains(poolSize) else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: store.codingPath + [Keys.poolSize],
                    debugDescription: "must be a number of connections from 1 to 500, not \(poolSize)"))
            }
            self = .postgresql(url: url, poolSize: poolSize)
        default:
            throw DecodingError.dataCorrupted(.init(
                codingPath: store.codingPath + [Keys.kind], debugDescription: "must be \"sqlite\" or \"postgresql\", not \"\(kind)\""))
        }
    }
}
