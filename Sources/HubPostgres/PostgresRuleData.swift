import HubCore
import Foundation
import PostgresNIO
import MergeEngine
import Register
import SyncCore

/// The batch reads of `RuleRun` on the PostgreSQL store: each question is one query (a few
/// for the units), arrays of ids bound as `text[]`. What is asked, and what the answers mean,
/// is `RuleRun`'s alone.
struct PostgresRuleData: AsyncRuleData {
    let session: PostgresSession

    nonisolated(nonsending) func reach(assignments: [String], positions: [String], quotas: [String]) async throws -> RuleRun.Reach {
        var reach = RuleRun.Reach()
        if !assignments.isEmpty {
            for row in try await session.rows(
                """
                SELECT a.id, a.person_id, a.position_id, p.unit_id FROM assignments a LEFT JOIN positions p ON p.id = a.position_id
                WHERE a.id = ANY($1::text[])
                """, [assignments]) {
                reach.places.append(try row.decode((String, String?, String?, String?).self))
            }
        }
        if !positions.isEmpty || !quotas.isEmpty {
            for row in try await session.rows(
                """
                SELECT unit_id FROM quotas WHERE id = ANY($1::text[]) AND unit_id IS NOT NULL
                UNION SELECT unit_id FROM positions WHERE id = ANY($2::text[]) AND unit_id IS NOT NULL
                """, [quotas, positions]) {
                reach.units.append(try row.decode(String.self))
            }
        }
        if !positions.isEmpty {
            for row in try await session.rows(HoldingCheck.touchedSeatHolders(in: "SELECT unnest($1::text[])"), [positions]) {
                reach.seatHolders.append(try row.decode((String, String?).self))
            }
        }
        return reach
    }

    /// One query, matched in memory.
    nonisolated(nonsending) func standing(_ kinds: Set<ConflictRecord.Kind>, naming ids: Set<String>) async throws -> [(table: String, row: String)] {
        guard !ids.isEmpty, !kinds.isEmpty else { return [] }
        return try await session.rows(
            "SELECT tbl, pk, sides FROM _sync_conflicts WHERE state <> 'closed' AND kind = ANY($1::text[]::_sync_conflict_kind[])",
            [kinds.map(\.rawValue).sorted()]
        ).compactMap { row in
            let (table, key, sides) = try row.decode((String, String, String).self)
            return ids.contains(where: { sides.contains("\"\($0)\"") }) ? (table, key) : nil
        }
    }

    nonisolated(nonsending) func seats(_ positions: [String]) async throws -> RuleRun.Seats {
        var seats = RuleRun.Seats()
        for row in try await session.rows("SELECT id, capacity FROM positions WHERE id = ANY($1::text[])", [positions]) {
            let (id, capacity) = try row.decode((String, Int64?).self)
            seats.existing.insert(id)
            if let capacity { seats.capacities[id] = Int(capacity) }
        }
        for row in try await session.rows(
            """
            SELECT a.position_id, a.id, a.person_id, a.decision_no, a.decision_date, a.start_date, f.dot
            FROM assignments a LEFT JOIN _sync_fields f ON f.tbl = 'assignments' AND f.pk = a.id AND f.col = 'position_id'
            WHERE a.position_id = ANY($1::text[]) AND \(AssignmentTerm.isActive("a"))
            """, [positions]) {
            let (position, id, person, decisionNo, decisionDate, startDate, dot) =
                try row.decode((String, String, String?, String?, String?, String?, String?).self)
            seats.holders.append(RuleRun.StoredHolder(
                position: position, assignment: id, person: person, decisionNo: decisionNo, decisionDate: decisionDate,
                startDate: startDate, dot: dot))
        }
        return seats
    }

    nonisolated(nonsending) func holdings(ofPeople people: [String]) async throws -> [Holding] {
        try await session.rows(HoldingCheck.activeHoldingsSQL + " AND a.person_id = ANY($1::text[])", [people]).map { row in
            let (id, person, title, category, decisionNo, unit) = try row.decode((String, String?, String?, String?, String?, String?).self)
            return Holding(assignment: id, person: person ?? "", title: title, category: category, decisionNo: decisionNo, unit: unit)
        }
    }

    nonisolated(nonsending) func units(_ units: [String]) async throws -> RuleRun.Units {
        var facts = RuleRun.Units()
        for row in try await session.rows("SELECT id, kind FROM units WHERE id = ANY($1::text[])", [units]) {
            let (id, kind) = try row.decode((String, String?).self)
            if let kind { facts.kinds[id] = kind }
        }
        for row in try await session.rows(
            """
            SELECT p.unit_id, p.id, t.code, t.category FROM positions p JOIN titles t ON t.id = p.title_id
            WHERE p.unit_id = ANY($1::text[]) AND t.level = 'hamlet'
            """, [units]) {
            let (unit, position, code, category) = try row.decode((String, String, String?, String?).self)
            facts.hamletSeats.append(Holding(assignment: position, person: "", title: code, category: category, decisionNo: nil, unit: unit))
        }
        for row in try await session.rows(
            """
            SELECT unit_id, category, max_headcount FROM quotas
            WHERE unit_id = ANY($1::text[]) AND (effective_to IS NULL OR effective_to = '') AND category IS NOT NULL AND max_headcount IS NOT NULL
            """, [units]) {
            let (unit, category, limit) = try row.decode((String, String, Int64).self)
            facts.quotas.append((unit, category, Int(limit)))
        }
        return facts
    }

    /// The units a quota covers first (the unit, its hamlets, the units merged into it), then
    /// their seats by index: a condition "in any of these" on each seat would be evaluated
    /// for every seat of the register.
    nonisolated(nonsending) func holdings(within units: [String]) async throws -> [(unit: String, holding: Holding)] {
        try await session.rows(
            """
            SELECT u.unit, a.id, a.person_id, t.code, t.category, a.decision_no, p.unit_id
            FROM unnest($1::text[]) AS u(unit)
            CROSS JOIN LATERAL (
                SELECT u.unit AS id UNION SELECT id FROM units WHERE parent_id = u.unit
                UNION SELECT id FROM (\(HoldingCheck.predecessors("u.unit"))) AS earlier) AS covered
            JOIN positions p ON p.unit_id = covered.id
            JOIN assignments a ON a.position_id = p.id LEFT JOIN titles t ON t.id = p.title_id
            WHERE \(AssignmentTerm.isActive("a"))
            """, [units]
        ).map { row in
            let (unit, id, person, title, category, decisionNo, positionUnit) =
                try row.decode((String, String, String?, String?, String?, String?, String?).self)
            return (unit, Holding(
                assignment: id, person: person ?? "", title: title, category: category, decisionNo: decisionNo, unit: positionUnit))
        }
    }
}
