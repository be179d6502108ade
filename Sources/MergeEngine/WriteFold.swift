import Register
import SyncCore

/// How a write captured where a store is (an office's user, or district staff at the hub)
/// becomes changes, once for every store: which columns it counts as written when folded,
/// and the dots of those changes. A store only reads its log and the rows as they are now,
/// and keeps what the fold settled.
public enum WriteFold {
    public enum Operation: String, Sendable {
        case insert, update, delete
        /// Not a write: holds counters up to its block that the hub already has (`reserveCounters`).
        case reserve
        /// A delete of a row no replica ever held (typed and deleted before it was folded):
        /// set at fold time; nothing is sent, as there is nothing anywhere for it to remove.
        case void
    }

    /// Column slots a change mask holds; slot 63 names a delete.
    public static let maxColumns = 63
    public static let deleteSlot: UInt64 = 63

    public static func slots(of mask: Int64) -> [Int] {
        (0..<maxColumns).filter { mask & (Int64(1) << $0) != 0 }
    }

    public static func mask(of slots: [Int]) -> Int64 {
        slots.reduce(0) { $0 | Int64(1) << $1 }
    }

    /// What a captured write folds as, and the slots of the columns it writes. A delete of a
    /// row no replica holds (`heldAnywhere` false: typed and deleted before any fold) is void;
    /// a write of a row deleted since writes nothing (its values are gone, and the delete that
    /// follows says it all); a deliberate write counts its `preset` columns as written even
    /// when their value did not change; otherwise the store says which columns it wrote.
    public static func settle(
        _ operation: Operation, heldAnywhere: Bool, rowExists: Bool, preset: [Int]?, written: () -> [Int]
    ) -> (operation: Operation, slots: [Int]) {
        switch operation {
        case .delete where !heldAnywhere: return (.void, [])
        case .delete, .reserve, .void: return (operation, [])
        case .update where preset != nil: return (operation, preset!)
        case .insert, .update: return (operation, rowExists ? written() : [])
        }
    }

    /// The dot of column `slot` (or of a delete, `deleteSlot`) of the write in `block`.
    public static func dot(_ replica: ReplicaID, block: UInt64, slot: UInt64) -> Dot {
        Dot(replica: replica, counter: block * DotBlock.size + slot)
    }

    /// The changes of one folded write: column `slot` of the write in `block` has dot
    /// `block * 64 + slot`, a delete `block * 64 + 63` (so a replica's dots only grow with
    /// its blocks); each has seen the row as it was when written (`context`), and everything
    /// `replica` wrote before.
    public static func changes(
        block: UInt64, replica: ReplicaID, table: TableSchema, row: String, operation: Operation, context: VersionVector,
        slots: [Int], values: [Value], timestamp: HybridTimestamp
    ) -> [Change] {
        func change(_ slot: UInt64, _ operation: Change.Operation) -> Change {
            let dot = Self.dot(replica, block: block, slot: slot)
            return Change(table: table.name, row: row, operation: operation, dot: dot,
                          context: CompactContext(context, origin: replica).context(of: dot), timestamp: timestamp)
        }
        switch operation {
        case .reserve, .void: return []
        case .delete: return [change(deleteSlot, .delete)]
        case .insert, .update:
            return zip(slots, values).map { slot, value in change(UInt64(slot), .set(column: table.columns[slot].name, value: value)) }
        }
    }
}

/// How a replica numbers its dots: each captured row (one `_sync_log` row) owns a block of
/// counters, one per column slot (`seq * 64 + slot`; slot 63 is a delete). A block's changes
/// are always sent together, so a hub that holds any counter of a block holds the whole block,
/// and a change of a block it holds under other contents reveals a replica re-using counters.
public enum DotBlock {
    public static let size: UInt64 = 64

    /// The block (the log row's seq) a counter belongs to.
    public static func of(_ counter: UInt64) -> UInt64 { counter / size }
}
