import HubCore
import PostgresNIO
import MergeEngine
import Register
import SyncCore

/// The SQL of moves and replica ids on PostgreSQL (`RowMove`, `HubTransaction`).
extension PostgresHubTransaction {
    nonisolated(nonsending) func publishedScopes(of rows: Set<RowKey>) async throws -> [RowKey: String] {
        guard !rows.isEmpty else { return [:] }
        let keys = Array(rows)
        var scopes: [RowKey: String] = [:]
        for row in try await session.rows(
            """
            SELECT DISTINCT ON (f.tbl, f.pk) f.tbl, f.pk, f.scope FROM _sync_hub_feed f
            WHERE f.col = '\(RowScope.column)' AND (f.tbl, f.pk) IN (SELECT * FROM unnest($1::text[], $2::text[]))
            ORDER BY f.tbl, f.pk, f.seq DESC
            """, [keys.map(\.table), keys.map(\.row)]) {
            let (table, key, scope) = try row.decode((String, String, String).self)
            scopes[RowKey(table: table, row: key)] = scope
        }
        return scopes
    }

    nonisolated(nonsending) func recordMoves(_ moves: [RowMove], at seq: Int64) async throws {
        try turn.wholeDistrict("moving rows")
        guard !moves.isEmpty else { return }
        try await session.run(
            """
            INSERT INTO _sync_hub_moves(seq, tbl, pk, from_scope, to_scope)
            SELECT $1, m.tbl, m.pk, m.from_scope, m.to_scope FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
                AS m(tbl, pk, from_scope, to_scope)
            """, [seq, moves.map(\.table), moves.map(\.row), moves.map(\.from), moves.map(\.to)])
    }

    nonisolated(nonsending) func moves(touching scope: String, after: Int64, through: Int64) async throws -> [(seq: Int64, move: RowMove)] {
        try await session.rows(
            """
            SELECT seq, tbl, pk, from_scope, to_scope FROM _sync_hub_moves WHERE from_scope = $1 AND seq > $2 AND seq <= $3
            UNION ALL
            SELECT seq, tbl, pk, from_scope, to_scope FROM _sync_hub_moves WHERE to_scope = $1 AND seq > $2 AND seq <= $3
            ORDER BY 1
            """, [scope, after, through]
        ).map { row in
            let (seq, table, key, from, to) = try row.decode((Int64, String, String, String, String).self)
            return (seq, RowMove(table: table, row: key, from: from, to: to))
        }
    }

    nonisolated(nonsending) func movedOut(of rows: Set<RowKey>, from scope: String) async throws -> [RowKey: Int64] {
        guard !rows.isEmpty else { return [:] }
        let keys = Array(rows)
        var moved: [RowKey: Int64] = [:]
        for row in try await session.rows(
            """
            SELECT m.tbl, m.pk, max(m.seq) FROM _sync_hub_moves m
            WHERE m.from_scope = $3 AND (m.tbl, m.pk) IN (SELECT * FROM unnest($1::text[], $2::text[]))
            GROUP BY m.tbl, m.pk
            """, [keys.map(\.table), keys.map(\.row), scope]) {
            let (table, key, seq) = try row.decode((String, String, Int64).self)
            moved[RowKey(table: table, row: key)] = seq
        }
        return moved
    }

    nonisolated(nonsending) func recordTold(_ replica: ReplicaID, through seq: Int64, counter: UInt64) async throws {
        try await session.run(
            "INSERT INTO _sync_hub_told(replica, seq, counter) VALUES ($1, $2, $3) ON CONFLICT (replica, seq) DO NOTHING",
            [replica.rawValue, seq, Int64(bitPattern: counter)])
    }

    nonisolated(nonsending) func told(_ replica: ReplicaID) async throws -> [(seq: Int64, counter: UInt64)] {
        try await session.rows("SELECT seq, counter FROM _sync_hub_told WHERE replica = $1 ORDER BY seq", [replica.rawValue]).map { row in
            let (seq, counter) = try row.decode((Int64, Int64).self)
            return (seq, UInt64(bitPattern: counter))
        }
    }

    nonisolated(nonsending) func replicaUse(_ replica: ReplicaID) async throws -> String? {
        try await session.rows("SELECT scope FROM _sync_hub_replicas WHERE replica = $1", [replica.rawValue]).first?.decode(String.self)
    }

    nonisolated(nonsending) func recordReplica(_ replica: ReplicaID, scope: String, at time: String) async throws {
        try await session.run(
            "INSERT INTO _sync_hub_replicas(replica, scope, issued_at) VALUES ($1, $2, $3) ON CONFLICT (replica) DO NOTHING",
            [replica.rawValue, scope, time])
    }

    nonisolated(nonsending) func replicas(serving scope: String) async throws -> [ReplicaID] {
        try await session.rows("SELECT replica FROM _sync_hub_replicas WHERE scope = $1 ORDER BY issued_at, replica", [scope])
            .compactMap { try ReplicaID(rawValue: $0.decode(String.self)) }
    }
}
