import SyncCore

/// When an assignment holds its seat, and how it stops: the rule the seat and holding checks
/// count holders by and the hub's enforcement and review desk end assignments by.
///
/// An assignment is active while it has no end date (NULL, or empty as a form may leave it).
/// It is ended, never deleted, by writing its end date and why: the record of who held what
/// stays in the register.
public enum AssignmentTerm {
    /// The SQL condition that the assignment row of table alias `alias` is active.
    public static func isActive(_ alias: String) -> String {
        "(\(alias).end_date IS NULL OR \(alias).end_date = '')"
    }

    /// The columns to write to end an assignment on `date` (an ISO date) for `reason`.
    public static func ending(on date: String, reason: String) -> [String: Value] {
        ["end_date": .text(date), "end_reason": .text(reason)]
    }
}
