import HubCore
import Foundation
import PostgresNIO
import MergeEngine
import Register
import SyncCore

/// `_sync_conflicts` of the PostgreSQL store: writes what a merge decided (`LedgerWrites`),
/// a batch of records per statement. Each record has its kind (`ConflictRecord.Kind`) in a
/// typed column.
struct PostgresConflictLedger {
    let session: PostgresSession
    /// The clock stamp records are opened and closed at.
    let now: HybridTimestamp

    /// Writes a merge's ledger changes: the field records of reconciled rows that are no
    /// longer current closed, records opened or refreshed, records closed.
    nonisolated(nonsending) func write(_ writes: LedgerWrites) async throws {
        if !writes.reconciledRows.isEmpty {
            let standing = try await session.rows(
                """
                SELECT c.tbl, c.pk, c.col FROM _sync_conflicts c JOIN unnest($1::text[], $2::text[]) AS r(tbl, pk)
                    ON c.tbl = r.tbl AND c.pk = r.pk
                WHERE c.kind = 'field' AND c.state <> 'closed'
                """, [writes.reconciledRows.map(\.table), writes.reconciledRows.map(\.row)]
            ).map { row in
                let (table, key, column) = try row.decode((String, String, String).self)
                return ConflictKey(table: table, row: key, column: column)
            }
            try await close(writes.fieldClosures(standing: standing))
        }
        try await record(writes.records)
        try await close(writes.closes)
    }

    /// Records conflicts, or refreshes them: a closed one opens again from now.
    private nonisolated(nonsending) func record(_ records: [ConflictEntry]) async throws {
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

    /// Closes conflicts the data no longer shows.
    nonisolated(nonsending) func close(_ keys: [ConflictKey]) async throws {
        guard !keys.isEmpty else { return }
        try await session.run(
            """
            UPDATE _sync_conflicts c SET state = 'closed', closed_hlc = $4
            FROM unnest($1::text[], $2::text[], $3::text[]) AS k(tbl, pk, col)
            WHERE c.tbl = k.tbl AND c.pk = k.pk AND c.col = k.col AND c.state <> 'closed'
            """, [keys.map(\.table), keys.map(\.row), keys.map(\.column), Int64(bitPattern: now.rawValue)])
    }
}
