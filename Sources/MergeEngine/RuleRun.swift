import Foundation
import Register
import SyncCore

/// One record a merge writes to a conflict ledger: a field's concurrent writes, or a rule's
/// verdict on a seat, a person's titles, a unit's quota or a hamlet's titles.
public struct ConflictEntry: Sendable, Equatable {
    public let table: String
    public let row: String
    public let column: String
    public let kind: ConflictRecord.Kind
    public let rule: String
    /// The sides as JSON (`ConflictEntry.json`).
    public let sides: String
    public let chosen: String
    public let state: ConflictRecord.State

    public init(
        table: String, row: String, column: String, kind: ConflictRecord.Kind, rule: String, sides: String, chosen: String,
        state: ConflictRecord.State
    ) {
        self.table = table
        self.row = row
        self.column = column
        self.kind = kind
        self.rule = rule
        self.sides = sides
        self.chosen = chosen
        self.state = state
    }

    /// Sides as every ledger keeps them: keys sorted, slashes plain, so two stores holding
    /// the same record hold the same text.
    public static func json<Sides: Encodable>(_ sides: Sides) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(sides), as: UTF8.self)
    }
}

/// A ledger record's key: `table/row/column`.
public struct ConflictKey: Hashable, Sendable {
    public let table: String
    public let row: String
    public let column: String

    public init(table: String, row: String, column: String) {
        self.table = table
        self.row = row
        self.column = column
    }
}

/// What one merge changes in a conflict ledger, decided here for every store; a store only
/// writes it (`ConflictLedger.write` on SQLite, the PostgreSQL store's ledger), in any order:
/// records opened or refreshed (a closed one opens again from now), records closed, and rows
/// whose field records not among `records` are closed (their fields hold one write again).
public struct LedgerWrites: Sendable {
    public var records: [ConflictEntry] = []
    public var closes: [ConflictKey] = []
    public var reconciledRows: [RowKey] = []

    public init() {}

    /// The field conflicts of merged rows: each row whose merge state had or has concurrent
    /// writes shows exactly the conflicts its merge state shows now.
    public static func fields(of outcomes: [MergeBatch.Outcome]) throws -> LedgerWrites {
        var writes = LedgerWrites()
        for outcome in outcomes where outcome.reconcileConflicts {
            writes.reconciledRows.append(outcome.key)
            for conflict in outcome.resolved.conflicts {
                writes.records.append(ConflictEntry(
                    table: outcome.key.table, row: outcome.key.row, column: conflict.column, kind: .field,
                    rule: conflict.rule.rawValue, sides: try ConflictEntry.json(conflict.sides), chosen: conflict.chosen.description,
                    state: conflict.needsReview ? .open : .settled))
            }
        }
        return writes
    }

    public static func + (lhs: LedgerWrites, rhs: LedgerWrites) -> LedgerWrites {
        var sum = lhs
        sum.records += rhs.records
        sum.closes += rhs.closes
        sum.reconciledRows += rhs.reconciledRows
        return sum
    }

    /// The field records of reconciled rows to close, given the field records standing now.
    public func fieldClosures(standing: [ConflictKey]) -> [ConflictKey] {
        let rows = Set(reconciledRows)
        let kept = Set(records.map { ConflictKey(table: $0.table, row: $0.row, column: $0.column) })
        return standing.filter { rows.contains(RowKey(table: $0.table, row: $0.row)) && !kept.contains($0) }
    }
}

/// The rules across rows, once for every store: after a merge, which seats, people and
/// units the touched rows reach, and what the seat rule (`SeatConflict.settle`), the holding
/// rule (`HoldingRule.violation`), the quota rule (`HoldingCheck.quota`) and the hamlet rule
/// (`HoldingCheck.hamletProblem`) find there. A store answers the run's questions in batches
/// (`RuleData`, `AsyncRuleData`: a query or a few per question, however many rows) and writes
/// the `LedgerWrites` it returns; the store decides nothing. What each rule means:
/// `SeatCheck`, `HoldingCheck`.
public struct RuleRun {
    let rules: RuleSet
    let district: Set<ReplicaID>
    /// The store's own replica: a holder whose write is not folded yet was written there.
    let writtenHere: ReplicaID
    /// Touched rows of the tables the rules read, by table, sorted.
    public let assignments: [String]
    public let positions: [String]
    public let quotas: [String]
    let persons: [String]

    public init(touching rows: some Sequence<RowKey>, rules: RuleSet, district: Set<ReplicaID>, writtenHere: ReplicaID) {
        var byTable: [String: Set<String>] = [:]
        for key in rows { byTable[key.table, default: []].insert(key.row) }
        self.rules = rules
        self.district = district
        self.writtenHere = writtenHere
        assignments = (byTable["assignments"] ?? []).sorted()
        positions = (byTable["positions"] ?? []).sorted()
        quotas = (byTable["quotas"] ?? []).sorted()
        persons = (byTable["persons"] ?? []).sorted()
    }

    /// Whether any touched row is one the rules read at all.
    public var isEmpty: Bool { assignments.isEmpty && positions.isEmpty && quotas.isEmpty && persons.isEmpty }

    // MARK: What the store is asked

    /// Where the touched rows lead, as the store reads it now (after the merge).
    public struct Reach: Sendable {
        /// Each touched assignment still present: its person, its seat, and the seat's unit.
        public var places: [(assignment: String, person: String?, position: String?, unit: String?)] = []
        /// The units of the touched seats and of the touched quotas (rows present).
        public var units: [String] = []
        /// The active holders of the touched seats, whether or not the seat row still exists.
        public var seatHolders: [(assignment: String, person: String?)] = []
        public init() {}
    }

    /// The seats the seat rule checks, the people and units the holding rules check.
    public struct Subjects: Sendable {
        public var positions: [String] = []
        public var people: [String] = []
        public var units: [String] = []
    }

    /// One active holder of a seat as stored: `dot` is the dot (as text) of its assignment's
    /// `position_id`, nil when that write is not folded yet.
    public struct StoredHolder: Sendable {
        public let position: String
        public let assignment: String
        public let person: String?
        public let decisionNo: String?
        public let decisionDate: String?
        public let startDate: String?
        public let dot: String?

        public init(
            position: String, assignment: String, person: String?, decisionNo: String?, decisionDate: String?, startDate: String?,
            dot: String?
        ) {
            self.position = position
            self.assignment = assignment
            self.person = person
            self.decisionNo = decisionNo
            self.decisionDate = decisionDate
            self.startDate = startDate
            self.dot = dot
        }
    }

    /// The seats' capacities (absent or NULL: one) and active holders.
    public struct Seats: Sendable {
        public var capacities: [String: Int] = [:]
        /// The seats that exist: a deleted one has no seat conflict, whoever still points at it.
        public var existing: Set<String> = []
        public var holders: [StoredHolder] = []
        public init() {}
    }

    /// What the units are: their kinds, their seats of hamlet-level titles (as `Holding`s whose
    /// assignment is the seat's id), and the quotas in force.
    public struct Units: Sendable {
        public var kinds: [String: String] = [:]
        public var hamletSeats: [Holding] = []
        public var quotas: [(unit: String, category: String, limit: Int)] = []
        public init() {}
    }

    /// The kinds of standing items that can name a person or unit for a seat or assignment
    /// that no longer can (deleted): `HoldingCheck.namingKinds`.
    static let namingKinds = HoldingCheck.namingKinds

    /// Ids whose standing seat items must be re-checked (an assignment left the seat, or
    /// was deleted), and ids whose standing holding and quota items name the people and units
    /// to re-check.
    func namedIDs(_ reach: Reach) -> (seat: Set<String>, naming: Set<String>) {
        var naming = Set(positions + assignments)
        naming.formUnion(reach.seatHolders.map(\.assignment))
        return (Set(assignments), naming)
    }

    func subjects(_ reach: Reach, standingSeats: [(table: String, row: String)], naming: [(table: String, row: String)]) -> Subjects {
        var seats = Set(positions)
        var people = Set(persons)
        var units = Set(reach.units)
        for place in reach.places {
            if let position = place.position { seats.insert(position) }
            if let person = place.person { people.insert(person) }
            if let unit = place.unit { units.insert(unit) }
        }
        for holder in reach.seatHolders { if let person = holder.person { people.insert(person) } }
        // A seat an assignment left (or a deleted assignment's seat) may be resolved now.
        seats.formUnion(standingSeats.filter { $0.table == "positions" }.map(\.row))
        // A deleted seat or assignment cannot name its person or unit any more: the open
        // items that list it, or its holders, can.
        for (table, row) in naming {
            if table == "persons" { people.insert(row) } else if table == "units" { units.insert(row) }
        }
        return Subjects(positions: seats.sorted(), people: people.sorted(), units: units.sorted())
    }

    // MARK: The verdicts

    func seatVerdicts(_ positions: [String], _ seats: Seats) throws -> LedgerWrites {
        var writes = LedgerWrites()
        var holders: [String: [SeatCandidate]] = [:]
        for holder in seats.holders.sorted(by: { $0.assignment < $1.assignment }) {
            holders[holder.position, default: []].append(SeatCheck.holder(
                assignment: holder.assignment, person: holder.person, decisionNo: holder.decisionNo, decisionDate: holder.decisionDate,
                startDate: holder.startDate, dot: holder.dot, writtenHere: writtenHere))
        }
        for position in positions {
            let key = ConflictKey(table: "positions", row: position, column: ConflictRecord.seatColumn)
            guard seats.existing.contains(position), let conflict = SeatConflict.settle(
                position: position, capacity: seats.capacities[position] ?? 1, holders: holders[position] ?? [], rule: rules.seats,
                district: district)
            else {
                writes.closes.append(key)
                continue
            }
            writes.records.append(ConflictEntry(
                table: key.table, row: key.row, column: key.column, kind: .seat, rule: rules.seats.rawValue,
                sides: try ConflictEntry.json(conflict.candidates), chosen: conflict.keepers.map(\.assignment).joined(separator: " "),
                state: rules.seats == .review ? .open : .settled))
        }
        return writes
    }

    func holdingVerdicts(
        people: [String], personHoldings: [Holding], units: [String], facts: Units, within: [(unit: String, holding: Holding)]
    ) throws -> LedgerWrites {
        var writes = LedgerWrites()
        func verdict(_ table: String, _ row: String, _ column: String, _ holdings: [Holding], _ problem: String?) throws {
            guard let problem else {
                writes.closes.append(ConflictKey(table: table, row: row, column: column))
                return
            }
            writes.records.append(ConflictEntry(
                table: table, row: row, column: column, kind: HoldingCheck.conflictKind(recordedUnder: column), rule: "review",
                sides: try ConflictEntry.json(holdings), chosen: problem, state: .open))
        }
        var held: [String: [Holding]] = [:]
        for holding in personHoldings.sorted(by: { $0.assignment < $1.assignment }) { held[holding.person, default: []].append(holding) }
        for person in people {
            let holdings = held[person] ?? []
            try verdict("persons", person, HoldingCheck.titlesColumn, holdings, rules.holding.violation(holdings.compactMap(\.title)))
        }
        var seats: [String: [Holding]] = [:]
        for seat in facts.hamletSeats.sorted(by: { ($0.title ?? "", $0.assignment) < ($1.title ?? "", $1.assignment) }) {
            seats[seat.unit ?? "", default: []].append(seat)
        }
        var counted: [String: [Holding]] = [:]
        for (unit, holding) in within.sorted(by: { ($0.unit, $0.holding.person, $0.holding.assignment) < ($1.unit, $1.holding.person, $1.holding.assignment) }) {
            counted[unit, default: []].append(holding)
        }
        var limits: [String: [(String, Int)]] = [:]
        for quota in facts.quotas { limits[quota.unit, default: []].append((quota.category, quota.limit)) }
        for unit in units {
            if facts.kinds[unit] == "hamlet" || facts.kinds[unit] == "residential_group" {
                let hamletSeats = seats[unit] ?? []
                try verdict("units", unit, HoldingCheck.hamletColumn, hamletSeats,
                            HoldingCheck.hamletProblem(hamletSeats, limit: rules.holding.maxHamletTitles))
            }
            for (category, limit) in (limits[unit] ?? []).sorted(by: { $0.0 < $1.0 }) {
                let (holdings, problem) = HoldingCheck.quota(category, limit: limit, of: counted[unit] ?? [])
                try verdict("units", unit, HoldingCheck.quotaPrefix + category, holdings, problem)
            }
        }
        return writes
    }

    /// The units among `units` with a quota in force: the ones whose holdings are counted.
    func quotaUnits(_ units: [String], _ facts: Units) -> [String] {
        let withQuota = Set(facts.quotas.map(\.unit))
        return units.filter(withQuota.contains)
    }
}

/// The batch reads the rules ask of a store that answers at once (SQLite). Each question is
/// about a batch of rows; which rows, and what the answers mean, is `RuleRun`'s business.
public protocol RuleData {
    /// Where the touched assignments, seats and quotas lead (`RuleRun.Reach`).
    func reach(assignments: [String], positions: [String], quotas: [String]) throws -> RuleRun.Reach
    /// Standing items of `kinds` whose sides name any of `ids`, as (table, row).
    func standing(_ kinds: Set<ConflictRecord.Kind>, naming ids: Set<String>) throws -> [(table: String, row: String)]
    func seats(_ positions: [String]) throws -> RuleRun.Seats
    /// The active holdings of `people` (any order).
    func holdings(ofPeople people: [String]) throws -> [Holding]
    func units(_ units: [String]) throws -> RuleRun.Units
    /// The active holdings that count against each unit's quotas: the unit's own seats', its
    /// hamlets', and those of units that ended into it (`HoldingCheck.predecessors`).
    func holdings(within units: [String]) throws -> [(unit: String, holding: Holding)]
}

/// `RuleData` for a store that answers over a connection (PostgreSQL).
public protocol AsyncRuleData {
    nonisolated(nonsending) func reach(assignments: [String], positions: [String], quotas: [String]) async throws -> RuleRun.Reach
    nonisolated(nonsending) func standing(_ kinds: Set<ConflictRecord.Kind>, naming ids: Set<String>) async throws -> [(table: String, row: String)]
    nonisolated(nonsending) func seats(_ positions: [String]) async throws -> RuleRun.Seats
    nonisolated(nonsending) func holdings(ofPeople people: [String]) async throws -> [Holding]
    nonisolated(nonsending) func units(_ units: [String]) async throws -> RuleRun.Units
    nonisolated(nonsending) func holdings(within units: [String]) async throws -> [(unit: String, holding: Holding)]
}

extension RuleRun {
    // The two drivers below ask the same questions in the same order; they differ only in
    // `await`. Keep them in step.

    /// Runs the rules on a store that answers at once.
    public func run(on data: some RuleData) throws -> LedgerWrites {
        guard !isEmpty else { return LedgerWrites() }
        let reach = try data.reach(assignments: assignments, positions: positions, quotas: quotas)
        let named = namedIDs(reach)
        let subjects = subjects(
            reach, standingSeats: try data.standing([.seat], naming: named.seat), naming: try data.standing(Self.namingKinds, naming: named.naming))
        var writes = try seatVerdicts(subjects.positions, subjects.positions.isEmpty ? Seats() : try data.seats(subjects.positions))
        let units = subjects.units.isEmpty ? Units() : try data.units(subjects.units)
        let quotaUnits = quotaUnits(subjects.units, units)
        writes = writes + (try holdingVerdicts(
            people: subjects.people, personHoldings: subjects.people.isEmpty ? [] : try data.holdings(ofPeople: subjects.people),
            units: subjects.units, facts: units, within: quotaUnits.isEmpty ? [] : try data.holdings(within: quotaUnits)))
        return writes
    }

    /// Runs the rules on a store that answers over a connection.
    public nonisolated(nonsending) func run(on data: some AsyncRuleData) async throws -> LedgerWrites {
        guard !isEmpty else { return LedgerWrites() }
        let reach = try await data.reach(assignments: assignments, positions: positions, quotas: quotas)
        let named = namedIDs(reach)
        let subjects = subjects(
            reach, standingSeats: try await data.standing([.seat], naming: named.seat),
            naming: try await data.standing(Self.namingKinds, naming: named.naming))
        var writes = try seatVerdicts(subjects.positions, subjects.positions.isEmpty ? Seats() : try await data.seats(subjects.positions))
        let units = subjects.units.isEmpty ? Units() : try await data.units(subjects.units)
        let quotaUnits = quotaUnits(subjects.units, units)
        let personHoldings = subjects.people.isEmpty ? [] : try await data.holdings(ofPeople: subjects.people)
        let within = quotaUnits.isEmpty ? [] : try await data.holdings(within: quotaUnits)
        writes = writes + (try holdingVerdicts(
            people: subjects.people, personHoldings: personHoldings, units: subjects.units, facts: units, within: within))
        return writes
    }
}
