import Foundation
import MergeEngine
import Register
import SyncCore

extension Replica {
    /// Merges a batch of changes from other replicas, in one transaction, without capturing
    /// them again: merge state, register rows and conflict records move together or not at all.
    /// Applying the same batch again (or any part of it) changes nothing.
    /// `alongside` runs in the same transaction, after the merge (to record a checkpoint or a
    /// feed entry that must move together with the changes).
    ///
    /// `arriving` are rows the district moved into this replica's commune, whole (merged in
    /// like a snapshot's); `leaving` are rows it moved out: they are dropped from the register
    /// and the merge state (edits of them still waiting to be sent stay in the log and go).
    @discardableResult
    public func apply(
        _ changes: [Change], arriving: [(table: String, row: String, state: RowState)] = [], leaving: [RowKey] = [],
        alongside: () throws -> Void = {}
    ) throws -> ApplyReport {
        try checkKnown(arriving.map(\.table))
        for change in changes { try checkKnown(table: change.table, column: change.column) }
        return try database.transaction {
            try database.run("INSERT INTO _sync_applying(since) VALUES (?)", [.integer(Int64(try clock.rawValue))])
            var batch = try foldLocalChanges()
            try batch.load(changes.map { RowKey(table: $0.table, row: $0.row) }, store: mergeStore)
            var (report, latest) = batch.apply(changes)
            for row in arriving { try batch.merge(row.state, into: RowKey(table: row.table, row: row.row), store: mergeStore) }
            // The clock moves past every stamp seen, so later local writes order after them.
            // Never further than the clock bound ahead of this computer's time (HybridLogicalClock).
            latest = min(latest, HybridLogicalClock.bound(physicalMillis: Replica.physicalMillis()))
            try database.run("UPDATE _sync_clock SET hlc = max(hlc, ?)", [.integer(Int64(latest.rawValue))])
            report.rowsMaterialised = try batch.save(replica: self)
            try drop(leaving)
            try alongside()
            try database.run("DELETE FROM _sync_applying")
            return report
        }
    }

    /// Drops rows this replica no longer keeps (moved to another commune): register row,
    /// merge state and standing conflicts, without capturing a delete.
    func drop(_ rows: [RowKey]) throws {
        let now = try clock
        for key in rows {
            if let table = schema.table(named: key.table) { try database.run("DELETE FROM \(table.name) WHERE id = ?", [.text(key.row)]) }
            try database.run("DELETE FROM _sync_rows WHERE tbl = ? AND pk = ?", [.text(key.table), .text(key.row)])
            try database.run("DELETE FROM _sync_fields WHERE tbl = ? AND pk = ?", [.text(key.table), .text(key.row)])
            try database.run(
                "UPDATE _sync_conflicts SET state = 'closed', closed_hlc = ? WHERE tbl = ? AND pk = ? AND state <> 'closed'",
                [.integer(Int64(now.rawValue)), .text(key.table), .text(key.row)])
        }
    }

    var mergeStore: MergeStateStore { MergeStateStore(database: database) }

    /// Whether this replica takes in state of `table` (and `column`) from elsewhere. An office
    /// takes what its schema does not have yet: a hub of a later release serves it the register
    /// as the hub has it, and the office keeps the newer tables and columns in its merge state
    /// (so its digests match the hub's and its deletes see every write) without showing them
    /// in its register tables, which get them when the office is upgraded (`migrate`). The
    /// district's store takes only what its own schema has: it never holds a column it
    /// cannot show.
    func checkKnown(table: String, column: String? = nil) throws {
        guard role == .district else { return }
        guard let described = schema.table(named: table) else { throw ApplyError.unknownTable(table) }
        if let column, !described.columns.contains(where: { $0.name == column }) {
            throw ApplyError.unknownColumn(table: table, column: column)
        }
    }

    func checkKnown(_ tables: [String]) throws {
        for table in Set(tables) { try checkKnown(table: table) }
    }

    /// This computer's time, in milliseconds since 1970.
    static func physicalMillis() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }
}

/// Rows loaded and changed inside one apply transaction: the pure `MergeBatch`, loaded from
/// and saved to this replica's file.
typealias PendingRows = MergeBatch

extension MergeBatch {
    /// Makes sure `rows[key]` holds the row's state, loading it on first use; callers then
    /// change `rows[key]!` in place.
    mutating func load(_ key: RowKey, store: MergeStateStore) throws {
        if !holds(key) { add(key, loaded: try store.load(table: key.table, row: key.row)) }
    }

    /// `load` of many rows: the states not held yet, in two queries.
    mutating func load(_ keys: [RowKey], store: MergeStateStore) throws {
        let missing = Set(keys.filter { !holds($0) })
        let loaded = try store.load(missing)
        for key in missing { add(key, loaded: loaded[key] ?? RowState()) }
    }

    /// Merges a row state from elsewhere (a snapshot page, a repair) into `rows[key]`; its
    /// register row is written from the result when saved.
    mutating func merge(_ state: RowState, into key: RowKey, store: MergeStateStore) throws {
        try load(key, store: store)
        merge(state, into: key)
    }

    /// Saves merge state, rewrites register rows touched by remote changes and reconciles
    /// conflict records. Returns how many register rows were written or removed.
    func save(replica: Replica) throws -> Int {
        let store = replica.mergeStore
        let now = try replica.clock
        let rules = try replica.rules
        let district = try replica.districtReplicas
        let policy = rules.policy(districtReplicas: district)
        var materialised = 0
        let outcomes = outcomes(policy: policy)
        try store.save(outcomes.map { ($0.key, $0.state, $0.dirtyColumns) })
        for outcome in outcomes {
            let key = outcome.key
            guard outcome.materialise, let table = replica.schema.table(named: key.table) else { continue }
            if let values = outcome.resolved.values {
                try replica.database.run(table.upsertSQL, [.text(key.row)] + table.columns.map { values[$0.name] ?? .null })
            } else {
                try replica.database.run("DELETE FROM \(table.name) WHERE id = ?", [.text(key.row)])
            }
            materialised += 1
        }
        let run = RuleRun(touching: rows.keys, rules: rules, district: district, writtenHere: replica.id)
        let writes = try LedgerWrites.fields(of: outcomes) + run.run(on: SQLiteRuleData(database: replica.database))
        try ConflictLedger(database: replica.database).write(writes, at: now)
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
