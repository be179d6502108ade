import Register

/// Why a replica file could not be used, said so that a technician can act on it.
public enum ReplicaError: Error, CustomStringConvertible, Equatable {
    case notAReplica(path: String)
    case alreadyAReplica(path: String, replica: String)
    case newerSchema(path: String, found: Int, supported: Int)
    case damagedMeta(path: String, key: String)
    case invalidReplicaID(String)
    case incompatibleColumns(path: String, table: String)
    case damaged(path: String, detail: String)
    case cannotCreate(path: String, detail: String)
    case olderSchema(path: String, found: Int, expected: Int)

    public var description: String {
        switch self {
        case .notAReplica(let path):
            return "\(path) is not a CommuneSync replica (no _sync_meta table): "
                + "create one with 'syncctl init', or check the path in the configuration"
        case .alreadyAReplica(let path, let replica):
            return "\(path) is already the replica of \(replica): refusing to initialise it again; "
                + "use another path, or move this file away first if it really is unwanted"
        case .newerSchema(let path, let found, let supported):
            return "\(path) holds register schema \(found) but this program knows up to \(supported): "
                + "install the newer CommuneSync release before opening it"
        case .damagedMeta(let path, let key):
            return "\(path) has a missing or damaged '\(key)' in _sync_meta: "
                + "run 'syncctl doctor', and restore the replica from the hub if it reports damage"
        case .incompatibleColumns(let path, let table):
            return "\(path): the columns of table \(table) are not those this release expects "
                + "(renamed, removed or reordered by another program); restore the replica from the hub "
                + "with 'syncctl init' and a snapshot, or ask the district office"
        case .damaged(let path, let detail):
            return "\(path) is damaged (\(detail)): move it aside (keep it: changes not yet at the hub are only "
                + "in it) and start syncd again; it rebuilds the replica from the hub's snapshot"
        case .cannotCreate(let path, let detail):
            return "cannot create the replica \(path) (\(detail)): its directory must exist and be writable by this user"
        case .olderSchema(let path, let found, let expected):
            return "\(path) holds register schema \(found) and this program needs \(expected): only syncd upgrades "
                + "a replica; restart it ('systemctl restart syncd') once the new release is installed"
        case .invalidReplicaID(let text):
            return "'\(text)' is not a valid replica id: use the official unit code (letters, digits, '-', '_', '.')"
        }
    }
}
