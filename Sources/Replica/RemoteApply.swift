import Foundation
import SyncCore

/// What one applied batch did.
public struct ApplyReport: Sendable, Equatable {
    /// Changes merged that were new to this replica.
    public var applied = 0
    /// Changes already known (re-sent, or superseded before they arrived).
    public var duplicates = 0
    /// New changes that met a concurrent write of the same field or row.
    public var concurrent = 0
    /// Register rows written or removed as a result.
    public var rowsMaterialised = 0

    public init() {}
}

/// A change this replica's register cannot hold.
public enum ApplyError: Error, CustomStringConvertible, Equatable {
    case unknownTable(String)
    case unknownColumn(table: String, column: String)

    public var description: String {
        switch self {
        case .unknownTable(let table):
            return "a change names table '\(table)', which this replica's schema does not have: "
                + "the sender runs another schema version; upgrade the older side"
        case .unknownColumn(let table, let column):
            return "a change names column '\(table).\(column)', which this replica's schema does not have: "
                + "the sender runs another schema version; upgrade the older side"
        }
    }
}

extension Replica {
    /// Merges a batch of changes from other replicas, in one transaction, without capturing
    /// them again: merge state, register rows and conflict records move together or not at all.
    /// Applying the same batch again (or any part of it) changes nothing.
    /// `alongside` runs in the same transaction, after the merge (to record a checkpoint or a
    /// feed entry that must move together with the changes).
    @discardableResult
    public func apply(_ changes: [Change], alongside: () throws -> Void = {}) throws -> ApplyReport {
        let policy = try self.policy
        for change in changes {
            guard let table = schema.table(named: change.table) else { throw ApplyError.unknownTable(change.table) }
            if let column = change.column, !table.columns.contains(where: { $0.name == column }) {
                throw ApplyError.unknownColumn(table: change.table, column: column)
            }
        }
        return try database.transaction {
            try database.run("INSERT INTO _sync_applying(since) VALUES (?)", [.integer(Int64(try clock.rawValue))])
            var batch = try foldLocalChanges()
            var report = ApplyReport()
            var latest = HybridTimestamp.zero
            for change in changes {
                let key = RowKey(table: change.table, row: change.row)
                try batch.load(key, store: mergeStore)
                switch batch.rows[key]!.state.apply(change) {
                case .duplicate:
                    report.duplicates += 1
                    continue
                case .applied: report.applied += 1
                case .concurrent:
                    report.applied += 1
                    report.concurrent += 1
                }
                if let column = change.column { batch.rows[key]!.dirtyColumns.insert(column) }
                batch.rows[key]!.materialise = true
                latest = max(latest, change.timestamp)
            }
            // The clock moves past every stamp seen, so later local writes order after them.
            // Never further than the clock bound ahead of this computer's time (HybridLogicalClock).
            latest = min(latest, HybridLogicalClock.bound(physicalMillis: Replica.physicalMillis()))
            try database.run("UPDATE _sync_clock SET hlc = max(hlc, ?)", [.integer(Int64(latest.rawValue))])
            report.rowsMaterialised = try batch.save(replica: self, policy: policy)
            try alongside()
            try database.run("DELETE FROM _sync_applying")
            return report
        }
    }

    var mergeStore: MergeStateStore { MergeStateStore(database: database) }

    /// This computer's time, in milliseconds since 1970.
    static func physicalMillis() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }
}

struct RowKey: Hashable {
    let table: String
    let row: String
}

/// Rows loaded and changed inside one apply transaction.
struct PendingRows {
    struct Entry {
        var state: RowState
        /// Loaded with concurrent writes: conflict records may need closing.
        var hadConcurrentWrites = false
        var dirtyColumns: Set<String> = []
        /// Remote changes touched it: the register row must be rewritten.
        var materialise = false
    }

    var rows: [RowKey: Entry] = [:]

    /// Makes sure `rows[key]` holds the row's state, loading it on first use; callers then
    /// change `rows[key]!` in place.
    mutating func load(_ key: RowKey, store: MergeStateStore) throws {
        if rows[key] == nil {
            let state = try store.load(table: key.table, row: key.row)
            rows[key] = Entry(state: state, hadConcurrentWrites: state.fields.values.contains { $0.writes.count > 1 })
        }
    }

    /// Merges a row state from elsewhere (a snapshot page, a repair) into `rows[key]`; its
    /// register row is written from the result when saved.
    mutating func merge(_ state: RowState, into key: RowKey, store: MergeStateStore) throws {
        try load(key, store: store)
        rows[key]!.state.merge(state)
        rows[key]!.dirtyColumns.formUnion(state.fields.keys)
        rows[key]!.materialise = true
    }

    /// Saves merge state, rewrites register rows touched by remote changes and reconciles
    /// conflict records. Returns how many register rows were written or removed.
    func save(replica: Replica, policy: MergePolicy) throws -> Int {
        let store = replica.mergeStore
        let conflicts = ConflictLedger(database: replica.database)
        let now = try replica.clock
        var materialised = 0
        for (key, entry) in rows {
            // A row nothing was ever delivered for (typed and deleted before its fold) has no
            // state to keep: keeping an empty one would make it exist for digests.
            if entry.state == RowState() && !entry.materialise { continue }
            try store.save(table: key.table, row: key.row, state: entry.state, columns: entry.dirtyColumns)
            let resolved = policy.resolve(entry.state, table: key.table, row: key.row)
            // A row that had and has no concurrent writes has no conflict record to touch.
            if entry.hadConcurrentWrites || !resolved.conflicts.isEmpty {
                try conflicts.reconcile(table: key.table, row: key.row, with: resolved.conflicts, at: now)
            }
            guard entry.materialise, let table = replica.schema.table(named: key.table) else { continue }
            if let values = resolved.values {
                try replica.database.run(table.upsertSQL, [.text(key.row)] + table.columns.map { values[$0.name] ?? .null })
            } else {
                try replica.database.run("DELETE FROM \(table.name) WHERE id = ?", [.text(key.row)])
            }
            materialised += 1
        }
        try SeatCheck(replica: replica).run(touching: Array(rows.keys), at: now)
        try HoldingCheck(replica: replica).run(touching: Array(rows.keys), at: now)
        return materialised
    }
}

extension TableSchema {
    /// Writes a whole register row from its resolved values.
    var upsertSQL: String {
        let names = columns.map(\.name)
        return """
            INSERT INTO \(name)(id, \(names.joined(separator: ", "))) VALUES (?\(String(repeating: ", ?", count: names.count)))
            ON CONFLICT(id) DO UPDATE SET \(names.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
            """
    }
}
