import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import SyncProtocol

/// Giving the district's changes back to a hub put back from an older copy. Each start of the
/// hub has its own number (its incarnation, in every pull); when it is not the one this
/// office last settled with, the office asks which district counters the hub may lack, sends
/// the district changes it holds among them with their seals (the hub takes back those it
/// sealed), and compares with the hub by content. Until nothing is left that the hub could
/// not take and the contents match, the incarnation is not settled: the next round tries
/// again, and `syncctl status` says the office differs from the hub.
extension SyncSession {
    /// Whether the hub started anew since this office last settled with it.
    func isNewIncarnation(_ incarnation: UInt64) throws -> Bool {
        UInt64(try replica.meta("hub_incarnation")?.integerValue ?? 0) != incarnation
    }

    /// Gives back what the hub may lack of the district's changes held here.
    public func giveBackDistrictChanges() throws {
        let since = UInt64(try replica.meta("hub_incarnation")?.integerValue ?? 0)
        let status = try exchange(RecoveryStatus.self, "GET", "/v1/recover?since=\(since)")
        let held = try replica.districtChanges(in: status.lacking.map { ($0.after, $0.before) })
        var left = held.filter { $0.seal == nil }.map(\.change)
        let sealed = held.filter { $0.seal != nil }
        for start in stride(from: 0, to: sealed.count, by: max(1, batchChanges)) {
            let part = sealed[start..<min(start + max(1, batchChanges), sealed.count)]
            var seals: [String: String] = [:]
            for (change, seal) in part { seals[String(change.dot.counter)] = seal }
            let reply = try exchange(
                RecoverResponse.self, "POST", "/v1/recover",
                body: RecoverRequest(changes: ChangeGroup.group(part.map(\.change)), seals: seals))
            report.districtReturned += reply.taken
            let refused = Set(reply.refused)
            left += part.map(\.change).filter { refused.contains($0.dot.counter) }
        }
        let rows = left.map { "\($0.table)/\($0.row)" }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        try replica.recordDistrictChangesNotReturned(left.count, rows: rows)
        // Content decides whether this office and the hub now agree (others' lost changes
        // may still be on their way back); nothing held in the range: nothing to differ.
        var matched = true
        if !held.isEmpty { matched = try checkDigest().matched }
        if left.isEmpty && matched { try replica.setMeta("hub_incarnation", .integer(Int64(status.incarnation))) }
    }
}
