/// How a column settles writes that were made concurrently (neither author saw the other).
public enum FieldRule: String, Sendable, CaseIterable, Hashable {
    /// The write with the later hybrid timestamp wins; ties go to the higher replica id.
    case lastWriterWins = "last-writer-wins"
    /// A write made at the district hub wins over a commune's; otherwise last-writer-wins.
    case districtWins = "district-wins"
    /// A commune's write wins over the district hub's; otherwise last-writer-wins.
    case communeWins = "commune-wins"
    /// Last-writer-wins provisionally, both values kept and an item opened for review.
    case review
}

/// What happens when a delete meets a concurrent update of the same row.
public enum DeleteRule: String, Sendable, CaseIterable, Hashable, Codable {
    /// The update wins and the row comes back whole: nothing a person typed is lost (default).
    case updateWins = "update-wins"
    /// The delete wins; only a write made after seeing the delete brings the row back.
    case deleteWins = "delete-wins"
}

/// The rule set a replica merges with. Every replica must use the same one, or they would
/// settle the same conflict differently; the hub serves it.
public struct MergePolicy: Sendable, Hashable {
    /// Replicas whose writes are the district's (the hub replica).
    public var districtReplicas: Set<ReplicaID>
    public var defaultRule: FieldRule
    /// Per table, per column, the rule where it differs from `defaultRule`.
    public var columnRules: [String: [String: FieldRule]]
    public var deleteRule: DeleteRule

    public init(
        districtReplicas: Set<ReplicaID>, defaultRule: FieldRule = .lastWriterWins,
        columnRules: [String: [String: FieldRule]] = [:], deleteRule: DeleteRule = .updateWins
    ) {
        self.districtReplicas = districtReplicas
        self.defaultRule = defaultRule
        self.columnRules = columnRules
        self.deleteRule = deleteRule
    }

    public func rule(table: String, column: String) -> FieldRule {
        columnRules[table]?[column] ?? defaultRule
    }

    /// Settles a field: the value to show and, when writes were concurrent, the conflict.
    /// A pure function of the field's surviving writes.
    public func resolve(_ field: FieldState, table: String, row: String, column: String)
        -> FieldResolution
    {
        let writes = field.writes
        guard let first = writes.first else { return FieldResolution(value: .null, conflict: nil) }
        guard writes.count > 1 else { return FieldResolution(value: first.value, conflict: nil) }
        let rule = rule(table: table, column: column)
        let candidates: [FieldWrite]
        switch rule {
        case .lastWriterWins, .review:
            candidates = writes
        case .districtWins:
            let district = writes.filter { districtReplicas.contains($0.dot.replica) }
            candidates = district.isEmpty ? writes : district
        case .communeWins:
            let communes = writes.filter { !districtReplicas.contains($0.dot.replica) }
            candidates = communes.isEmpty ? writes : communes
        }
        let winner = candidates.max(by: MergePolicy.lastWriterOrder)!
        let conflict = FieldConflict(
            table: table, row: row, column: column, rule: rule, sides: writes, chosen: winner.dot)
        return FieldResolution(value: winner.value, conflict: conflict)
    }

    /// Orders writes by (timestamp, replica id, counter): a total order on distinct dots.
    static func lastWriterOrder(_ lhs: FieldWrite, _ rhs: FieldWrite) -> Bool {
        (lhs.timestamp, lhs.dot.replica, lhs.dot.counter)
            < (rhs.timestamp, rhs.dot.replica, rhs.dot.counter)
    }
}

/// A settled field.
public struct FieldResolution: Hashable, Sendable {
    public let value: Value
    /// Present when the field holds concurrent writes.
    public let conflict: FieldConflict?
}

/// Concurrent writes of one field and how the rule settled them. It lasts until a write that
/// has seen every side supersedes them (a later edit, or a reviewer's resolution).
public struct FieldConflict: Hashable, Sendable {
    public let table: String
    public let row: String
    public let column: String
    public let rule: FieldRule
    /// Every concurrent write, sorted by dot.
    public let sides: [FieldWrite]
    /// The write whose value is shown (provisionally, under `.review`).
    public let chosen: Dot

    /// Under the review rule the shown value is provisional until district staff decide.
    public var needsReview: Bool { rule == .review }
}
