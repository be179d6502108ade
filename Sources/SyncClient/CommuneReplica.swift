import Foundation
import Replica
import SyncConfig
import SyncCore

/// The commune office's replica and sync session as commune.toml describes them.
public enum CommuneReplica {
    /// Opens the replica named in commune.toml, creating an empty one on first start.
    public static func open(_ settings: CommuneSettings) throws -> Replica {
        guard let id = ReplicaID(rawValue: settings.replica) else {
            throw ReplicaError.invalidReplicaID(settings.replica)
        }
        let replica = try Replica.openOrCreate(at: settings.database, id: id, role: .commune)
        guard replica.id == id else {
            throw SettingsError(file: settings.database, problem: "is the replica of \(replica.id), but commune.toml says replica = \(id): fix one of them")
        }
        return replica
    }
}

extension SyncSession {
    /// A session with the hub named in commune.toml.
    public convenience init(replica: Replica, settings: CommuneSettings) throws {
        try self.init(
            replica: replica, hubURL: settings.hub.url, credential: try settings.hub.token(),
            caFile: settings.hub.caFile, allowInsecureHTTP: settings.hub.allowInsecureHTTP, connectTimeoutSeconds: settings.hub.connectTimeoutSeconds,
            requestTimeoutSeconds: settings.hub.requestTimeoutSeconds, batchChanges: settings.sync.batchChanges)
    }
}
