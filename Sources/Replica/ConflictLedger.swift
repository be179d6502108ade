import Foundation
import SyncCore

/// One field that holds concurrent writes, as recorded in `_sync_conflicts`.
public struct ConflictRecord: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Waits for district review (the column's rule is `review`).
        case open
        /// A rule chose the shown value; both writes are kept until one supersedes them.
        case settled
        /// A later write saw every side: nothing left to decide.
        case closed
    }

    public let table: String
    public let row: String
    public let column: String
    public let rule: String
    public let sides: [FieldWrite]
    public let chosen: Dot?
    public let state: State
}

/// `_sync_conflicts`: keeps the recorded conflicts in step with the merge state of each row.
struct ConflictLedger {
    let database: SQLiteDatabase

    func reconcile(table: String, row: String, with current: [FieldConflict], at now: HybridTimestamp) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for conflict in current {
            let sides = String(decoding: try encoder.encode(conflict.sides), as: UTF8.self)
            try database.run(
                """
                INSERT INTO _sync_conflicts(tbl, pk, col, rule, sides, chosen, state, opened_hlc, closed_hlc)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
                ON CONFLICT(tbl, pk, col) DO UPDATE SET rule = excluded.rule, sides = excluded.sides,
                    chosen = excluded.chosen, state = excluded.state, closed_hlc = NULL,
                    opened_hlc = CASE WHEN _sync_conflicts.state = 'closed' THEN excluded.opened_hlc
                                      ELSE _sync_conflicts.opened_hlc END
                """,
                [.text(table), .text(row), .text(conflict.column), .text(conflict.rule.rawValue), .text(sides),
                 .text(conflict.chosen.description),
                 .text(conflict.needsReview ? ConflictRecord.State.open.rawValue : ConflictRecord.State.settled.rawValue),
                 .integer(Int64(now.rawValue))])
        }
        let stillOpen = Set(current.map(\.column))
        for column in try database.query(
            "SELECT col FROM _sync_conflicts WHERE tbl = ? AND pk = ? AND state <> 'closed'", [.text(table), .text(row)]
        ).compactMap({ $0.first?.textValue }) where !stillOpen.contains(column) {
            try database.run(
                "UPDATE _sync_conflicts SET state = 'closed', closed_hlc = ? WHERE tbl = ? AND pk = ? AND col = ?",
                [.integer(Int64(now.rawValue)), .text(table), .text(row), .text(column)])
        }
    }
}

extension Replica {
    /// Recorded conflicts, optionally only those in one state.
    public func conflicts(state: ConflictRecord.State? = nil) throws -> [ConflictRecord] {
        let decoder = JSONDecoder()
        var sql = "SELECT tbl, pk, col, rule, sides, chosen, state FROM _sync_conflicts"
        var parameters: [Value] = []
        if let state {
            sql += " WHERE state = ?"
            parameters.append(.text(state.rawValue))
        }
        return try database.query(sql + " ORDER BY tbl, pk, col", parameters).map { row in
            ConflictRecord(
                table: row[0].description, row: row[1].description, column: row[2].description,
                rule: row[3].description,
                sides: try decoder.decode([FieldWrite].self, from: Data(row[4].description.utf8)),
                chosen: Dot(text: row[5].description),
                state: ConflictRecord.State(rawValue: row[6].description) ?? .open)
        }
    }
}
