import Foundation
import MergeEngine
import Register
import SyncCore

/// One row of `_sync_log`: one row written on this replica. Once folded, it is one change per
/// changed column (or one delete), each with its own dot.
struct LogEntry {
    typealias Operation = WriteFold.Operation

    let seq: Int64
    let table: String
    let row: String
    var operation: Operation
    /// Wall clock when written, in ms since 1970.
    let writtenAtMillis: UInt64
    /// The row's version vector as recorded when written (without this replica's own entry).
    let context: VersionVector
    /// Set once folded: which columns changed, their values and the clock stamp.
    let folded: Folded?
    /// Columns a deliberate write (`Replica.write`) names before folding: they count as
    /// written even if their value did not change.
    let presetColumns: Int64?

    struct Folded {
        /// Bit j set: the table's column j changed.
        let columns: Int64
        let values: [Value]
        let timestamp: HybridTimestamp
    }

    /// Log rows with their folded values, one result row per value (`json_each` of vals, which
    /// SQLite reads back with its types), in seq and column order.
    static let selectSQL = """
        SELECT l.seq, l.tbl, l.pk, l.op, l.at_ms, l.ctx, l.cols, l.hlc, v.value
        FROM _sync_log l LEFT JOIN json_each(l.vals) v
        """

    /// Builds entries from rows of `selectSQL`: consecutive rows of one seq are one entry.
    static func entries(_ rows: [[Value]], path: String) throws -> [LogEntry] {
        var entries: [LogEntry] = []
        var values: [Value] = []
        var head: [Value]?
        func flush() throws {
            guard let head else { return }
            entries.append(try LogEntry(head, values: values, path: path))
            values = []
        }
        for row in rows {
            if head?[0] != row[0] {
                try flush()
                head = row
            }
            // A folded entry that changed columns has one json_each row per value; any other
            // entry still appears once (LEFT JOIN), with no value.
            if case .integer(let columns) = row[6], columns != 0, case .integer = row[7] { values.append(row[8]) }
        }
        try flush()
        return entries
    }

    init(_ row: [Value], values: [Value], path: String) throws {
        guard case .integer(let seq) = row[0], case .text(let table) = row[1], case .text(let key) = row[2],
            let operation = row[3].textValue.flatMap(Operation.init(rawValue:)), case .integer(let at) = row[4]
        else { throw ReplicaError.damagedMeta(path: path, key: "_sync_log") }
        self.seq = seq
        self.table = table
        self.row = key
        self.operation = operation
        writtenAtMillis = UInt64(max(at, 0))
        context = row[5].textValue.flatMap(VersionVector.init(text:)) ?? VersionVector()
        if case .integer(let columns) = row[6], case .integer(let hlc) = row[7] {
            guard values.count == WriteFold.slots(of: columns).count else { throw ReplicaError.damagedMeta(path: path, key: "_sync_log.vals") }
            folded = Folded(columns: columns, values: values, timestamp: HybridTimestamp(rawValue: UInt64(hlc)))
            presetColumns = nil
        } else {
            folded = nil
            presetColumns = row[6].integerValue
        }
    }

    /// The same entry as its fold settled it (a delete may turn out void).
    func with(operation: Operation) -> LogEntry {
        var entry = self
        entry.operation = operation
        return entry
    }

    /// The dot of one slot: `seq * 64 + slot`. Increasing with seq, so a replica's dots only grow.
    func dot(_ replica: ReplicaID, slot: UInt64) -> Dot {
        WriteFold.dot(replica, block: UInt64(seq), slot: slot)
    }

    /// The changes this entry records, given what its fold settled (`WriteFold.changes`).
    func changes(replica: ReplicaID, schema: TableSchema, folded: Folded) -> [Change] {
        WriteFold.changes(
            block: UInt64(seq), replica: replica, table: schema, row: row, operation: operation, context: context,
            slots: WriteFold.slots(of: folded.columns), values: folded.values, timestamp: folded.timestamp)
    }
}

/// Reading the changes this replica captured itself as `Change` values.
extension Replica {
    /// This replica's own folded changes with a dot counter above `after`, oldest first. Stops
    /// after the written row that reaches `limit` changes, so a row's changes travel together.
    /// Writes not yet folded are not included: `fold()` first to see everything.
    public func capturedChanges(after: UInt64 = 0, limit: Int = Int.max) throws -> [Change] {
        var changes: [Change] = []
        var fromSeq = Int64(DotBlock.of(after))
        // Read in slices so that a push of a few thousand changes never reads the whole log:
        // a small first slice, then as many written rows as the rest of `limit` needs at the
        // changes per row seen so far (a row of 19 columns is 19 changes).
        var slice = min(max(limit, 1), 64)
        var entriesRead = 0
        while changes.count < limit {
            let entries = try logEntries(fromSeq: fromSeq, limit: slice)
            guard let last = entries.last else { break }
            for entry in entries {
                guard changes.count < limit, let folded = entry.folded else { return changes }
                entriesRead += 1
                if entry.operation == .reserve || entry.operation == .void { continue }
                guard let table = schema.table(named: entry.table) else { throw ApplyError.unknownTable(entry.table) }
                changes += entry.changes(replica: id, schema: table, folded: folded).filter { $0.dot.counter > after }
            }
            fromSeq = last.seq + 1
            let perEntry = max(1, changes.count / max(entriesRead, 1))
            slice = min(max((limit - min(changes.count, limit)) / perEntry, 15), 4_095) + 1
        }
        return changes
    }

    /// Whether anything was ever written on this replica itself.
    public var hasLocalWrites: Bool {
        get throws { try database.scalar("SELECT 1 FROM _sync_log WHERE op NOT IN ('reserve', 'void') LIMIT 1") != nil }
    }

    /// The highest dot counter this replica has handed out, folded writes only (0 before any).
    public var counter: UInt64 {
        get throws {
            // Backwards along the primary key: stops at the newest folded row.
            guard let seq = try database.scalar("SELECT seq FROM _sync_log WHERE hlc IS NOT NULL ORDER BY seq DESC LIMIT 1")?.integerValue,
                let entry = try logEntries(fromSeq: seq, limit: 1).first
            else { return 0 }
            let slot = entry.operation == .delete ? WriteFold.deleteSlot : UInt64(entry.folded.flatMap { WriteFold.slots(of: $0.columns).last } ?? 0)
            return entry.dot(id, slot: slot).counter
        }
    }

    /// A counter of the last folded write that carries changes for the hub (its `DotBlock` is
    /// what counts; 0 before any): what a pull tells the hub, so that it knows every change
    /// this replica numbers from the next block on was made after it took in that pull's
    /// feed. Read at each pull, never cached: a lower figure than the truth would let the hub
    /// forget a deleted row while a change made before the delete still waits here.
    public var numberedForHub: UInt64 {
        get throws {
            let seq = try database.scalar(
                """
                SELECT seq FROM _sync_log WHERE hlc IS NOT NULL AND op NOT IN ('reserve', 'void') AND NOT (op = 'update' AND vals IS '[]')
                ORDER BY seq DESC LIMIT 1
                """)?.integerValue ?? 0
            return UInt64(max(0, seq)) * DotBlock.size
        }
    }

    /// Whether writes wait to be folded: a primary-key range probe, no scan.
    public var hasUnfoldedWrites: Bool {
        get throws {
            let folded = try meta("folded_seq")?.integerValue ?? 0
            return try database.scalar("SELECT 1 FROM _sync_log WHERE seq > ? LIMIT 1", [.integer(folded)]) != nil
        }
    }

    func logEntries(fromSeq seq: Int64, limit: Int = Int.max, onlyUnfolded: Bool = false) throws -> [LogEntry] {
        let filter = onlyUnfolded ? " AND hlc IS NULL" : ""
        let rows = try database.query(
            LogEntry.selectSQL + " WHERE l.seq IN (SELECT seq FROM _sync_log WHERE seq >= ?\(filter) ORDER BY seq LIMIT ?) ORDER BY l.seq, v.key",
            [.integer(seq), .integer(Int64(min(limit, Int(Int32.max))))])
        return try LogEntry.entries(rows, path: database.path)
    }
}

/// One row written on this replica, as `syncctl log` shows it.
public struct WrittenRow: Sendable {
    public enum Operation: String, Sendable { case insert, update, delete }

    public let table: String
    public let row: String
    public let operation: Operation
    public let writtenAt: Date
    /// The columns the write changed and their new values, NULLs left out; nil while syncd has
    /// not yet turned the write into changes (until then which columns changed is not known).
    public let changed: [Field]?
    /// Whether the hub has acknowledged it.
    public let atHub: Bool

    public struct Field: Sendable {
        public let column: String
        public let value: Value
    }
}

extension Replica {
    /// The rows written on this replica, newest first: at most `limit`, only of `table` and
    /// `row` when given, and only those written at or after `since`. Writes that changed
    /// nothing (an UPDATE to the same values) are left out.
    public func writtenRows(limit: Int, table: String? = nil, row: String? = nil, since: Date? = nil) throws -> [WrittenRow] {
        var filter = "op IN ('insert', 'update', 'delete') AND NOT (op = 'update' AND vals IS '[]')"
        var arguments: [Value] = []
        if let table {
            filter += " AND tbl = ?"
            arguments.append(.text(table))
        }
        if let row {
            filter += " AND pk = ?"
            arguments.append(.text(row))
        }
        if let since {
            filter += " AND at_ms >= ?"
            arguments.append(.integer(Int64(since.timeIntervalSince1970 * 1000)))
        }
        arguments.append(.integer(Int64(min(max(limit, 0), Int(Int32.max)))))
        let rows = try database.query(
            LogEntry.selectSQL + " WHERE l.seq IN (SELECT seq FROM _sync_log WHERE \(filter) ORDER BY seq DESC LIMIT ?) ORDER BY l.seq DESC, v.key",
            arguments)
        let ackedBlock = DotBlock.of(UInt64(try meta("push_acked")?.integerValue ?? 0))
        return try LogEntry.entries(rows, path: database.path).compactMap { entry in
            guard let operation = WrittenRow.Operation(rawValue: entry.operation.rawValue) else { return nil }
            var changed: [WrittenRow.Field]?
            if let folded = entry.folded, let schema = schema.table(named: entry.table) {
                changed = entry.changes(replica: id, schema: schema, folded: folded).compactMap { change in
                    guard case .set(let column, let value) = change.operation, value != .null else { return nil }
                    return WrittenRow.Field(column: column, value: value)
                }
            }
            return WrittenRow(
                table: entry.table, row: entry.row, operation: operation,
                writtenAt: Date(timeIntervalSince1970: Double(entry.writtenAtMillis) / 1000), changed: changed,
                atHub: UInt64(entry.seq) <= ackedBlock)
        }
    }
}
