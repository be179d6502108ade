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

    /// How the `end_reason` of an assignment that lost its seat to another holder begins
    /// (and, before the register was written in Vietnamese only, `seatLostPrefixBefore`).
    public static let seatLostPrefix = "xung đột chức danh:"
    public static let seatLostPrefixBefore = "position conflict:"
    /// How the `end_reason` of an assignment a district reviewer ended begins.
    public static let reviewEndedPrefix = "kết thúc theo quyết định xem xét của huyện"

    /// The columns to write to end an assignment on `date` (an ISO date) for `reason`.
    public static func ending(on date: String, reason: String) -> [String: Value] {
        ["end_date": .text(date), "end_reason": .text(reason)]
    }

    /// The columns to write to end an assignment that settles a conflict (`endDate`): its
    /// start is `start`, and `keeperStart` that of the holder it gives its seat to, if any.
    public static func ending(
        start: String?, givingWayTo keeperStart: String?, decidedOn today: String = RegisterDate.today(), reason: String
    ) -> [String: Value] {
        ending(on: endDate(start: start, givingWayTo: keeperStart, decidedOn: today), reason: reason)
    }

    /// The day an assignment ended to settle a conflict ends, whoever settles it (a seat rule
    /// at the hub, or a reviewer at the desk) and however long after the conflict arose:
    /// - when it gives its seat to another holder (a seat conflict), the day that holder took
    ///   the seat (`keeperStart`): the register then never shows more holders than the seat
    ///   holds on any day, and the same keeper chosen by a rule or by a reviewer ends the other
    ///   on the same day;
    /// - otherwise (a holding or quota item, or a keeper with no start date) the day the
    ///   decision is made (`today`): nothing in the register says it should have ended sooner;
    /// - never before the assignment's own `start`: one that had not begun by then ends on its
    ///   first day, a term of no days (ISO dates compare as text).
    public static func endDate(start: String?, givingWayTo keeperStart: String?, decidedOn today: String) -> String {
        // A date a form left empty is no date.
        let effective = keeperStart.flatMap { $0.isEmpty ? nil : $0 } ?? today
        guard let start, start > effective else { return effective }
        return start
    }

    /// The end days of the holders a settled seat conflict ends, when several keep the seat
    /// (`keepers`, their start days; a seat of capacity `keepers.count`): as late as the seat
    /// allows, so the register never shows more holders than the seat holds on any day. Going
    /// through the days holders start, in order: when a start brings the seat over, the loser
    /// that began latest gives way that day (a loser that begins over a full seat ends on its
    /// first day). A keeper without a start takes the seat `today`; a loser the seat never
    /// needs to shed (fewer keepers than holders of its time) ends `today`. With one keeper this
    /// is `endDate(start:givingWayTo:decidedOn:)` for each loser.
    public static func seatEndDates(
        keepers: [String?], losers: [(assignment: String, start: String?)], decidedOn today: String
    ) -> [String: String] {
        func day(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0 } }
        let capacity = max(keepers.count, 1)
        // (day, keeper?, assignment): keepers' starts before losers' on one day, so a loser
        // beginning the day the seat fills gives way at once.
        var starts: [(day: String, keeper: Bool, assignment: String)] = keepers.enumerated().map { (day($0.element) ?? today, true, "\($0.offset)") }
        starts += losers.map { (day($0.start) ?? "", false, $0.assignment) }
        starts.sort { ($0.day, $0.keeper ? 0 : 1, $0.assignment) < ($1.day, $1.keeper ? 0 : 1, $1.assignment) }
        var ends: [String: String] = [:]
        var holding: [(start: String, assignment: String)] = []
        var keeping = 0
        for start in starts {
            if start.keeper { keeping += 1 } else { holding.append((start.day, start.assignment)) }
            while keeping + holding.count > capacity, let latest = holding.indices.max(by: { (holding[$0].start, holding[$0].assignment) < (holding[$1].start, holding[$1].assignment) }) {
                ends[holding[latest].assignment] = max(start.day, holding[latest].start)
                holding.remove(at: latest)
            }
        }
        for loser in holding { ends[loser.assignment] = max(today, loser.start) }
        return ends
    }
}
