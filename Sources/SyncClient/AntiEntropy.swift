import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import SyncProtocol

/// What comparing the replica with the hub by content found.
public struct DigestCheck: Sendable, Equatable {
    /// Rows whose digest bucket differed at first.
    public var bucketsDiffering = 0
    /// Rows taken from the hub's state and merged in (what counters had missed).
    public var rowsRepaired = 0
    /// Deleted rows the hub forgot whose state this replica took in place of its own
    /// (`Replica.adoptForgotten`): what they kept of the record goes here too.
    public var rowsForgotten = 0
    /// Rows that still differ after the merge: this replica holds something of them the hub
    /// does not (not counting rows with a refused change, which differ by design).
    public var rowsStillDiffering: [String] = []

    public var matched: Bool { rowsStillDiffering.isEmpty }
}

/// Anti-entropy: the office and the hub compare digests of the office's scope (`ScopeDigest`);
/// for buckets that differ, the hub's state of their rows is merged in (merging is always
/// safe: it is what a pull would have brought), and rows that still differ are reported.
/// Whatever made them differ — a change lost on the way, a feed entry skipped, a restored
/// file — content decides, not counters.
extension SyncSession {
    /// Compares now (call it when nothing waits to be sent, or the office's own unsent writes
    /// count as differences), repairs what merging can, and records the result in the replica.
    @discardableResult
    public func checkDigest(now: Date = Date()) throws -> DigestCheck {
        try replica.fold()
        let hub = try exchange(DigestResponse.self, "GET", "/v1/digest")
        var hubDigest = ScopeDigest(tables: [:])
        for table in hub.tables {
            let buckets = table.buckets.compactMap { UInt64($0, radix: 16) }
            guard buckets.count == ScopeDigest.bucketCount else { throw SyncError.badReply("malformed digest of \(table.table)") }
            hubDigest.tables[table.table] = ScopeDigest.Table(rows: table.rows, buckets: buckets)
        }
        let refused = try replica.rowsWithOpenRefusals()
        let local = try replica.digest(scope: nil, excluding: refused)
        var check = DigestCheck()
        for (table, buckets) in local.differences(from: hubDigest).sorted(by: { $0.key < $1.key }) {
            check.bucketsDiffering += buckets.count
            let reply = try exchange(RowsResponse.self, "POST", "/v1/rows", body: RowsRequest(table: table, buckets: buckets))
            var theirs: [String: RowState] = [:]
            for row in reply.rows {
                guard let state = row.state else { throw SyncError.badReply("malformed row \(row.table)/\(row.row)") }
                theirs[row.row] = state
            }
            let skip = refused[table] ?? []
            let before = Dictionary(uniqueKeysWithValues: try replica.rowStates(table: table, scope: nil, buckets: Set(buckets)))
            let forgotten = Set(try replica.adoptForgotten(theirs.filter { !skip.contains($0.key) && $0.value.isDeleted && before[$0.key] != $0.value }
                .map { (RowKey(table: table, row: $0.key), $0.value) }).map(\.row))
            check.rowsForgotten += forgotten.count
            let repairs = theirs.filter { !skip.contains($0.key) && !forgotten.contains($0.key) && before[$0.key] != $0.value }
            if !repairs.isEmpty {
                try replica.install(repairs.map { (table, $0.key, $0.value) })
                check.rowsRepaired += repairs.count
            }
            for (row, state) in try replica.rowStates(table: table, scope: nil, buckets: Set(buckets)) where !skip.contains(row) {
                if theirs[row] != state { check.rowsStillDiffering.append("\(table)/\(row)") }
            }
        }
        try replica.recordDigestCheck(matched: check.matched, differing: check.rowsStillDiffering, repaired: check.rowsRepaired, at: now)
        report.digest = check
        return check
    }

    /// Whether a comparison is due: `interval` seconds since the last one, and nothing of this
    /// office waits to be sent.
    func isDigestDue(interval: Double, now: Date = Date()) throws -> Bool {
        guard interval > 0 else { return false }
        if let last = try replica.meta("digest_checked_at")?.textValue, let at = try? Date(last, strategy: .iso8601),
            now.timeIntervalSince(at) < interval { return false }
        let acked = UInt64(try replica.meta("push_acked")?.integerValue ?? 0)
        return try !replica.hasUnfoldedWrites && replica.capturedChanges(after: acked, limit: 1).isEmpty
    }
}
