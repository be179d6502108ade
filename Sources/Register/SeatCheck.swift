import Foundation
import SyncCore

/// The seat rule (`RuleRun` runs it after every merge on every replica and store; the
/// verdict is `SeatConflict.settle`): a position must not have more active holders
/// (assignments without an end date) than its capacity.
///
/// Rows carry their own causal history only, so whether two writers "saw each other" across
/// rows cannot be read off the dots. It is read off the data instead: a writer who replaces a
/// holder ends the old assignment, and the seat stays within capacity (no conflict); two
/// holders still active means the seat was filled twice without one ending the other.
/// Recorded as `_sync_conflicts` row (positions, POSITION, *holders): settled under
/// district-wins or later-decision-wins (the hub then ends the losers), open under review.
public enum SeatCheck {
    /// The tables whose changes can fill a seat, or free one.
    public static let tables: Set<String> = ["positions", "assignments"]

    /// One active holder of a seat as the rule sees it; `dot` is the dot (as text) of its
    /// assignment's `position_id`, nil when that write is not folded yet. A write not folded
    /// yet was made where the rule runs, by that store's own replica `writtenHere`: at an
    /// office the office, just written; at the hub district staff's plain SQL (on PostgreSQL,
    /// one committed after the merge folded staff's writes), so the district. `RuleRun` reads
    /// every store's holders through this, so no two stores disagree on who such a holder is.
    public static func holder(
        assignment: String, person: String?, decisionNo: String?, decisionDate: String?, startDate: String?, dot: String?,
        writtenHere: ReplicaID
    ) -> SeatCandidate {
        let written = dot.flatMap(Dot.init(text:)) ?? Dot(replica: writtenHere, counter: UInt64.max)
        return SeatCandidate(
            assignment: assignment, person: person ?? "", decisionNo: decisionNo, decisionDate: decisionDate, startDate: startDate,
            origin: written.replica, dot: written)
    }
}
