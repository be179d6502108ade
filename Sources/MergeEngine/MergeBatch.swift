import Register
import SyncCore

/// A register row named across backends: its table and its id.
public struct RowKey: Hashable, Sendable {
    public let table: String
    public let row: String

    public init(table: String, row: String) {
        self.table = table
        self.row = row
    }
}

/// The rows one merge touches, as pure values: their merge state as loaded, the changes
/// applied to them, and what must be written back for each. No storage here: the SQLite
/// replica (`PendingRows`, `Replica.apply`) and the hub's PostgreSQL store load the states
/// before and save the outcome after, each in its own way, and so merge alike.
public struct MergeBatch {
    public struct Entry {
        public var state: RowState
        /// Loaded with concurrent writes: conflict records may need closing.
        public var hadConcurrentWrites = false
        public var dirtyColumns: Set<String> = []
        /// Remote changes touched it: the register row must be rewritten.
        public var materialise = false
    }

    public package(set) var rows: [RowKey: Entry] = [:]

    public init() {}

    /// Whether the row's state is in the batch already.
    public func holds(_ key: RowKey) -> Bool { rows[key] != nil }

    /// Adds a row's state as loaded from storage; a row already held keeps what it has.
    public mutating func add(_ key: RowKey, loaded state: RowState) {
        guard rows[key] == nil else { return }
        rows[key] = Entry(state: state, hadConcurrentWrites: state.fields.values.contains { $0.writes.count > 1 })
    }

    /// Merges changes of other replicas into rows already added: each is a duplicate, new, or
    /// concurrent with what the row holds. Returns what it did and the latest clock stamp seen.
    public mutating func apply(_ changes: [Change]) -> (report: ApplyReport, latest: HybridTimestamp) {
        var report = ApplyReport()
        var latest = HybridTimestamp.zero
        for change in changes {
            let key = RowKey(table: change.table, row: change.row)
            precondition(rows[key] != nil, "a change merged into a row whose state was not loaded")
            switch rows[key]!.state.apply(change) {
            case .duplicate:
                report.duplicates += 1
                continue
            case .applied: report.applied += 1
            case .concurrent:
                report.applied += 1
                report.concurrent += 1
            }
            if let column = change.column { rows[key]!.dirtyColumns.insert(column) }
            rows[key]!.materialise = true
            latest = max(latest, change.timestamp)
        }
        return (report, latest)
    }

    /// Applies a change this replica made itself (its register row already shows it).
    public mutating func applyOwn(_ change: Change) {
        let key = RowKey(table: change.table, row: change.row)
        precondition(rows[key] != nil, "a change merged into a row whose state was not loaded")
        rows[key]!.state.apply(change)
        if let column = change.column { rows[key]!.dirtyColumns.insert(column) }
    }

    /// Merges a row state from elsewhere (a snapshot page, a repair) into a row already added;
    /// its register row is written from the result.
    public mutating func merge(_ state: RowState, into key: RowKey) {
        precondition(rows[key] != nil, "a state merged into a row whose state was not loaded")
        rows[key]!.state.merge(state)
        rows[key]!.dirtyColumns.formUnion(state.fields.keys)
        rows[key]!.materialise = true
    }

    /// Forgets a row: nothing of it is saved.
    public mutating func drop(_ key: RowKey) { rows[key] = nil }

    /// What saving one row means.
    public struct Outcome {
        public let key: RowKey
        public let state: RowState
        /// The fields whose stored merge state must be rewritten.
        public let dirtyColumns: Set<String>
        /// The row as the rules show it, and its field conflicts.
        public let resolved: ResolvedRow
        /// Conflict records of the row must be brought in step with `resolved.conflicts`.
        public let reconcileConflicts: Bool
        /// The register row must be rewritten (or removed, when `resolved.values` is nil).
        public let materialise: Bool
    }

    /// What to save, row by row, in row order. A row nothing was ever delivered for (typed and
    /// deleted before its fold) has no state to keep: keeping an empty one would make it
    /// exist for digests.
    public func outcomes(policy: MergePolicy) -> [Outcome] {
        rows.sorted { ($0.key.table, $0.key.row) < ($1.key.table, $1.key.row) }.compactMap { key, entry in
            if entry.state == RowState() && !entry.materialise { return nil }
            let resolved = policy.resolve(entry.state, table: key.table, row: key.row)
            return Outcome(
                key: key, state: entry.state, dirtyColumns: entry.dirtyColumns, resolved: resolved,
                // A row that had and has no concurrent writes has no conflict record to touch.
                reconcileConflicts: entry.hadConcurrentWrites || !resolved.conflicts.isEmpty,
                materialise: entry.materialise)
        }
    }
}
