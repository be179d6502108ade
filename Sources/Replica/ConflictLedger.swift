import Foundation
import MergeEngine
import Register
import SyncCore

/// `_sync_conflicts` of a SQLite register: writes what a merge decided (`LedgerWrites`).
struct ConflictLedger {
    let database: SQLiteDatabase

    /// Writes a merge's ledger changes at clock stamp `now`: records opened or refreshed (a
    /// closed one opens again from now, a standing one keeps its opening), records closed.
    func write(_ writes: LedgerWrites, at now: HybridTimestamp) throws {
        var closes = writes.closes
        if !writes.reconciledRows.isEmpty {
            var standing: [ConflictKey] = []
            try database.forEachRow(
                """
                SELECT tbl, pk, col FROM _sync_conflicts WHERE state <> 'closed' AND kind = 'field'
                    AND (tbl, pk) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))
                """, [.text(JSONText.pairs(writes.reconciledRows.map { ($0.table, $0.row) }))]
            ) { row in
                standing.append(ConflictKey(table: row[0].description, row: row[1].description, column: row[2].description))
            }
            closes += writes.fieldClosures(standing: standing)
        }
        for record in writes.records {
            try database.run(
                """
                INSERT INTO _sync_conflicts(tbl, pk, col, kind, rule, sides, chosen, state, opened_hlc, closed_hlc)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
                ON CONFLICT(tbl, pk, col) DO UPDATE SET kind = excluded.kind, rule = excluded.rule, sides = excluded.sides,
                    chosen = excluded.chosen, state = excluded.state, closed_hlc = NULL,
                    opened_hlc = CASE WHEN _sync_conflicts.state = 'closed' THEN excluded.opened_hlc ELSE _sync_conflicts.opened_hlc END
                """,
                [.text(record.table), .text(record.row), .text(record.column), .text(record.kind.rawValue), .text(record.rule),
                 .text(record.sides), .text(record.chosen), .text(record.state.rawValue), .integer(Int64(now.rawValue))])
        }
        for key in closes { try close(table: key.table, row: key.row, column: key.column, at: now) }
    }
}

extension ConflictLedger {
    /// Rule conflicts of `kinds` still standing whose sides name any of `ids`, as (table, row):
    /// for rows that can no longer say where they belonged (deleted, or moved to another
    /// seat). One query per batch, matched in memory.
    func standing(_ kinds: Set<ConflictRecord.Kind>, naming ids: Set<String>) throws -> [(table: String, row: String)] {
        guard !ids.isEmpty, !kinds.isEmpty else { return [] }
        var found: [(String, String)] = []
        let names = kinds.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
        try database.forEachRow(
            "SELECT tbl, pk, sides FROM _sync_conflicts WHERE state <> 'closed' AND kind IN (\(names))"
        ) { row in
            let sides = row[2].description
            if ids.contains(where: { sides.contains("\"\($0)\"") }) { found.append((row[0].description, row[1].description)) }
        }
        return found
    }

    /// Closes a conflict the data no longer shows.
    func close(table: String, row: String, column: String, at now: HybridTimestamp) throws {
        try database.run(
            "UPDATE _sync_conflicts SET state = 'closed', closed_hlc = ? WHERE tbl = ? AND pk = ? AND col = ? AND state <> 'closed'",
            [.integer(Int64(now.rawValue)), .text(table), .text(row), .text(column)])
    }
}

extension Replica {
    /// Recorded conflicts, optionally only those in one state, of one column, or of one kind;
    /// with `after` and `limit`, a page of them in id order (`ConflictRecord.id`); with `id`,
    /// the one conflict of that id.
    public func conflicts(
        state: ConflictRecord.State? = nil, column: String? = nil, kind: ConflictRecord.Kind? = nil,
        after: String? = nil, limit: Int? = nil, id: String? = nil
    ) throws -> [ConflictRecord] {
        var sql = "SELECT tbl, pk, col, kind, rule, sides, chosen, state, opened_hlc FROM _sync_conflicts WHERE 1"
        var parameters: [Value] = []
        if let id {
            sql += " AND tbl || '/' || pk || '/' || col = ?"
            parameters.append(.text(id))
        }
        if let after {
            sql += " AND tbl || '/' || pk || '/' || col > ?"
            parameters.append(.text(after))
        }
        if let kind {
            sql += " AND kind = ?"
            parameters.append(.text(kind.rawValue))
        }
        if let state {
            sql += " AND state = ?"
            parameters.append(.text(state.rawValue))
        }
        if let column {
            sql += " AND col = ?"
            parameters.append(.text(column))
        }
        let order = after != nil || limit != nil ? " ORDER BY tbl || '/' || pk || '/' || col" : " ORDER BY tbl, pk, col"
        let page = limit.map { " LIMIT \(max(0, $0))" } ?? ""
        return try database.query(sql + order + page, parameters).map { row in
            var record = ConflictRecord(
                table: row[0].description, row: row[1].description, column: row[2].description,
                kind: ConflictRecord.Kind(rawValue: row[3].description) ?? .field,
                rule: row[4].description, sidesJSON: row[5].description, chosen: row[6].description,
                state: ConflictRecord.State(rawValue: row[7].description) ?? .open)
            record.openedHLC = row.count > 8 ? row[8].integerValue.map { UInt64(bitPattern: $0) } : nil
            return record
        }
    }
}
