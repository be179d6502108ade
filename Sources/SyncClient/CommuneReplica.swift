import Foundation
import MergeEngine
import Register
import Replica
import SyncConfig
import SyncCore

/// The commune office's replica and sync session as commune.toml describes them.
public enum CommuneReplica {
    /// Opens the replica named in commune.toml, creating an empty one on first start.
    ///
    /// Its replica id is the one the district issued the credential for (the token begins
    /// with it). People type the official code in commune.toml; when the hub had to issue
    /// another id because the code was used before by another unit (codes are reused after
    /// mergers), the credential's id (e.g. `06895-2` for code `06895`) is the replica's.
    public static func open(_ settings: CommuneSettings) throws -> Replica {
        let id = try replicaID(settings)
        let replica = try Replica.openOrCreate(at: settings.database, id: id, role: .commune)
        guard replica.id == id else {
            if id.rawValue.hasPrefix(replica.id.rawValue + "-") || replica.id.rawValue.hasPrefix(id.rawValue + "-") {
                throw SettingsError(
                    file: settings.database,
                    problem: "is the register of replica \(replica.id), but the credential is for replica \(id): the unit this "
                        + "file belonged to ended (its code now names another unit). Move the file away (the hub holds "
                        + "what it sent) and start syncd again: it builds this unit's register from the hub")
            }
            throw SettingsError(
                file: settings.database,
                problem: "is the replica of \(replica.id), but commune.toml and its credential say replica = \(id): fix one of them")
        }
        return replica
    }

    /// commune.toml's `replica`, or the id the credential was issued for when that is the
    /// same official code under a suffix the hub added (`CODE-N`).
    static func replicaID(_ settings: CommuneSettings) throws -> ReplicaID {
        guard let typed = ReplicaID(rawValue: settings.replica) else {
            throw ReplicaError.invalidReplicaID(settings.replica)
        }
        guard let token = try? settings.hub.token(),
            let issued = ReplicaID(rawValue: String(token.prefix { $0 != "." })), issued != typed
        else { return typed }
        // Another office's credential: the hub refuses it and says so.
        guard issued.rawValue.hasPrefix(typed.rawValue + "-") else { return typed }
        return issued
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
