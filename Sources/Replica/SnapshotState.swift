import SyncCore

/// Row merge states in bulk: what the hub serves as a snapshot of a scope, and how a new or
/// rebuilt replica installs it.
extension Replica {
    /// Rows of `table` after `row` (by id), in id order, whose `commune_id` is `scope` (any
    /// row when `scope` is nil), with their merge state; at most `limit`.
    public func rowStates(table: String, after row: String, scope: String?, limit: Int) throws -> [(String, RowState)] {
        var sql = "SELECT r.pk FROM _sync_rows r"
        var parameters: [Value] = [.text(table), .text(row)]
        if let scope {
            sql += " JOIN _sync_fields f ON f.tbl = r.tbl AND f.pk = r.pk AND \(RowScope.condition(fields: "f", is: "?"))"
            parameters.insert(.text(scope), at: 0)
        }
        sql += " WHERE r.tbl = ? AND r.pk > ? ORDER BY r.pk LIMIT ?"
        parameters.append(.integer(Int64(limit)))
        let store = mergeStore
        return try database.query(sql, parameters).compactMap { $0.first?.textValue }.map { key in
            (key, try store.load(table: table, row: key))
        }
    }

    /// Merges row states from elsewhere (a snapshot page) into this replica and writes the
    /// register rows they settle to, in one transaction, together with `alongside`.
    public func install(_ rows: [(table: String, row: String, state: RowState)], alongside: () throws -> Void = {}) throws {
        for row in rows where schema.table(named: row.table) == nil { throw ApplyError.unknownTable(row.table) }
        try database.transaction {
            try database.run("INSERT INTO _sync_applying(since) VALUES (0)")
            var batch = try foldLocalChanges()
            for row in rows {
                try batch.merge(row.state, into: RowKey(table: row.table, row: row.row), store: mergeStore)
            }
            _ = try batch.save(replica: self, policy: policy)
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
