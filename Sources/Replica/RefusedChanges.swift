import Foundation
import MergeEngine
import Register
import SyncCore

/// A change of this replica that the hub refused, kept where a technician sees it
/// (`syncctl refused`, `syncctl status`) until it is sent again or dropped.
public struct RefusedChange: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// Refused, nothing done yet: the office holds a change the hub does not.
        case open
        /// The row was sent again as it stands (after the office fixed it).
        case retried
        /// The office dropped the change; syncd puts the row back as the hub holds it.
        case clearing
        /// Dropped, and the row is back to the hub's version.
        case cleared
    }

    public let counter: UInt64
    public let table: String
    public let row: String
    /// nil for a delete.
    public let column: String?
    public let code: String
    public let message: String
    public let at: String
    public let state: State

    public init(counter: UInt64, table: String, row: String, column: String?, code: String, message: String, at: String, state: State = .open) {
        (self.counter, self.table, self.row, self.column, self.code, self.message, self.at, self.state) =
            (counter, table, row, column, code, message, at, state)
    }
}

extension Replica {
    /// Records what the hub said of a push, in one transaction: everything up to
    /// `acknowledged` is settled at the hub (held or refused), and the refusals are kept.
    public func acknowledgePush(through acknowledged: UInt64, refused: [RefusedChange], at time: Date = Date()) throws {
        try database.transaction {
            for refusal in refused {
                try database.run(
                    """
                    INSERT INTO _sync_refused(counter, tbl, pk, col, code, message, at, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'open')
                    ON CONFLICT(counter) DO NOTHING
                    """,
                    [.integer(Int64(refusal.counter)), .text(refusal.table), .text(refusal.row), refusal.column.map(Value.text) ?? .null,
                     .text(refusal.code), .text(refusal.message), .text(refusal.at)])
            }
            try setMeta("push_acked", .integer(Int64(acknowledged)))
            try setMeta("push_acked_at", .text(time.formatted(.iso8601)))
        }
    }

    /// Refused changes, newest first; only those not yet dealt with unless `all`.
    public func refusedChanges(all: Bool = false) throws -> [RefusedChange] {
        try database.query(
            "SELECT counter, tbl, pk, col, code, message, at, state FROM _sync_refused"
                + (all ? "" : " WHERE state IN ('open', 'clearing')") + " ORDER BY counter DESC"
        ).compactMap { row in
            guard case .integer(let counter) = row[0], let table = row[1].textValue, let key = row[2].textValue,
                let code = row[4].textValue, let message = row[5].textValue, let at = row[6].textValue,
                let state = row[7].textValue.flatMap(RefusedChange.State.init(rawValue:))
            else { return nil }
            return RefusedChange(counter: UInt64(counter), table: table, row: key, column: row[3].textValue,
                                 code: code, message: message, at: at, state: state)
        }
    }

    /// Rows with a refused change not yet dealt with: this replica holds writes of them that
    /// the hub does not, by design, so content comparisons leave them out.
    public func rowsWithOpenRefusals() throws -> [String: Set<String>] {
        var rows: [String: Set<String>] = [:]
        try database.forEachRow("SELECT DISTINCT tbl, pk FROM _sync_refused WHERE state IN ('open', 'clearing')") { row in
            if let table = row[0].textValue, let key = row[1].textValue { rows[table, default: []].insert(key) }
        }
        return rows
    }

    /// Sends a refused row again as it stands now: every column is written anew (fresh dots,
    /// so the hub judges the whole row again, e.g. after its commune_id was corrected). A row
    /// deleted since has nothing to send: its refusals are closed. Returns the rows sent.
    @discardableResult
    public func retryRefused(table: String? = nil, row: String? = nil) throws -> Int {
        try fold()
        let targets = try refusedTargets(table: table, row: row)
        var sent = 0
        for (tableName, key) in targets {
            guard let schema = schema.table(named: tableName) else { continue }
            var outcome = RefusedChange.State.cleared
            if let current = try database.query(schema.selectRowSQL, [.text(key)]).first {
                try write(table: tableName, row: key, values: Dictionary(uniqueKeysWithValues: zip(schema.columns.map(\.name), current)))
                outcome = .retried
                sent += 1
            }
            try database.run("UPDATE _sync_refused SET state = ? WHERE tbl = ? AND pk = ? AND state = 'open'",
                             [.text(outcome.rawValue), .text(tableName), .text(key)])
        }
        return sent
    }

    /// Drops refused changes here: syncd puts their rows back as the hub holds them at its
    /// next round. Returns the rows marked.
    @discardableResult
    public func clearRefused(table: String? = nil, row: String? = nil) throws -> Int {
        let targets = try refusedTargets(table: table, row: row)
        try database.transaction {
            for (tableName, key) in targets {
                try database.run("UPDATE _sync_refused SET state = 'clearing' WHERE tbl = ? AND pk = ? AND state = 'open'",
                                 [.text(tableName), .text(key)])
            }
        }
        return targets.count
    }

    /// Rows whose refused changes the office dropped, waiting to be put back as the hub holds them.
    public func rowsBeingCleared() throws -> [(table: String, row: String)] {
        try database.query("SELECT DISTINCT tbl, pk FROM _sync_refused WHERE state = 'clearing' ORDER BY tbl, pk").compactMap { row in
            guard let table = row[0].textValue, let key = row[1].textValue else { return nil }
            return (table, key)
        }
    }

    /// Replaces the merge state of rows with the hub's (nil: the hub holds nothing of the row)
    /// and writes their register rows from it, without capturing anything: the office's own
    /// writes of them that the hub refused are dropped here for good. Closes their refusals.
    public func resetRows(_ rows: [(table: String, row: String, state: RowState?)]) throws {
        try checkKnown(rows.map(\.table))
        try database.transaction {
            try database.run("INSERT INTO _sync_applying(since) VALUES (0)")
            var batch = try foldLocalChanges()
            for row in rows {
                let key = RowKey(table: row.table, row: row.row)
                try database.run("DELETE FROM _sync_rows WHERE tbl = ? AND pk = ?", [.text(row.table), .text(row.row)])
                try database.run("DELETE FROM _sync_fields WHERE tbl = ? AND pk = ?", [.text(row.table), .text(row.row)])
                batch.rows[key] = nil
                if let state = row.state {
                    try batch.merge(state, into: key, store: mergeStore)
                } else {
                    try database.run("DELETE FROM \(row.table) WHERE id = ?", [.text(row.row)])
                }
                try database.run("UPDATE _sync_refused SET state = 'cleared' WHERE tbl = ? AND pk = ? AND state IN ('open', 'clearing')",
                                 [.text(row.table), .text(row.row)])
            }
            _ = try batch.save(replica: self)
            try database.run("DELETE FROM _sync_applying")
        }
    }

    private func refusedTargets(table: String?, row: String?) throws -> [(String, String)] {
        var sql = "SELECT DISTINCT tbl, pk FROM _sync_refused WHERE state = 'open'"
        var parameters: [Value] = []
        if let table { sql += " AND tbl = ?"; parameters.append(.text(table)) }
        if let row { sql += " AND pk = ?"; parameters.append(.text(row)) }
        return try database.query(sql + " ORDER BY tbl, pk", parameters).compactMap { result in
            guard let table = result[0].textValue, let key = result[1].textValue else { return nil }
            return (table, key)
        }
    }
}
