import MergeEngine
import Register
import SyncCore

/// Row merge states in bulk: what the hub serves as a snapshot of a scope, and how a new or
/// rebuilt replica installs it.
extension Replica {
    /// Rows of `table` after `row` (by id), in id order, whose `commune_id` is `scope` (any
    /// row when `scope` is nil), with their merge state; at most `limit`.
    public func rowStates(table: String, after row: String, scope: String?, limit: Int) throws -> [(String, RowState)] {
        // In a scope, read from the scope's fields in row order (the hub indexes them by scope),
        // not every row of the table: a national hub serves one office as fast as a small one.
        let sql = scope == nil
            ? "SELECT r.pk FROM _sync_rows r WHERE r.tbl = ?1 AND r.pk > ?2 ORDER BY r.pk LIMIT ?3"
            : """
            SELECT f.pk FROM _sync_fields f JOIN _sync_rows r ON r.tbl = f.tbl AND r.pk = f.pk
            WHERE f.tbl = ?1 AND \(RowScope.condition(fields: "f", is: "?4")) AND f.pk > ?2 ORDER BY f.pk LIMIT ?3
            """
        var parameters: [Value] = [.text(table), .text(row), .integer(Int64(limit))]
        if let scope { parameters.append(.text(scope)) }
        let keys = try database.query(sql, parameters).compactMap { $0.first?.textValue }
        // The page's states in two queries, not two per row.
        let states = try mergeStore.load(keys.map { RowKey(table: table, row: $0) })
        return keys.map { ($0, states[RowKey(table: table, row: $0)] ?? RowState()) }
    }

    /// Merges row states from elsewhere (a snapshot page) into this replica and writes the
    /// register rows they settle to, in one transaction, together with `alongside`.
    public func install(_ rows: [(table: String, row: String, state: RowState)], alongside: () throws -> Void = {}) throws {
        try checkKnown(rows.map(\.table))
        try database.transaction {
            try database.run("INSERT INTO _sync_applying(since) VALUES (0)")
            var batch = try foldLocalChanges()
            try batch.load(rows.map { RowKey(table: $0.table, row: $0.row) }, store: mergeStore)
            for row in rows {
                try batch.merge(row.state, into: RowKey(table: row.table, row: row.row), store: mergeStore)
            }
            _ = try batch.save(replica: self)
            try alongside()
            try database.run("DELETE FROM _sync_applying")
        }
    }

    /// Makes sure this replica never hands out a dot counter at or below `counter` (after a
    /// rebuild, the hub may hold changes of this replica that the file no longer has).
    public func reserveCounters(through counter: UInt64) throws {
        let seq = Int64(DotBlock.of(counter))
        guard seq > 0, try database.scalar("SELECT max(seq) FROM _sync_log")?.integerValue ?? 0 < seq else { return }
        try database.run(
            "INSERT INTO _sync_log(seq, tbl, pk, op, at_ms, cols, vals, hlc) VALUES (?, '', '', 'reserve', 0, 0, '[]', 0)",
            [.integer(seq)])
        try setMeta("folded_seq", .integer(max(seq, try meta("folded_seq")?.integerValue ?? 0)))
    }
}
