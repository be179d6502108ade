/// The conflict rules every replica applies, as data: written by the district in
/// `Config/rules.toml`, served by the hub with the sync so that all replicas use the same
/// version.
public struct RuleSet: Codable, Sendable, Hashable {
    /// Raised by the district whenever the rules change; replicas report the version they hold.
    public var version: Int
    /// Rule for concurrent writes of a column not named in `columns`.
    public var defaultRule: FieldRule
    /// Per table, per column.
    public var columns: [String: [String: FieldRule]]
    /// What happens when a seat ends up with more active holders than its capacity.
    public var seats: SeatRule
    /// Concurrent holding (kiêm nhiệm): how many titles one person may hold, which together.
    public var holding: HoldingRules
    /// A delete against a concurrent update.
    public var deletes: DeleteRule

    public init(version: Int, defaultRule: FieldRule = .lastWriterWins, columns: [String: [String: FieldRule]] = [:],
                seats: SeatRule = .review, holding: HoldingRules = HoldingRules(), deletes: DeleteRule = .updateWins) {
        self.version = version
        self.defaultRule = defaultRule
        self.columns = columns
        self.seats = seats
        self.holding = holding
        self.deletes = deletes
    }

    enum CodingKeys: String, CodingKey { case version, defaultRule, columns, seats, holding, deletes }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        version = try keys.decode(Int.self, forKey: .version)
        defaultRule = try keys.decode(FieldRule.self, forKey: .defaultRule)
        columns = try keys.decode([String: [String: FieldRule]].self, forKey: .columns)
        seats = try keys.decode(SeatRule.self, forKey: .seats)
        holding = try keys.decodeIfPresent(HoldingRules.self, forKey: .holding) ?? HoldingRules()
        deletes = try keys.decodeIfPresent(DeleteRule.self, forKey: .deletes) ?? .updateWins
    }

    /// Until the hub serves a rule set: last-writer-wins everywhere, seat conflicts to review.
    public static let builtin = RuleSet(version: 0)

    public func policy(districtReplicas: Set<ReplicaID>) -> MergePolicy {
        MergePolicy(districtReplicas: districtReplicas, defaultRule: defaultRule, columnRules: columns, deleteRule: deletes)
    }
}

extension FieldRule: Codable {}

/// Rules for holding several titles at once (kiêm nhiệm). Violations go to district review;
/// nobody is ended automatically.
public struct HoldingRules: Codable, Sendable, Hashable {
    /// Active titles one person may hold at once.
    public var maxTitles: Int
    /// Title codes that may be held together (unordered pairs). Empty: any combination.
    public var allowedPairs: [[String]]
    /// Distinct hamlet-level titles one hamlet or residential group may have (DOMAIN: 3).
    public var maxHamletTitles: Int

    public init(maxTitles: Int = 2, allowedPairs: [[String]] = [], maxHamletTitles: Int = 3) {
        self.maxTitles = maxTitles
        self.allowedPairs = allowedPairs
        self.maxHamletTitles = maxHamletTitles
    }

    enum CodingKeys: String, CodingKey { case maxTitles, allowedPairs, maxHamletTitles }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        maxTitles = try keys.decode(Int.self, forKey: .maxTitles)
        allowedPairs = try keys.decode([[String]].self, forKey: .allowedPairs)
        maxHamletTitles = try keys.decodeIfPresent(Int.self, forKey: .maxHamletTitles) ?? 3
    }

    /// What is wrong with holding `titles` (codes) at once, or nil.
    public func violation(_ titles: [String]) -> String? {
        if titles.count > maxTitles { return "holds \(titles.count) titles at once; at most \(maxTitles) are allowed" }
        guard !allowedPairs.isEmpty, titles.count > 1 else { return nil }
        let allowed = Set(allowedPairs.filter { $0.count == 2 }.map { Set($0) })
        for (index, first) in titles.enumerated() {
            for second in titles.dropFirst(index + 1) where first != second && !allowed.contains([first, second]) {
                return "\(first) and \(second) may not be held together"
            }
        }
        return nil
    }
}

/// How a seat held by more people than its capacity is settled.
public enum SeatRule: String, Codable, Sendable, CaseIterable, Hashable {
    /// The assignment recorded by the district keeps the seat.
    case districtWins = "district-wins"
    /// The assignment with the later decision date keeps the seat.
    case laterDecisionWins = "later-decision-wins"
    /// Nobody is ended automatically: district staff decide.
    case review
}

/// One active holder of a seat, as the position rule sees it.
public struct SeatCandidate: Codable, Sendable, Hashable {
    public let assignment: String
    public let person: String
    public let decisionNo: String?
    public let decisionDate: String?
    public let startDate: String?
    /// The replica that recorded the assignment, and the dot of that write.
    public let origin: ReplicaID
    public let dot: Dot

    public init(assignment: String, person: String, decisionNo: String?, decisionDate: String?, startDate: String?, origin: ReplicaID, dot: Dot) {
        self.assignment = assignment
        self.person = person
        self.decisionNo = decisionNo
        self.decisionDate = decisionDate
        self.startDate = startDate
        self.origin = origin
        self.dot = dot
    }

    enum CodingKeys: String, CodingKey {
        case assignment, person, origin, dot
        case decisionNo = "decision_no", decisionDate = "decision_date", startDate = "start_date"
    }
}

extension ReplicaID: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = ReplicaID(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a replica id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        try single.encode(rawValue)
    }
}

/// A seat with more active holders than its capacity, and how the rule settles it.
public struct SeatConflict: Sendable, Hashable {
    public let position: String
    public let capacity: Int
    /// Every active holder, in a fixed order.
    public let candidates: [SeatCandidate]
    public let rule: SeatRule
    /// Who keeps the seat (nil under `.review`), and who is to be ended.
    public let keepers: [SeatCandidate]
    public let losers: [SeatCandidate]

    /// Settles a seat. Pure: the same holders give the same answer on every replica.
    public static func settle(
        position: String, capacity: Int, holders: [SeatCandidate], rule: SeatRule, district: Set<ReplicaID>
    ) -> SeatConflict? {
        let capacity = max(capacity, 1)
        guard holders.count > capacity else { return nil }
        let ordered = holders.sorted { $0.dot < $1.dot }
        // Best first: by the rule's preference, then later decision, later start, then dot.
        func prefers(_ lhs: SeatCandidate, _ rhs: SeatCandidate) -> Bool {
            if rule == .districtWins {
                let left = district.contains(lhs.origin), right = district.contains(rhs.origin)
                if left != right { return left }
            }
            if (lhs.decisionDate ?? "") != (rhs.decisionDate ?? "") { return (lhs.decisionDate ?? "") > (rhs.decisionDate ?? "") }
            if (lhs.startDate ?? "") != (rhs.startDate ?? "") { return (lhs.startDate ?? "") > (rhs.startDate ?? "") }
            return rhs.dot < lhs.dot
        }
        guard rule != .review else {
            return SeatConflict(position: position, capacity: capacity, candidates: ordered, rule: rule, keepers: [], losers: [])
        }
        let ranked = ordered.sorted(by: prefers)
        return SeatConflict(
            position: position, capacity: capacity, candidates: ordered, rule: rule,
            keepers: Array(ranked.prefix(capacity)), losers: Array(ranked.dropFirst(capacity)))
    }
}
