import Replica

/// Assignments in this replica that a seat rule ended (the hub writes "position conflict: ..."
/// as their `end_reason`): how an office learns that its appointment lost a seat, even when
/// it never held the conflict itself.
struct EndedAssignments {
    let id: String
    let endDate: String
    let reason: String

    /// The `end_reason` prefix the hub writes when it ends a seat conflict's loser.
    static let reasonPrefix = "position conflict:"

    static func read(_ database: SQLiteDatabase) throws -> [EndedAssignments] {
        try database.query(
            "SELECT id, end_date, end_reason FROM assignments WHERE substr(end_reason, 1, ?) = ? ORDER BY end_date, id",
            [.integer(Int64(reasonPrefix.count)), .text(reasonPrefix)]
        ).map { EndedAssignments(id: $0[0].description, endDate: $0[1].textValue ?? "?", reason: $0[2].textValue ?? "") }
    }
}
