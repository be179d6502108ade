import MergeEngine
import Register
import Replica

/// Assignments in this replica that the district ended, by a seat rule or a reviewer's
/// decision (the hub writes `AssignmentTerm.seatLostPrefix ...` or `reviewEndedPrefix ...`
/// as their `end_reason`): how an office learns that its appointment ended, even when it
/// never held the conflict itself.
struct EndedAssignments {
    let id: String
    let endDate: String
    let reason: String

    /// The `end_reason` prefixes the hub writes, and the one it wrote before.
    static let reasonPrefixes = [AssignmentTerm.seatLostPrefix, AssignmentTerm.reviewEndedPrefix, AssignmentTerm.seatLostPrefixBefore]

    static func read(_ database: SQLiteDatabase) throws -> [EndedAssignments] {
        try database.query(
            "SELECT id, end_date, end_reason FROM assignments WHERE " + reasonPrefixes.map { _ in "end_reason LIKE ? || '%'" }.joined(separator: " OR ")
                + " ORDER BY end_date, id",
            reasonPrefixes.map { .text($0) }
        ).map { EndedAssignments(id: $0[0].description, endDate: $0[1].textValue ?? "?", reason: $0[2].textValue ?? "") }
    }
}
