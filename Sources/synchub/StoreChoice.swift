import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import SyncConfig
import SyncCore

/// The hub store `[store]` of hub.toml names, opened: the SQLite file, or PostgreSQL once
/// it answers (a bad URL or an unreachable server fails here, saying what to fix).
extension HubSettings {
    func openStore(district: ReplicaID, rules: RuleSet?) async throws -> HubStore {
        switch store {
        case .sqlite(let path):
            return try HubStore(path: path, district: district, rules: rules, endedOfficeDays: limits.endedOfficeDays,
                                officeLogDays: limits.officeLogDays)
        case .postgresql(let url, let poolSize):
            return HubStore(
                storage: try await PostgresHubStorage.open(url: url, district: district, rules: rules, poolSize: poolSize),
                endedOfficeDays: limits.endedOfficeDays, officeLogDays: limits.officeLogDays)
        }
    }

    /// Where the store is, for the log (a PostgreSQL password is not shown).
    var storeLocation: String {
        switch store {
        case .sqlite(let path): return path
        case .postgresql(let url, _): return PostgresHubStorage.shown(url)
        }
    }
}
