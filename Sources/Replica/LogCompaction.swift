import Foundation
import MergeEngine
import SyncCore

/// Bounding the office's log. Every write made here is a row of `_sync_log`; once the hub has
/// acknowledged it, the register and the merge state hold everything the row said, and the
/// row is needed only to send it again to a hub put back from a copy taken before it arrived
/// there. So a row may go once the hub has held it for longer than any copy the district
/// would put back: `office_log_days` (the hub says; 90 by default, backups are kept 14).
///
/// When a row was acknowledged is not recorded per row. A mark is: the counter the hub had
/// acknowledged, and when. A mark older than the horizon lets every row at or below its
/// counter go (acknowledged at least that long ago), and a new mark is set; so a row goes
/// between one and two horizons after the hub first held it. Kept whatever their age: rows
/// not folded or not acknowledged, rows with an open refusal, and the last row, whose seq the
/// next write's follows (seq is never handed out twice: the dots depend on it).
extension Replica {
    /// Drops the log rows the hub has held for longer than `days`. Returns how many went.
    @discardableResult
    public func compactLog(keepingDays days: Int, now: Date = Date()) throws -> Int {
        precondition(days > 0, "a horizon of at least one day")
        // Called after every round: most days there is nothing to do, and nothing is written.
        if let mark = try meta("log_compaction_mark")?.textValue.flatMap(CompactionMark.init(text:)), !mark.isPast(days: days, at: now) {
            return 0
        }
        return try database.transaction {
            let acked = try meta("push_acked")?.integerValue ?? 0
            let mark = try meta("log_compaction_mark")?.textValue.flatMap(CompactionMark.init(text:))
            guard let mark, mark.isPast(days: days, at: now) else {
                if mark == nil { try setMeta("log_compaction_mark", .text(CompactionMark(at: now, position: acked).text)) }
                return 0
            }
            let through = mark.position / Int64(DotBlock.size)
            try database.run(
                """
                DELETE FROM _sync_log WHERE seq <= ?1 AND hlc IS NOT NULL
                  AND seq < (SELECT max(seq) FROM _sync_log)
                  AND seq NOT IN (SELECT counter / \(DotBlock.size) FROM _sync_refused WHERE state <> 'cleared')
                """, [.integer(through)])
            let dropped = Int(try database.scalar("SELECT changes()")?.integerValue ?? 0)
            let before = try meta("log_compacted_through")?.integerValue ?? 0
            try setMeta("log_compacted_through", .integer(max(before, mark.position)))
            try setMeta("log_compaction_mark", .text(CompactionMark(at: now, position: acked).text))
            if dropped > 0 { try setMeta("log_compacted_at", .text(now.formatted(.iso8601))) }
            return dropped
        }
    }

    /// The hub says it holds this office's changes only up to `held`, below what it had
    /// acknowledged (it was put back from a copy). What the log still has is sent again; if
    /// the log dropped changes above `held` (the copy is older than `office_log_days`), those
    /// are recorded as not given back, for status to say.
    public func noteHubBehindCompactedLog(held: UInt64, at time: Date) throws {
        let compacted = UInt64(try meta("log_compacted_through")?.integerValue ?? 0)
        guard held < compacted else { return }
        try setMeta("hub_lacks_dropped", .text("\(held) \(compacted) \(time.formatted(.iso8601))"))
    }
}

