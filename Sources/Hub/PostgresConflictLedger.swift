import Foundation
import PostgresNIO
import Replica
import SyncCore

/// `_sync_conflicts` of the PostgreSQL store, kept in step with the merge state as
/// `ConflictLedger` keeps SQLite's, a batch of records per statement. Each record has its
/// kind (`ConflictRecord.Kind`) in a typed column.
struct PostgresConflictLedger {
    let session: PostgresSession
    /// The clock stamp records are opened and closed at.
    let now: HybridTimestamp

    /// One conflict to record (or refresh).
    struct Record {
        let table: String
        let row: String
        let column: String
        let kind: ConflictRecord.Kind
        let rule: String
        let sides: String
        let chosen: String
        let state: ConflictRecord.State
    }

    static func json<Sides: Encodable>(_ sides: Sides) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(sides), as: UTF8.self)
    }

    /// Brings the field conflicts of each row in step with what its merge state shows now:
    /// current ones recorded, the row's other field conflicts closed.
    nonisolated(nonsending) func reconcileFields(_ outcomes: [MergeBatch.Outcome]) async throws {
        guard !outcomes.isEmpty else { return }
        let current = try outcomes.flatMap { outcome in
            try outcome.resolved.conflicts.map { conflict in
                Record(table: outcome.key.table, row: outcome.key.row, column: conflict.column, kind: .field, rule: conflict.rule.rawValue,
                       sides: try Self.json(conflict.sides), chosen: conflict.chosen.description,
                       state: conflict.needsReview ? .open : .settled)
            }
        }
        try await session.run(
            """
            UPDATE _sync_conflicts c SET state = 'closed', closed_hlc = $3
            FROM unnest($1::text[], $2::text[]) AS r(tbl, pk)
            WHERE c.tbl = r.tbl AND c.pk = r.pk AND c.kind = 'field' AND c.state <> 'closed'
              AND (c.tbl, c.pk, c.col) NOT IN (SELECT * FROM unnest($4::text[], $5::text[], $6::text[]))
            """,
            [outcomes.map(\.key.table), outcomes.map(\.key.row), Int64(bitPattern: now.rawValue),
             current.map(\.table), current.map(\.row), current.map(\.column)])
        try await record(current)
    }

    /// Records conflicts, or refreshes them: a closed one opens again from now.
    nonisolated(nonsending) func record(_ records: [Record]) async throws {
        guard !records.isEmpty else { return }
        try await session.run(
            """
            INSERT INTO _sync_conflicts(tbl, pk, col, kind, rule, sides, chosen, state, opened_hlc, closed_hlc)
            SELECT r.tbl, r.pk, r.col, r.kind::_sync_conflict_kind, r.rule, r.sides, r.chosen, r.state::_sync_conflict_state, $9, NULL
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                AS r(tbl, pk, col, kind, rule, sides, chosen, state)
            ON CONFLICT (tbl, pk, col) DO UPDATE SET kind = excluded.kind, rule = excluded.rule, sides = excluded.sides,
                chosen = excluded.chosen, state = excluded.state, closed_hlc = NULL,
                opened_hlc = CASE WHEN _sync_conflicts.state = 'closed' THEN excluded.opened_hlc ELSE _sync_conflicts.opened_hlc END
            """,
            [records.map(\.table), records.map(\.row), records.map(\.column), records.map(\.kind.rawValue),
             records.map(\.rule), records.map(\.sides), records.map(\.chosen), records.map(\.state.rawValue),
             Int64(bitPattern: now.rawValue)])
    }

    /// Closes conflicts the data no longer shows, by (table, row, column).
    nonisolated(nonsending) func close(_ keys: [(table: String, row: String, column: String)]) async throws {
        guard !keys.isEmpty else { return }
        try await session.run(
            """
            UPDATE _sync_conflicts c SET state = 'closed', closed_hlc = $4
            FROM unnest($1::text[], $2::text[], $3::text[]) AS k(tbl, pk, col)
            WHERE c.tbl = k.tbl AND c.pk = k.pk AND c.col = k.col AND c.state <> 'closed'
            """, [keys.map(\.table), keys.map(\.row), keys.map(\.column), Int64(bitPattern: now.rawValue)])
    }

    /// Standing conflicts of `kinds` whose sides name any of `ids`, as (table, row): for rows
    /// that can no longer say where they belonged. One query, matched in memory.
    nonisolated(nonsending) func standing(_ kinds: [ConflictRecord.Kind], naming ids: Set<String>) async throws -> [(table: String, row: String)] {
        guard !ids.isEmpty else { return [] }
        return try await session.rows(
            "SELECT tbl, pk, sides FROM _sync_conflicts WHERE state <> 'closed' AND kind = ANY($1::text[]::_sync_conflict_kind[])",
            [kinds.map(\.rawValue)]
        ).compactMap { row in
            let (table, key, sides) = try row.decode((String, String, String).self)
            return ids.contains(where: { sides.contains("\"\($0)\"") }) ? (table, key) : nil
        }
    }
}
