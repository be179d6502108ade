import Foundation
import PostgresNIO
import Replica
import SyncCore

/// The rules across rows on the PostgreSQL store, with the meaning of the replica's
/// `SeatCheck` and `HoldingCheck`, for the seats, people and units a merge touched: a seat
/// with more active holders than its capacity (`SeatConflict.settle` decides); a person's
/// concurrent titles (`HoldingRule.violation`); a unit's head-count per quota and a hamlet's
/// titles (`HoldingCheck.quota`, `HoldingCheck.hamletProblem`). The data for all of them is
/// read with one query per kind, not per row; verdicts are recorded or closed set-based.
struct PostgresRuleChecks {
    let session: PostgresSession
    let ledger: PostgresConflictLedger
    let rules: RuleSet
    let district: ReplicaID

    nonisolated(nonsending) func run(touching rows: [RowKey]) async throws {
        try await seats(touching: rows)
        try await holdings(touching: rows)
    }

    private static let activeHoldings = """
        SELECT a.id, a.person_id, t.code, t.category, a.decision_no, p.unit_id
        FROM assignments a JOIN positions p ON p.id = a.position_id LEFT JOIN titles t ON t.id = p.title_id
        WHERE \(AssignmentTerm.isActive("a"))
        """

    // MARK: Seats

    private nonisolated(nonsending) func seats(touching rows: [RowKey]) async throws {
        var positions = Set(rows.filter { $0.table == "positions" }.map(\.row))
        let assignments = rows.filter { $0.table == "assignments" }.map(\.row)
        if !assignments.isEmpty {
            for row in try await session.rows(
                "SELECT DISTINCT position_id FROM assignments WHERE id = ANY($1::text[]) AND position_id IS NOT NULL", [assignments]) {
                positions.insert(try row.decode(String.self))
            }
        }
        // A seat an assignment left (or a deleted assignment's seat) may be resolved now.
        positions.formUnion(try await ledger.standing([.seat], naming: Set(assignments)).map(\.row))
        guard !positions.isEmpty else { return }
        let wanted = positions.sorted()
        var capacities: [String: Int] = [:]
        for row in try await session.rows("SELECT id, capacity FROM positions WHERE id = ANY($1::text[])", [wanted]) {
            let (id, capacity) = try row.decode((String, Int64?).self)
            capacities[id] = capacity.map(Int.init)
        }
        var holders: [String: [SeatCandidate]] = [:]
        for row in try await session.rows(
            """
            SELECT a.position_id, a.id, a.person_id, a.decision_no, a.decision_date, a.start_date, f.dot
            FROM assignments a LEFT JOIN _sync_fields f ON f.tbl = 'assignments' AND f.pk = a.id AND f.col = 'position_id'
            WHERE a.position_id = ANY($1::text[]) AND \(AssignmentTerm.isActive("a")) ORDER BY a.id COLLATE "C"
            """, [wanted]) {
            let (position, id, person, decisionNo, decisionDate, startDate, dot) =
                try row.decode((String, String, String?, String?, String?, String?, String?).self)
            holders[position, default: []].append(SeatCheck.holder(
                assignment: id, person: person, decisionNo: decisionNo, decisionDate: decisionDate, startDate: startDate, dot: dot,
                writtenHere: district))
        }
        var found: [PostgresConflictLedger.Record] = []
        var resolved: [(table: String, row: String, column: String)] = []
        for position in wanted {
            guard let conflict = SeatConflict.settle(
                position: position, capacity: capacities[position] ?? 1, holders: holders[position] ?? [], rule: rules.seats,
                district: [district])
            else {
                resolved.append(("positions", position, ConflictRecord.seatColumn))
                continue
            }
            found.append(.init(
                table: "positions", row: position, column: ConflictRecord.seatColumn, kind: .seat, rule: rules.seats.rawValue,
                sides: try PostgresConflictLedger.json(conflict.candidates),
                chosen: conflict.keepers.map(\.assignment).joined(separator: " "), state: rules.seats == .review ? .open : .settled))
        }
        try await ledger.close(resolved)
        try await ledger.record(found)
    }

    // MARK: Holdings and quotas

    private nonisolated(nonsending) func holdings(touching rows: [RowKey]) async throws {
        var people = Set(rows.filter { $0.table == "persons" }.map(\.row))
        var units: Set<String> = []
        let quotas = rows.filter { $0.table == "quotas" }.map(\.row)
        let positions = rows.filter { $0.table == "positions" }.map(\.row)
        let assignments = rows.filter { $0.table == "assignments" }.map(\.row)
        if !quotas.isEmpty || !positions.isEmpty {
            for row in try await session.rows(
                """
                SELECT unit_id FROM quotas WHERE id = ANY($1::text[]) AND unit_id IS NOT NULL
                UNION SELECT unit_id FROM positions WHERE id = ANY($2::text[]) AND unit_id IS NOT NULL
                """, [quotas, positions]) {
                units.insert(try row.decode(String.self))
            }
        }
        if !assignments.isEmpty {
            for row in try await session.rows(
                "SELECT a.person_id, p.unit_id FROM assignments a LEFT JOIN positions p ON p.id = a.position_id WHERE a.id = ANY($1::text[])",
                [assignments]) {
                let (person, unit) = try row.decode((String?, String?).self)
                if let person { people.insert(person) }
                if let unit { units.insert(unit) }
            }
        }
        var listed = Set(positions + assignments)
        if !positions.isEmpty {
            for row in try await session.rows(HoldingCheck.touchedSeatHolders(in: "SELECT unnest($1::text[])"), [positions]) {
                let (id, person) = try row.decode((String, String?).self)
                listed.insert(id)
                if let person { people.insert(person) }
            }
        }
        // A deleted seat or assignment cannot name its person or unit any more: the open items
        // that list it, or its holders, can.
        for (table, row) in try await ledger.standing(Array(HoldingCheck.namingKinds), naming: listed) {
            if table == "persons" { people.insert(row) } else if table == "units" { units.insert(row) }
        }
        guard !people.isEmpty || !units.isEmpty else { return }
        var found: [PostgresConflictLedger.Record] = []
        var resolved: [(table: String, row: String, column: String)] = []
        func verdict(_ table: String, _ row: String, _ column: String, _ holdings: [Holding], _ problem: String?) throws {
            guard let problem else { resolved.append((table, row, column)); return }
            found.append(.init(table: table, row: row, column: column, kind: HoldingCheck.conflictKind(recordedUnder: column), rule: "review",
                               sides: try PostgresConflictLedger.json(holdings),
                               chosen: problem, state: .open))
        }

        let sortedPeople = people.sorted()
        var held: [String: [Holding]] = [:]
        if !sortedPeople.isEmpty {
            for holding in try await holdings(
                Self.activeHoldings + #" AND a.person_id = ANY($1::text[]) ORDER BY a.id COLLATE "C""#, [sortedPeople]) {
                held[holding.person, default: []].append(holding)
            }
        }
        for person in sortedPeople {
            let holdings = held[person] ?? []
            try verdict("persons", person, HoldingCheck.titlesColumn, holdings, rules.holding.violation(holdings.compactMap(\.title)))
        }

        let sortedUnits = units.sorted()
        guard !sortedUnits.isEmpty else {
            try await ledger.close(resolved)
            try await ledger.record(found)
            return
        }
        // Hamlets: at most so many distinct hamlet-level titles.
        var kinds: [String: String] = [:]
        for row in try await session.rows("SELECT id, kind FROM units WHERE id = ANY($1::text[])", [sortedUnits]) {
            let (id, kind) = try row.decode((String, String?).self)
            kinds[id] = kind
        }
        var seats: [String: [Holding]] = [:]
        for row in try await session.rows(
            """
            SELECT p.unit_id, p.id, t.code, t.category FROM positions p JOIN titles t ON t.id = p.title_id
            WHERE p.unit_id = ANY($1::text[]) AND t.level = 'hamlet' ORDER BY p.unit_id, t.code COLLATE "C", p.id COLLATE "C"
            """, [sortedUnits]) {
            let (unit, position, code, category) = try row.decode((String, String, String?, String?).self)
            seats[unit, default: []].append(Holding(assignment: position, person: "", title: code, category: category, decisionNo: nil, unit: unit))
        }
        // Quotas in force, and the active holdings of each unit and its hamlets.
        var limits: [String: [(String, Int)]] = [:]
        for row in try await session.rows(
            """
            SELECT unit_id, category, max_headcount FROM quotas
            WHERE unit_id = ANY($1::text[]) AND (effective_to IS NULL OR effective_to = '') AND category IS NOT NULL AND max_headcount IS NOT NULL
            """, [sortedUnits]) {
            let (unit, category, limit) = try row.decode((String, String, Int64).self)
            limits[unit, default: []].append((category, Int(limit)))
        }
        var within: [String: [Holding]] = [:]
        let quotaUnits = sortedUnits.filter { limits[$0] != nil }
        if !quotaUnits.isEmpty {
            for row in try await session.rows(
                """
                SELECT u.unit, a.id, a.person_id, t.code, t.category, a.decision_no, p.unit_id
                FROM unnest($1::text[]) AS u(unit)
                JOIN positions p ON p.unit_id = u.unit OR p.unit_id IN (SELECT id FROM units WHERE parent_id = u.unit)
                    OR p.unit_id IN (\(HoldingCheck.predecessors("u.unit")))
                JOIN assignments a ON a.position_id = p.id LEFT JOIN titles t ON t.id = p.title_id
                WHERE \(AssignmentTerm.isActive("a")) ORDER BY u.unit, a.person_id COLLATE "C", a.id COLLATE "C"
                """, [quotaUnits]) {
                let (unit, id, person, title, category, decisionNo, positionUnit) =
                    try row.decode((String, String, String?, String?, String?, String?, String?).self)
                within[unit, default: []].append(Holding(
                    assignment: id, person: person ?? "", title: title, category: category, decisionNo: decisionNo, unit: positionUnit))
            }
        }
        for unit in sortedUnits {
            if kinds[unit] == "hamlet" || kinds[unit] == "residential_group" {
                let hamletSeats = seats[unit] ?? []
                try verdict("units", unit, HoldingCheck.hamletColumn, hamletSeats,
                            HoldingCheck.hamletProblem(hamletSeats, limit: rules.holding.maxHamletTitles))
            }
            for (category, limit) in limits[unit] ?? [] {
                let (counted, problem) = HoldingCheck.quota(category, limit: limit, of: within[unit] ?? [])
                try verdict("units", unit, HoldingCheck.quotaPrefix + category, counted, problem)
            }
        }
        try await ledger.close(resolved)
        try await ledger.record(found)
    }

    private nonisolated(nonsending) func holdings(_ sql: String, _ binds: [any PostgresThrowingDynamicTypeEncodable]) async throws -> [Holding] {
        try await session.rows(sql, binds).map { row in
            let (id, person, title, category, decisionNo, unit) = try row.decode((String, String?, String?, String?, String?, String?).self)
            return Holding(assignment: id, person: person ?? "", title: title, category: category, decisionNo: decisionNo, unit: unit)
        }
    }
}
