import Foundation
import SyncCore

/// One active holding, as the holding and quota rules see it.
public struct Holding: Codable, Sendable, Hashable {
    public let assignment: String
    public let person: String
    public let title: String?
    public let category: String?
    public let decisionNo: String?
    public let unit: String?

    public init(assignment: String, person: String, title: String?, category: String?, decisionNo: String?, unit: String?) {
        self.assignment = assignment
        self.person = person
        self.title = title
        self.category = category
        self.decisionNo = decisionNo
        self.unit = unit
    }

    enum CodingKeys: String, CodingKey {
        case assignment, person, title, category, unit
        case decisionNo = "decision_no"
    }
}

/// The holding, quota and hamlet rules' verdicts (`RuleRun` runs them after every merge on
/// every replica and store, for the people and units the merge touched): a person's active
/// titles (kiêm nhiệm) must be an allowed combination within the allowed count; a unit's
/// active head-count per quota category within its quota; a hamlet's distinct hamlet titles
/// within the limit. Violations are review items (`*titles` on the person, `*quota:CATEGORY`
/// or `*hamlet_titles` on the unit), closed once the data no longer violates the rule.
public enum HoldingCheck {
    public static let titlesColumn = "*titles"
    public static let hamletColumn = "*hamlet_titles"
    public static let quotaPrefix = "*quota:"
    /// Quota categories and the title categories they count.
    public static let quotaCategories = [
        "cadre_civil_servant": ["cadre", "civil_servant"],
        "nonspecialised_commune": ["nonspecialised_commune"],
        "nonspecialised_hamlet": ["nonspecialised_hamlet"],
    ]

    /// The holdings of a unit (and its hamlets) that count against its quota of `category`:
    /// the ones to record with the item, and what is wrong, or nil.
    public static func quota(_ category: String, limit: Int, of holdings: [Holding]) -> (counted: [Holding], problem: String?) {
        let categories = quotaCategories[category] ?? [category]
        let counted = holdings.filter { categories.contains($0.category ?? "") }
        let headcount = Set(counted.map(\.person)).count
        return (counted, headcount > limit ? "\(headcount) people hold \(category) titles; \(quotaIs)\(limit)" : nil)
    }

    private static let quotaIs = "the quota is "

    /// The quota a quota item's problem (`quota`'s sentence) names.
    public static func quotaLimit(in problem: String) -> Int? {
        guard let range = problem.range(of: quotaIs, options: .backwards) else { return nil }
        return Int(problem[range.upperBound...].prefix { $0.isNumber })
    }

    /// Why ending the assignments `picks` would not settle a holding or quota item, worked out
    /// from the item alone before anything is written; nil when it would. A quota counts
    /// people, so ending one of two titles of one person changes nothing (the trap a reviewer
    /// fell into: still four people for three places, and a title ended at every office);
    /// a person's titles must then be allowed together; a hamlet's item counts seats, which
    /// ending an assignment does not change. `names` gives people's names for the reason.
    public static func unsettled(
        _ record: ConflictRecord, ending picks: Set<String>, rules: HoldingRules, names: [String: String]
    ) -> String? {
        let holdings = record.holdings
        func who(_ person: String) -> String { names[person].map { "\($0) (\(person))" } ?? person }
        if case .hamletTitles = record.subject {
            return "Mục này đếm vị trí chức danh của thôn, không phải người giữ: kết thúc một phân công không thay đổi nó. "
                + "This item counts a hamlet's seats of hamlet titles, not the people holding them: ending an assignment changes "
                + "nothing. Remove the extra seat (its positions row) or change its title at the district; the item closes by itself."
        }
        let remaining = holdings.filter { !picks.contains($0.assignment) }
        if record.kind == .quota {
            let before = Set(holdings.map(\.person))
            let after = Set(remaining.map(\.person))
            let problem = if case .problem(let text) = record.decision { text } else { "" }
            let limit = quotaLimit(in: problem) ?? (before.count - 1)
            if after.count == before.count {
                let kept = Set(holdings.filter { picks.contains($0.assignment) }.map(\.person)).sorted()
                func still(_ verb: String) -> String {
                    kept.map { person in
                        "\(who(person)) \(verb) " + remaining.filter { $0.person == person }.map { "\($0.title ?? "?") (\($0.assignment))" }
                            .joined(separator: ", ")
                    }.joined(separator: "; ")
                }
                return "Không giải quyết được: định biên tính theo người; \(still("vẫn giữ")), "
                    + "nên vẫn \(after.count) người cho \(limit) chỗ. Hãy chọn mọi chức danh của một người, hoặc chức danh của người chỉ giữ một. "
                    + "This would not settle the item: the quota counts people, and \(still("still holds")), "
                    + "so it is still \(after.count) people for \(limit) places. Pick every title a person holds here, or the title of someone "
                    + "who holds only one."
            }
            if after.count > limit {
                return "Không giải quyết được: còn \(after.count) người cho \(limit) chỗ; hãy chọn cùng lúc chức danh của thêm "
                    + "\(after.count - limit) người. This leaves \(after.count) people for \(limit) places: pick in the same decision the "
                    + "titles of \(after.count - limit) more " + (after.count - limit == 1 ? "person." : "people.")
            }
            return nil
        }
        guard let person = holdings.first?.person else { return nil }
        if let still = rules.violation(remaining.compactMap(\.title)) {
            return "Không giải quyết được. This would not settle the item: \(who(person)) would still hold "
                + "\(remaining.map { "\($0.title ?? "?") (\($0.assignment))" }.joined(separator: ", ")): \(still)."
        }
        return nil
    }

    /// What is wrong with a hamlet's seats of hamlet-level titles (`seats`' titles), or nil.
    public static func hamletProblem(_ seats: [Holding], limit: Int) -> String? {
        let titles = Set(seats.compactMap(\.title))
        return titles.count > limit ? "\(titles.count) hamlet titles in one hamlet; at most \(limit) are allowed" : nil
    }

    /// The units that ended into `unit` (a placeholder or column), directly or through
    /// earlier mergers: seats of a merged commune count against its successor's quota.
    public static func predecessors(_ unit: String) -> String {
        """
        WITH RECURSIVE before(id) AS (
            SELECT id FROM units WHERE successor_id = \(unit) AND effective_to IS NOT NULL
            UNION SELECT u.id FROM units u JOIN before b ON u.successor_id = b.id WHERE u.effective_to IS NOT NULL)
        SELECT id FROM before
        """
    }

    /// The open items that can name the person or unit of a seat or assignment a merge
    /// touched once the row itself cannot (deleted): the items recorded on people and units.
    /// A seat item is recorded on its seat and names no person or unit to re-check; the
    /// holders of a touched seat, even a deleted one, are found from the assignments still
    /// pointing at it (`touchedSeatHolders`), and the items counting them name those.
    public static let namingKinds: Set<ConflictRecord.Kind> = [.holding, .quota]

    /// The active assignments (id, person) of the seats in `positions` (a placeholder or
    /// expression), whether or not the seat row still exists: a seat's holders are
    /// re-checked when it changes, and when it is deleted their titles and units' quotas
    /// no longer count it.
    public static func touchedSeatHolders(in positions: String) -> String {
        "SELECT a.id, a.person_id FROM assignments a WHERE a.position_id IN (\(positions)) AND \(AssignmentTerm.isActive("a"))"
    }

    /// Indexes a hub creates for what these checks look up in a register of many communes (a
    /// person's holdings, a seat's holders, a unit's seats and hamlets, an ended unit's
    /// predecessors): without them each push reads every assignment and seat of the register.
    /// The same statements on both stores; columns the schema lacks are left out.
    public static func lookupIndexes(_ schema: RegisterSchema) -> [String] {
        let columns = [("assignments", "person_id"), ("assignments", "position_id"), ("positions", "unit_id"),
                       ("units", "parent_id"), ("units", "successor_id"), ("quotas", "unit_id")]
        return columns.compactMap { table, column in
            guard schema.table(named: table)?.columns.contains(where: { $0.name == column }) == true else { return nil }
            return "CREATE INDEX IF NOT EXISTS _sync_hub_\(table)_by_\(column) ON \(table)(\(column));"
        }
    }

    /// The active holdings (id, person, title code, title category, decision number, seat's
    /// unit) as every store selects them; a store adds its own conditions after `AND`.
    public static let activeHoldingsSQL = """
        SELECT a.id, a.person_id, t.code, t.category, a.decision_no, p.unit_id
        FROM assignments a JOIN positions p ON p.id = a.position_id LEFT JOIN titles t ON t.id = p.title_id
        WHERE \(AssignmentTerm.isActive("a"))
        """

    /// The kind of this check's record under `column`: a unit's quota, or a person's titles or
    /// a hamlet's (holding).
    public static func conflictKind(recordedUnder column: String) -> ConflictRecord.Kind {
        column.hasPrefix(quotaPrefix) ? .quota : .holding
    }
}
