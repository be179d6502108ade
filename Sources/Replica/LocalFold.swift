import Foundation
import MergeEngine
import Register
import SyncCore

/// Folding: turning captured writes (`_sync_log` rows the triggers left) into changes with
/// dots, values and clock stamps, and merging them into the replica's merge state.
extension Replica {
    /// Folds local captures not yet folded, in a transaction of its own, and closes the
    /// conflicts they settled. Every push and every apply does this first; call it to see
    /// the newest writes in `capturedChanges` or `conflicts`.
    public func fold() throws {
        try database.transaction {
            _ = try foldLocalChanges().save(replica: self)
        }
    }

    /// Folds local captures not yet folded, inside the caller's transaction.
    ///
    /// An INSERT changes every column; an UPDATE changes the columns whose value now differs
    /// from what the merge state shows; a DELETE is a tombstone. A local write has seen
    /// everything its row had, so it supersedes all of it; the register row already shows it
    /// and is not written again.
    ///
    /// Values are read here, when folded, not when written: a value overwritten locally before
    /// its fold travels with the later value. Nothing can tell: the later write supersedes it
    /// on every replica, and nothing leaves this replica unfolded (every push and every remote
    /// apply folds first).
    func foldLocalChanges() throws -> PendingRows {
        var batch = PendingRows()
        let folded = try meta("folded_seq")?.integerValue ?? 0
        let entries = try logEntries(fromSeq: folded + 1, onlyUnfolded: true)
        guard let last = entries.last?.seq else { return batch }
        var clock = HybridLogicalClock(last: try self.clock)
        let policy = try self.policy
        try batch.load(entries.map { RowKey(table: $0.table, row: $0.row) }, store: mergeStore)
        for entry in entries {
            guard let table = schema.table(named: entry.table) else { throw ApplyError.unknownTable(entry.table) }
            let key = RowKey(table: entry.table, row: entry.row)
            let current = try database.query(table.selectRowSQL, [.text(entry.row)]).first
            let (operation, slots) = WriteFold.settle(
                entry.operation, heldAnywhere: batch.rows[key]!.state != RowState(), rowExists: current != nil,
                preset: entry.presetColumns.map(WriteFold.slots(of:))
            ) {
                guard entry.operation == .update, let current else { return Array(table.columns.indices) }
                // The columns whose value now differs from what the merge state shows.
                let shown = policy.resolve(batch.rows[key]!.state, table: table.name, row: entry.row).values
                return table.columns.indices.filter { shown?[table.columns[$0].name] ?? .null != current[$0] || shown == nil }
            }
            let values = slots.map { current?[$0] ?? .null }
            let settled = LogEntry.Folded(
                columns: WriteFold.mask(of: slots), values: values,
                timestamp: clock.now(physicalMillis: entry.writtenAtMillis))
            // SQLite builds the JSON array from typed values, and json_each reads it back typed.
            let placeholders = Array(repeating: "?", count: values.count).joined(separator: ", ")
            try database.run(
                "UPDATE _sync_log SET op = ?, cols = ?, hlc = ?, vals = json_array(\(placeholders)) WHERE seq = ?",
                [.text(operation.rawValue), .integer(settled.columns), .integer(Int64(settled.timestamp.rawValue))] + values + [.integer(entry.seq)])
            for change in entry.with(operation: operation).changes(replica: id, schema: table, folded: settled) {
                batch.rows[key]!.state.apply(change)
                if let column = change.column { batch.rows[key]!.dirtyColumns.insert(column) }
            }
        }
        try database.run("UPDATE _sync_clock SET hlc = ?", [.integer(Int64(clock.last.rawValue))])
        try setMeta("folded_seq", .integer(last))
        return batch
    }
}

extension Replica {
    /// A deliberate local write (a reviewer's resolution, an automatic rule's action): the
    /// named columns count as written even when their value does not change, so the write
    /// supersedes every concurrent side of them, here and on every replica it reaches.
    public func write(table: String, row: String, values: [String: Value]) throws {
        guard let schema = schema.table(named: table) else { throw ApplyError.unknownTable(table) }
        var mask: Int64 = 0
        for column in values.keys {
            guard let slot = schema.columns.firstIndex(where: { $0.name == column }) else {
                throw ApplyError.unknownColumn(table: table, column: column)
            }
            mask |= Int64(1) << slot
        }
        let names = values.keys.sorted()
        try database.transaction {
            try database.run("INSERT INTO _sync_applying(since) VALUES (0)")
            try database.run(
                "UPDATE \(table) SET \(names.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?",
                names.map { values[$0]! } + [.text(row)])
            try database.run("DELETE FROM _sync_applying")
            try database.run(
                """
                INSERT INTO _sync_log(tbl, pk, op, at_ms, ctx, cols) VALUES (?, ?, 'update',
                    CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER),
                    (SELECT clock FROM _sync_rows WHERE tbl = ? AND pk = ?), ?)
                """, [.text(table), .text(row), .text(table), .text(row), .integer(mask)])
        }
    }
}

extension TableSchema {
    /// Every column of one row, in table order (without the id).
    var selectRowSQL: String {
        "SELECT \(columns.map(\.name).joined(separator: ", ")) FROM \(name) WHERE id = ?"
    }
}
