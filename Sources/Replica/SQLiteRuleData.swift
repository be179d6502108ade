import MergeEngine
import Register
import SyncCore

/// The batch reads of `RuleRun` on a SQLite register (an office's replica, or the hub's):
/// arrays of ids travel as one JSON parameter and are read back with `json_each`, so each
/// question costs one query however many rows a merge touched.
struct SQLiteRuleData: RuleData {
    let database: SQLiteDatabase

    /// Ids as one JSON array parameter.
    private static func ids(_ ids: some Collection<String>) -> Value { .text(JSONText.array(ids)) }

    private static let each = "SELECT value FROM json_each(?)"

    func reach(assignments: [String], positions: [String], quotas: [String]) throws -> RuleRun.Reach {
        var reach = RuleRun.Reach()
        if !assignments.isEmpty {
            try database.forEachRow(
                """
                SELECT a.id, a.person_id, a.position_id, p.unit_id FROM assignments a LEFT JOIN positions p ON p.id = a.position_id
                WHERE a.id IN (\(Self.each))
                """, [Self.ids(assignments)]
            ) { row in
                reach.places.append((row[0].description, row[1].textValue, row[2].textValue, row[3].textValue))
            }
        }
        if !positions.isEmpty || !quotas.isEmpty {
            try database.forEachRow(
                """
                SELECT unit_id FROM positions WHERE id IN (\(Self.each)) AND unit_id IS NOT NULL
                UNION SELECT unit_id FROM quotas WHERE id IN (\(Self.each)) AND unit_id IS NOT NULL
                """, [Self.ids(positions), Self.ids(quotas)]
            ) { row in
                if let unit = row[0].textValue { reach.units.append(unit) }
            }
        }
        if !positions.isEmpty {
            try database.forEachRow(HoldingCheck.touchedSeatHolders(in: Self.each), [Self.ids(positions)]) { row in
                reach.seatHolders.append((row[0].description, row[1].textValue))
            }
        }
        return reach
    }

    func standing(_ kinds: Set<ConflictRecord.Kind>, naming ids: Set<String>) throws -> [(table: String, row: String)] {
        try ConflictLedger(database: database).standing(kinds, naming: ids)
    }

    func seats(_ positions: [String]) throws -> RuleRun.Seats {
        var seats = RuleRun.Seats()
        try database.forEachRow("SELECT id, capacity FROM positions WHERE id IN (\(Self.each))", [Self.ids(positions)]) { row in
            seats.existing.insert(row[0].description)
            if let capacity = row[1].integerValue { seats.capacities[row[0].description] = Int(capacity) }
        }
        try database.forEachRow(
            """
            SELECT a.position_id, a.id, a.person_id, a.decision_no, a.decision_date, a.start_date, f.dot
            FROM assignments a LEFT JOIN _sync_fields f ON f.tbl = 'assignments' AND f.pk = a.id AND f.col = 'position_id'
            WHERE a.position_id IN (\(Self.each)) AND \(AssignmentTerm.isActive("a"))
            """, [Self.ids(positions)]
        ) { row in
            seats.holders.append(RuleRun.StoredHolder(
                position: row[0].description, assignment: row[1].description, person: row[2].textValue, decisionNo: row[3].textValue,
                decisionDate: row[4].textValue, startDate: row[5].textValue, dot: row[6].textValue))
        }
        return seats
    }

    func holdings(ofPeople people: [String]) throws -> [Holding] {
        try database.query(HoldingCheck.activeHoldingsSQL + " AND a.person_id IN (\(Self.each))", [Self.ids(people)]).map(Self.holding)
    }

    func units(_ units: [String]) throws -> RuleRun.Units {
        var facts = RuleRun.Units()
        let ids = Self.ids(units)
        try database.forEachRow("SELECT id, kind FROM units WHERE id IN (\(Self.each))", [ids]) { row in
            if let kind = row[1].textValue { facts.kinds[row[0].description] = kind }
        }
        try database.forEachRow(
            """
            SELECT p.unit_id, p.id, t.code, t.category FROM positions p JOIN titles t ON t.id = p.title_id
            WHERE p.unit_id IN (\(Self.each)) AND t.level = 'hamlet'
            """, [ids]
        ) { row in
            facts.hamletSeats.append(Holding(
                assignment: row[1].description, person: "", title: row[2].textValue, category: row[3].textValue, decisionNo: nil,
                unit: row[0].textValue))
        }
        try database.forEachRow(
            """
            SELECT unit_id, category, max_headcount FROM quotas
            WHERE unit_id IN (\(Self.each)) AND (effective_to IS NULL OR effective_to = '')
                AND category IS NOT NULL AND max_headcount IS NOT NULL
            """, [ids]
        ) { row in
            if let category = row[1].textValue, let limit = row[2].integerValue {
                facts.quotas.append((row[0].description, category, Int(limit)))
            }
        }
        return facts
    }

    func holdings(within units: [String]) throws -> [(unit: String, holding: Holding)] {
        // One query per unit: SQLite's recursive CTE of a unit's predecessors takes the unit as
        // a parameter; the units a merge touches are few.
        var found: [(unit: String, holding: Holding)] = []
        for unit in units {
            for row in try database.query(
                HoldingCheck.activeHoldingsSQL + " AND (p.unit_id = ?1 OR p.unit_id IN (SELECT id FROM units WHERE parent_id = ?1) "
                    + "OR p.unit_id IN (" + HoldingCheck.predecessors("?1") + "))",
                [.text(unit)]) {
                found.append((unit, Self.holding(row)))
            }
        }
        return found
    }

    private static func holding(_ row: [Value]) -> Holding {
        Holding(assignment: row[0].description, person: row[1].textValue ?? "", title: row[2].textValue, category: row[3].textValue,
                decisionNo: row[4].textValue, unit: row[5].textValue)
    }
}
