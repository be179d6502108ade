import Foundation
import MergeEngine
import Register
import SyncCore

/// What rebuilding a replica from the hub kept and brought back.
public struct RebaseReport: Sendable, Equatable {
    /// Unsent writes of this office given new dot counters above everything the hub holds.
    public var renumbered = 0
    /// Unsent-looking writes the hub turned out to hold already, under the same dots.
    public var alreadyAtHub = 0
    /// Rows installed from the hub's state.
    public var rowsFromHub = 0
    /// Unsent writes stamped again because this computer's clock had run ahead.
    public var restamped = 0

    public init() {}
}

/// Rebasing: what a replica does when the hub holds changes under its dots that its file does
/// not (the file was restored from an older copy, or copied to a second computer, or a push
/// claimed counters far ahead). Its counters would name changes twice, so:
///
/// - every unsent write gets fresh dots above everything the hub holds of this replica, with
///   its values, stamp and context unchanged (writes the hub already holds under the very
///   same dots keep them);
/// - the merge state is rebuilt from the hub's state of the scope, so what the hub holds of
///   this replica's lost history comes back, and the unsent writes are merged on top;
/// - push and pull continue from where the hub's state was taken.
///
/// One transaction: after a crash at any instant, either nothing changed (and the next round
/// rebases again) or all of it did. Nothing typed at the office is lost: unsent writes keep
/// their values in the log, and the register rows show them after the merge.
extension Replica {
    /// Whether a write not yet acknowledged by the hub carries a stamp later than `bound`.
    public func hasUnsentStamps(after bound: HybridTimestamp) throws -> Bool {
        let acked = UInt64(try meta("push_acked")?.integerValue ?? 0)
        return try database.scalar(
            "SELECT 1 FROM _sync_log WHERE seq > ? AND hlc > ? LIMIT 1",
            [.integer(Int64(DotBlock.of(acked))), .integer(Int64(bound.rawValue))]) != nil
    }

    /// The highest dot counter this file can have handed out: the last slot of its newest log
    /// row, folded or not. A hub holding a higher counter of this replica holds changes this
    /// file never made.
    public var counterCeiling: UInt64 {
        get throws {
            let block = UInt64(try database.scalar("SELECT max(seq) FROM _sync_log")?.integerValue ?? 0)
            return WriteFold.dot(id, block: block, slot: WriteFold.deleteSlot).counter
        }
    }

    /// Whether this file holds each of `changes` (its own, as the hub holds them) change for
    /// change, in its folded log.
    public func holdsIdentically(_ changes: [Change]) throws -> Bool {
        var mine = Set<ChangeIdentity>()
        for block in Set(changes.map { Int64(DotBlock.of($0.dot.counter)) }) {
            guard let entry = try logEntries(fromSeq: block, limit: 1).first, entry.seq == block,
                let folded = entry.folded, let table = schema.table(named: entry.table)
            else { return false }
            mine.formUnion(entry.changes(replica: id, schema: table, folded: folded).map(ChangeIdentity.init))
        }
        return changes.allSatisfy { mine.contains(ChangeIdentity($0)) }
    }

    /// Rebuilds this replica on the hub's state (`rows`, taken at feed position `checkpoint`),
    /// keeping every unsent write. `heldByHub` is the highest counter of this replica the hub
    /// has settled; `hubHolds` are the hub's changes of this replica above the counter this file
    /// had acknowledged (identical ones keep their dots). With `restampAfter`, unsent writes
    /// stamped later than it (by a clock that ran ahead, since corrected) are stamped again
    /// from this computer's clock, and the replica's clock starts again from there.
    @discardableResult
    public func rebase(
        onto rows: [(table: String, row: String, state: RowState)], checkpoint: Int64, heldByHub: UInt64,
        hubHolds: [Change], reason: String, cause: RebuildCause = .restored, restampAfter bound: HybridTimestamp? = nil,
        at time: Date = Date()
    ) throws -> RebaseReport {
        try checkKnown(rows.map(\.table))
        return try database.transaction {
            // Every unsent write gets its values into the log first.
            _ = try foldLocalChanges().save(replica: self)
            var report = RebaseReport()
            let acked = UInt64(try meta("push_acked")?.integerValue ?? 0)
            // A log row the hub holds change for change (same dot, row, column, value and stamp)
            // was sent before the file was copied: it keeps its dots. Anything else under a dot
            // the hub holds is a write made since, and gets new ones.
            let held = Set(hubHolds.map(ChangeIdentity.init))
            var moving: [Int64] = []
            var stamps = HybridLogicalClock(last: .zero)
            var restamped: [Int64: HybridTimestamp] = [:]
            for entry in try logEntries(fromSeq: Int64(DotBlock.of(acked)) + 1) {
                guard let folded = entry.folded, let table = schema.table(named: entry.table) else { continue }
                let changes = entry.changes(replica: id, schema: table, folded: folded)
                if changes.isEmpty { continue }
                if changes.allSatisfy({ held.contains(ChangeIdentity($0)) }) {
                    report.alreadyAtHub += changes.count
                } else {
                    moving.append(entry.seq)
                    report.renumbered += changes.count
                    if let bound, folded.timestamp > bound {
                        restamped[entry.seq] = stamps.now(physicalMillis: Replica.physicalMillis())
                        report.restamped += changes.count
                    }
                }
            }
            let newest = try database.scalar("SELECT max(seq) FROM _sync_log")?.integerValue ?? 0
            let first = max(newest, Int64(DotBlock.of(heldByHub))) + 1
            for (offset, seq) in moving.enumerated() {
                try database.run(
                    """
                    INSERT INTO _sync_log(seq, tbl, pk, op, at_ms, ctx, cols, vals, hlc)
                    SELECT ?, tbl, pk, op, at_ms, ctx, cols, vals, coalesce(?, hlc) FROM _sync_log WHERE seq = ?
                    """, [.integer(first + Int64(offset)), restamped[seq].map { .integer(Int64($0.rawValue)) } ?? .null, .integer(seq)])
                try database.run("DELETE FROM _sync_log WHERE seq = ?", [.integer(seq)])
            }
            // Nothing this file hands out from now on may fall at or below what the hub holds.
            try reserveCounters(through: heldByHub)
            // The merge state names this replica's dots with their old meaning: start again from
            // the hub's, then merge the renumbered writes on top.
            let now = try clock
            try database.execute("DELETE FROM _sync_rows; DELETE FROM _sync_fields")
            try database.run("UPDATE _sync_conflicts SET state = 'closed', closed_hlc = ? WHERE state <> 'closed'",
                             [.integer(Int64(now.rawValue))])
            try database.run("INSERT INTO _sync_applying(since) VALUES (0)")
            var batch = PendingRows()
            var latest = HybridTimestamp.zero
            for row in rows {
                try batch.merge(row.state, into: RowKey(table: row.table, row: row.row), store: mergeStore)
                for field in row.state.fields.values { latest = max(latest, field.writes.map(\.timestamp).max() ?? .zero) }
            }
            report.rowsFromHub = rows.count
            if !moving.isEmpty {
                for entry in try logEntries(fromSeq: first) {
                    guard let folded = entry.folded, let table = schema.table(named: entry.table) else { continue }
                    let key = RowKey(table: entry.table, row: entry.row)
                    try batch.load(key, store: mergeStore)
                    for change in entry.changes(replica: id, schema: table, folded: folded) {
                        batch.rows[key]!.state.apply(change)
                        if let column = change.column { batch.rows[key]!.dirtyColumns.insert(column) }
                    }
                }
            }
            // Rows the hub does not hold are shown as the office last wrote them: the register
            // already has them, and a row known only in part must not be written from that part.
            latest = min(latest, HybridLogicalClock.bound(physicalMillis: Replica.physicalMillis()))
            if bound != nil {
                try database.run("UPDATE _sync_clock SET hlc = ?", [.integer(Int64(max(latest, stamps.last).rawValue))])
            } else {
                try database.run("UPDATE _sync_clock SET hlc = max(hlc, ?)", [.integer(Int64(latest.rawValue))])
            }
            _ = try batch.save(replica: self)
            try database.run("DELETE FROM _sync_applying")
            for key in ["snapshot_cursor", "snapshot_checkpoint"] {
                try database.run("DELETE FROM _sync_meta WHERE key = ?", [.text(key)])
            }
            try setMeta("folded_seq", .integer(max(first + Int64(moving.count) - 1, try meta("folded_seq")?.integerValue ?? 0)))
            try setMeta("push_acked", .integer(Int64(heldByHub)))
            try setMeta("pull_checkpoint", .integer(checkpoint))
            try setMeta("rebase_count", .integer((try meta("rebase_count")?.integerValue ?? 0) + 1))
            // When the rebuilds of the last day happened: many of them mean two computers run
            // copies of this one replica (`ReplicaHealth.recentRebuilds`).
            let recent = RebuildHistory(text: try meta("rebase_recent")?.textValue).adding(time)
            try setMeta("rebase_recent", .text(recent.text))
            try setMeta("rebased_at", .text(time.formatted(.iso8601)))
            try setMeta("rebase_reason", .text(reason))
            try setMeta("rebase_cause", .text(cause.rawValue))
            try setMeta("rebase_renumbered", .integer(Int64(report.renumbered)))
            return report
        }
    }
}

/// A change as the hub compares it: everything but its context.
private struct ChangeIdentity: Hashable {
    let counter: UInt64
    let table: String
    let row: String
    let column: String?
    let value: Value?
    let timestamp: HybridTimestamp

    init(_ change: Change) {
        counter = change.dot.counter
        table = change.table
        row = change.row
        column = change.column
        if case .set(_, let value) = change.operation { self.value = value } else { value = nil }
        timestamp = change.timestamp
    }
}

/// Why a replica was rebuilt on the hub's state, as `syncctl status` says it to the office.
public enum RebuildCause: String, Sendable, CaseIterable {
    /// This file is older than what the hub holds of it: put back from a backup.
    case restored
    /// Another computer runs a copy of this file: the hub holds other changes under its numbers.
    case copied
    /// Written while the computer's clock ran ahead: unsent writes stamped again.
    case clock
}
