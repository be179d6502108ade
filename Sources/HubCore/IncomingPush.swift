import Foundation
import MergeEngine
import Register
import SyncConfig
import SyncCore
import SyncProtocol

/// A push body taken apart and checked before the store sees any of it. Nothing a replica
/// says about itself is taken on trust: every counter, stamp, context and id is range- and
/// size-checked here, so no conversion further in can trap and no stored value can grow
/// without bound.
///
/// A batch that is malformed as a whole (a broken or tampered sender) is refused whole and
/// changes nothing. A change that is wrong on its own (a row id too long, a value the column
/// cannot hold) is refused alone, with why, and the others are applied.
package struct IncomingPush {
    /// The batch's changes in counter order: the order the store applies them in, block by block.
    package let changes: [Change]
    /// Changes refused for their row id.
    let refused: [Refusal]

    package init(_ body: PushRequest, from caller: Caller, limits: HubLimits, now: Date) throws {
        let count = body.changes.reduce(0) { $0 + $1.w.count }
        guard count <= limits.maxPushChanges else {
            throw HubError.tooLarge(
                "the batch holds \(count) changes; this hub takes at most \(limits.maxPushChanges) in one push: "
                    + "set 'batch_changes' in commune.toml to \(limits.maxPushChanges) or less")
        }
        let nowMillis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        let aheadLimitMillis = UInt64(limits.maxClockAheadSeconds * 1000)
        var changes: [Change] = []
        var refused: [Refusal] = []
        var counters = Set<UInt64>()
        changes.reserveCapacity(count)
        for group in body.changes {
            // Well-formed on the wire first (origin, context, counters and stamp in range):
            // what the push fuzz target checks too.
            let expanded: [Change]
            do throws(WireBody.Failure) {
                expanded = try group.checkedChanges()
            } catch {
                throw HubError(refusing: error)
            }
            let origin = expanded[0].dot.replica
            guard origin == caller.replica else {
                throw HubError.forbidden(
                    "the batch carries changes of replica \(origin): \(caller.replica) may push only its own changes")
            }
            if group.h / (1 << 16) > nowMillis + aheadLimitMillis {
                let ahead = Double(group.h / (1 << 16)) / 1000 - now.timeIntervalSince1970
                throw HubError(
                    status: 409, code: "clock_ahead",
                    message: "the clock of office \(caller.replica) is ahead of the hub's by \(Self.duration(ahead)) (its change of "
                        + "\(Self.shown(group.t))/\(Self.shown(group.r)) is stamped \(Self.date(group.h)), the hub's clock says "
                        + "\(now.formatted(.iso8601))): correct the office computer's clock ('timedatectl set-ntp true'); "
                        + "syncd then stamps its unsent changes again and sends them")
            }
            let rowProblem = Self.rowIdProblem(group.r, limit: limits.maxRowIdBytes)
            for change in expanded {
                let counter = change.dot.counter
                guard counters.insert(counter).inserted else {
                    throw HubError.badRequest(
                        "the batch names change \(change.dot) twice: a dot names one change; the sender is broken")
                }
                // The sender's own entry is implied (every counter below this one); one at or
                // above it would say the change had seen itself.
                guard change.context[origin] < counter else {
                    throw HubError.badRequest(
                        "change \(change.dot) claims to have seen \(origin):\(change.context[origin]), its own dot or a later one")
                }
                if let column = change.column, column.utf8.count > 64 || column.isEmpty {
                    throw HubError.badRequest("a column name of \(column.utf8.count) bytes: no column of the register is named so")
                }
                if let problem = rowProblem {
                    refused.append(Refusal(
                        counter: counter, table: Self.stored(group.t), row: Self.stored(group.r), column: change.column.map(Self.stored),
                        code: "bad_row_id", message: problem))
                    continue
                }
                changes.append(change)
            }
        }
        changes.sort { $0.dot.counter < $1.dot.counter }
        self.changes = changes
        self.refused = refused
    }

    /// The batch in runs of about `size` changes, cut only between blocks of counters
    /// (`DotBlock`): a block is settled whole, in one transaction. Each refusal goes with the
    /// first run that reaches its counter, so that what the hub settles only grows.
    package func chunks(of size: Int) -> [(changes: ArraySlice<Change>, refused: [Refusal])] {
        var runs: [ArraySlice<Change>] = []
        var start = changes.startIndex
        for index in changes.indices.dropFirst() where index - start >= size
            && DotBlock.of(changes[index].dot.counter) != DotBlock.of(changes[index - 1].dot.counter)
        {
            runs.append(changes[start..<index])
            start = index
        }
        if start < changes.endIndex || runs.isEmpty { runs.append(changes[start...]) }
        var pending = refused.sorted { $0.counter < $1.counter }[...]
        return runs.enumerated().map { index, run in
            let reach = index == runs.count - 1 ? UInt64.max : run.last!.dot.counter
            let taken = pending.prefix { $0.counter <= reach }
            pending = pending.dropFirst(taken.count)
            return (run, Array(taken))
        }
    }

    /// Why a row id cannot be taken, or nil.
    static func rowIdProblem(_ row: String, limit: Int) -> String? {
        if row.isEmpty { return "a row id is empty: every row needs an id" }
        if row.utf8.count > limit {
            return "row id '\(shown(row))' is \(row.utf8.count) bytes long; at most \(limit) are accepted: give the row a "
                + "shorter id ('syncctl refused clear' drops the change)"
        }
        if row.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "row id '\(shown(row))' holds a control character (a NUL, tab or line break): give the row an id "
                + "without one ('syncctl refused clear' drops the change)"
        }
        return nil
    }

    /// Text from the wire as it may be quoted in a message or a log: control characters
    /// escaped, cut to 100 characters.
    static func shown(_ text: String) -> String {
        let escaped = EscapingLogHandler.escaped(String(String.UnicodeScalarView(text.unicodeScalars.prefix(100))))
        return text.unicodeScalars.count > 100 ? escaped + "…" : escaped
    }

    /// Text from the wire as the hub keeps it with a refusal: cut to 256 bytes.
    static func stored(_ text: String) -> String {
        guard text.utf8.count > 256 else { return text }
        return String(decoding: text.utf8.prefix(256), as: UTF8.self)
    }

    static func duration(_ seconds: Double) -> String {
        switch seconds {
        case ..<120: return "\(Int(seconds)) s"
        case ..<7_200: return "\(Int(seconds / 60)) min"
        case ..<172_800: return "\(Int(seconds / 3_600)) h"
        case ..<(2 * 365 * 86_400): return "\(Int(seconds / 86_400)) days"
        default: return "\(Int(seconds / (365.25 * 86_400))) years"
        }
    }

    static func date(_ hlc: UInt64) -> String {
        let seconds = Double(hlc >> 16) / 1000
        guard seconds < 253_402_300_800 else { return "after the year 9999" }
        return Date(timeIntervalSince1970: seconds).formatted(.iso8601)
    }
}
