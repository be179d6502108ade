import HubCore
import MergeEngine
import Register
import Replica
import SyncCore

/// The SQL of moves and replica ids on the hub's SQLite file (`RowMove`, `HubTransaction`).
extension SQLiteHubTransaction {
    nonisolated(nonsending) func publishedScopes(of rows: Set<RowKey>) async throws -> [RowKey: String] {
        var scopes: [RowKey: String] = [:]
        for key in rows {
            if let scope = try database.scalar(
                "SELECT scope FROM _sync_hub_feed WHERE tbl = ? AND pk = ? AND col = '\(RowScope.column)' ORDER BY seq DESC LIMIT 1",
                [.text(key.table), .text(key.row)])?.textValue
            {
                scopes[key] = scope
            }
        }
        return scopes
    }

    nonisolated(nonsending) func recordMoves(_ moves: [RowMove], at seq: Int64) async throws {
        try database.runRows(moves.map { [.integer(seq), .text($0.table), .text($0.row), .text($0.from), .text($0.to)] }) {
            "INSERT INTO _sync_hub_moves(seq, tbl, pk, from_scope, to_scope) VALUES \($0)"
        }
    }

    nonisolated(nonsending) func moves(touching scope: String, after: Int64, through: Int64) async throws -> [(seq: Int64, move: RowMove)] {
        try database.query(
            """
            SELECT seq, tbl, pk, from_scope, to_scope FROM _sync_hub_moves WHERE from_scope = ?1 AND seq > ?2 AND seq <= ?3
            UNION ALL
            SELECT seq, tbl, pk, from_scope, to_scope FROM _sync_hub_moves WHERE to_scope = ?1 AND seq > ?2 AND seq <= ?3
            ORDER BY 1
            """, [.text(scope), .integer(after), .integer(through)]
        ).map { row in
            (row[0].integerValue ?? 0, RowMove(table: row[1].description, row: row[2].description, from: row[3].description, to: row[4].description))
        }
    }

    nonisolated(nonsending) func movedOut(of rows: Set<RowKey>, from scope: String) async throws -> [RowKey: Int64] {
        var moved: [RowKey: Int64] = [:]
        for key in rows {
            if let seq = try database.scalar(
                "SELECT max(seq) FROM _sync_hub_moves WHERE tbl = ? AND pk = ? AND from_scope = ?",
                [.text(key.table), .text(key.row), .text(scope)])?.integerValue
            {
                moved[key] = seq
            }
        }
        return moved
    }

    nonisolated(nonsending) func recordTold(_ replica: ReplicaID, through seq: Int64, counter: UInt64) async throws {
        try database.run(
            "INSERT INTO _sync_hub_told(replica, seq, counter) VALUES (?, ?, ?) ON CONFLICT(replica, seq) DO NOTHING",
            [.text(replica.rawValue), .integer(seq), .integer(Int64(bitPattern: counter))])
    }

    nonisolated(nonsending) func told(_ replica: ReplicaID) async throws -> [(seq: Int64, counter: UInt64)] {
        try database.query("SELECT seq, counter FROM _sync_hub_told WHERE replica = ? ORDER BY seq", [.text(replica.rawValue)])
            .map { ($0[0].integerValue ?? 0, UInt64(bitPattern: $0[1].integerValue ?? 0)) }
    }

    nonisolated(nonsending) func replicaUse(_ replica: ReplicaID) async throws -> String? {
        try database.scalar("SELECT scope FROM _sync_hub_replicas WHERE replica = ?", [.text(replica.rawValue)])?.textValue
    }

    nonisolated(nonsending) func recordReplica(_ replica: ReplicaID, scope: String, at time: String) async throws {
        try database.run(
            "INSERT INTO _sync_hub_replicas(replica, scope, issued_at) VALUES (?, ?, ?) ON CONFLICT(replica) DO NOTHING",
            [.text(replica.rawValue), .text(scope), .text(time)])
    }

    nonisolated(nonsending) func replicas(serving scope: String) async throws -> [ReplicaID] {
        try database.query("SELECT replica FROM _sync_hub_replicas WHERE scope = ? ORDER BY issued_at, replica", [.text(scope)])
            .compactMap { $0.first?.textValue.flatMap(ReplicaID.init(rawValue:)) }
    }
}
