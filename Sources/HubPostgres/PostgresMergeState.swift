import HubCore
import Foundation
import PostgresNIO
import MergeEngine
import Register
import SyncCore

/// The merge state of rows (`RowState`) in `_sync_rows` and `_sync_fields` of the
/// PostgreSQL store, read and written a batch at a time: any number of rows in two queries,
/// saved in two statements (multi-row upserts over `unnest` arrays).
struct PostgresMergeState {
    let session: PostgresSession

    /// The states of `keys` (an empty state for a row the store holds nothing of).
    nonisolated(nonsending) func load(_ keys: [RowKey]) async throws -> [RowKey: RowState] {
        guard !keys.isEmpty else { return [:] }
        let tables = keys.map(\.table), rows = keys.map(\.row)
        let wanted = "SELECT * FROM unnest($1::text[], $2::text[]) AS k(tbl, pk)"
        var headers: [RowKey: (VersionVector, VersionVector)] = [:]
        for row in try await session.rows(
            "SELECT r.tbl, r.pk, r.clock, r.deletes FROM _sync_rows r WHERE (r.tbl, r.pk) IN (\(wanted))", [tables, rows]) {
            let (table, key, clock, deletes) = try row.decode((String, String, String, String).self)
            headers[RowKey(table: table, row: key)] = (try vector(clock), try vector(deletes))
        }
        var fields: [RowKey: [String: FieldState]] = [:]
        for row in try await session.rows(
            "SELECT f.tbl, f.pk, f.col, f.seen, f.dot, f.hlc, f.val, f.more FROM _sync_fields f WHERE (f.tbl, f.pk) IN (\(wanted))",
            [tables, rows]) {
            let (table, key, column, field) = try fieldState(row)
            fields[RowKey(table: table, row: key), default: [:]][column] = field
        }
        var states: [RowKey: RowState] = [:]
        for key in keys {
            guard let (clock, deletes) = headers[key] else { states[key] = RowState(); continue }
            states[key] = RowState(fields: fields[key] ?? [:], deletes: deletes, clock: clock)
        }
        return states
    }

    /// Rows of `table` in row order with their states: in `scope` (every row when nil), after
    /// `after`, at most `limit`.
    nonisolated(nonsending) func rows(table: String, scope: String?, after: String = "", limit: Int = Int.max) async throws -> [(String, RowState)] {
        var binds: [any PostgresThrowingDynamicTypeEncodable] = [table, after, Int64(min(limit, Int(Int64.max)))]
        var inScope = ""
        if let scope {
            binds.append(PostgresValueText.tag(.text(scope)))
            inScope = " AND r.pk IN (SELECT s.pk FROM _sync_fields s WHERE s.tbl = $1 AND s.col = '\(RowScope.column)' AND s.val = $4)"
        }
        let picked = "SELECT r.pk FROM _sync_rows r WHERE r.tbl = $1 AND r.pk > $2\(inScope) ORDER BY r.pk LIMIT $3"
        var headers: [(String, VersionVector, VersionVector)] = []
        for row in try await session.rows(
            "SELECT r.pk, r.clock, r.deletes FROM _sync_rows r WHERE r.tbl = $1 AND r.pk IN (\(picked)) ORDER BY r.pk", binds) {
            let (key, clock, deletes) = try row.decode((String, String, String).self)
            headers.append((key, try vector(clock), try vector(deletes)))
        }
        guard !headers.isEmpty else { return [] }
        var fields: [String: [String: FieldState]] = [:]
        for row in try await session.rows(
            "SELECT f.tbl, f.pk, f.col, f.seen, f.dot, f.hlc, f.val, f.more FROM _sync_fields f WHERE f.tbl = $1 AND f.pk = ANY($2::text[])",
            [table, headers.map(\.0)]) {
            let (_, key, column, field) = try fieldState(row)
            fields[key, default: [:]][column] = field
        }
        return headers.map { key, clock, deletes in (key, RowState(fields: fields[key] ?? [:], deletes: deletes, clock: clock)) }
    }

    /// Saves the row headers and the dirty fields of `outcomes`.
    nonisolated(nonsending) func save(_ outcomes: [MergeBatch.Outcome]) async throws {
        guard !outcomes.isEmpty else { return }
        try await session.run(
            """
            INSERT INTO _sync_rows(tbl, pk, clock, deletes)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
            ON CONFLICT (tbl, pk) DO UPDATE SET clock = excluded.clock, deletes = excluded.deletes
            """,
            [outcomes.map(\.key.table), outcomes.map(\.key.row), outcomes.map(\.state.clock.description),
             outcomes.map(\.state.deletes.description)])
        let encoder = JSONEncoder()
        var tables: [String] = [], rows: [String] = [], columns: [String] = [], seen: [String] = [], dots: [String] = []
        var stamps: [Int64] = [], values: [String] = [], more: [String] = []
        for outcome in outcomes {
            for column in outcome.dirtyColumns.sorted() {
                guard let field = outcome.state.fields[column], let first = field.writes.first else { continue }
                tables.append(outcome.key.table)
                rows.append(outcome.key.row)
                columns.append(column)
                seen.append(field.seen.description)
                dots.append(first.dot.description)
                stamps.append(Int64(bitPattern: first.timestamp.rawValue))
                values.append(PostgresValueText.tag(first.value))
                more.append(field.writes.count > 1
                    ? String(decoding: try encoder.encode(Array(field.writes.dropFirst())), as: UTF8.self) : "")
            }
        }
        guard !tables.isEmpty else { return }
        try await session.run(
            """
            INSERT INTO _sync_fields(tbl, pk, col, seen, dot, hlc, val, more)
            SELECT tbl, pk, col, seen, dot, hlc, val, nullif(more, '')
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[])
                AS f(tbl, pk, col, seen, dot, hlc, val, more)
            ON CONFLICT (tbl, pk, col) DO UPDATE SET seen = excluded.seen, dot = excluded.dot, hlc = excluded.hlc,
                val = excluded.val, more = excluded.more
            """, [tables, rows, columns, seen, dots, stamps, values, more])
    }

    private func vector(_ text: String) throws -> VersionVector {
        guard let vector = VersionVector(text: text) else { throw Self.damaged("a version vector") }
        return vector
    }

    private func fieldState(_ row: PostgresRow) throws -> (String, String, String, FieldState) {
        let (table, key, column, seen, dot, hlc, value, more) = try row.decode((String, String, String, String, String, Int64, String, String?).self)
        guard let seen = VersionVector(text: seen), let dot = Dot(text: dot), let value = PostgresValueText.value(value)
        else { throw Self.damaged("field \(table)/\(key)/\(column)") }
        var writes = [FieldWrite(dot: dot, timestamp: HybridTimestamp(rawValue: UInt64(bitPattern: hlc)), value: value)]
        if let more { writes += try JSONDecoder().decode([FieldWrite].self, from: Data(more.utf8)) }
        return (table, key, column, FieldState(writes: writes, seen: seen))
    }

    static func damaged(_ what: String) -> HubError {
        HubError(status: 500, code: "damaged_store", message: "the hub's merge state of \(what) is damaged: run 'syncctl doctor' on the hub")
    }
}
