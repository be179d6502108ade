import SyncCore
import TestSupport

/// An in-memory replica for property tests: the register as merge states, the changes it
/// knows (to forward to others) and its own counter and clock. It captures local writes the
/// way the SQLite replica does: one change per column, each with its own dot, and a context
/// that is the row's version vector plus everything the replica itself wrote before.
struct SimulatedReplica {
    struct RowKey: Hashable, Comparable {
        let table: String
        let row: String
        static func < (lhs: RowKey, rhs: RowKey) -> Bool { (lhs.table, lhs.row) < (rhs.table, rhs.row) }
    }

    let id: ReplicaID
    private(set) var rows: [RowKey: RowState] = [:]
    private(set) var known: [Change] = []
    private var knownDots: Set<Dot> = []
    private var counter: UInt64 = 0
    private var clock = HybridLogicalClock()

    init(id: ReplicaID) { self.id = id }

    mutating func write(table: String, row: String, columns: [(String, Value)], physicalMillis: UInt64) {
        let key = RowKey(table: table, row: row)
        let timestamp = clock.now(physicalMillis: physicalMillis)
        for (column, value) in columns {
            capture(key, .set(column: column, value: value), timestamp: timestamp)
        }
    }

    mutating func delete(table: String, row: String, physicalMillis: UInt64) {
        let timestamp = clock.now(physicalMillis: physicalMillis)
        capture(RowKey(table: table, row: row), .delete, timestamp: timestamp)
    }

    private mutating func capture(_ key: RowKey, _ operation: Change.Operation, timestamp: HybridTimestamp) {
        counter += 1
        var context = rows[key, default: RowState()].clock
        context.record(Dot(replica: id, counter: counter - 1))
        let change = Change(
            table: key.table, row: key.row, operation: operation,
            dot: Dot(replica: id, counter: counter), context: context, timestamp: timestamp)
        receive(change)
    }

    /// Applies a change from anywhere (own or remote) and remembers it for forwarding.
    mutating func receive(_ change: Change) {
        rows[RowKey(table: change.table, row: change.row), default: RowState()].apply(change)
        clock.observe(change.timestamp, physicalMillis: change.timestamp.wallMillis)
        if knownDots.insert(change.dot).inserted { known.append(change) }
    }

    func isLive(table: String, row: String) -> Bool {
        rows[RowKey(table: table, row: row)]?.isLive ?? false
    }

    /// Every row resolved under `policy`: what a user of this replica would see.
    func resolved(_ policy: MergePolicy) -> [RowKey: ResolvedRow] {
        rows.reduce(into: [:]) { result, entry in
            result[entry.key] = policy.resolve(entry.value, table: entry.key.table, row: entry.key.row)
        }
    }
}
