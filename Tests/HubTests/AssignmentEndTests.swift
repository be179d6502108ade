import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import MergeEngine
import Register
import Replica
import SyncCore
import SyncProtocol
import Testing
import TestSupport

/// The day an assignment ended to settle a conflict ends (`AssignmentTerm.endDate`), on each
/// storage: the same whether a rule or a reviewer settles it.
@Suite struct AssignmentEndTests {
    typealias Bench = HubStoreTests.Bench

    /// Commune A with three commune-level seats of one holder each.
    static let register = """
        INSERT INTO units(id, code, name, kind) VALUES ('unit-a', '11111', 'Xã A', 'commune');
        INSERT INTO titles(id, code, category, level) VALUES ('t1', 'chu_tich', 'cadre', 'commune'),
            ('t2', 'pho_chu_tich', 'cadre', 'commune'), ('t3', 'van_phong', 'civil_servant', 'commune');
        INSERT INTO positions(id, commune_id, unit_id, title_id, capacity) VALUES ('pos1', 'unit-a', 'unit-a', 't1', 1),
            ('pos2', 'unit-a', 'unit-a', 't2', 1), ('pos3', 'unit-a', 'unit-a', 't3', 1),
            ('pos4', 'unit-a', 'unit-a', 't1', 1), ('pos5', 'unit-a', 'unit-a', 't2', 1), ('pos6', 'unit-a', 'unit-a', 't3', 1);
        """

    static func reviewer(_ bench: Bench) async throws -> Caller {
        try await bench.store.authenticate("Bearer " + (try await bench.store.issueCredential(for: "reviewer1", scope: nil, reviewer: true)))
    }

    static func endDate(_ assignment: String, _ bench: Bench) throws -> String? {
        try bench.backend.scalar("SELECT end_date FROM assignments WHERE id = '\(assignment)'", in: bench.directory)?.textValue
    }

    /// Office A puts An in seat pos1 from 2 January 2024; office B, offline, puts Bình in it
    /// from 2 June. Whoever keeps the seat, the other's term ends the day the keeper's began
    /// (never before its own start), whether the later-decision rule or a reviewer chose.
    @Test(arguments: HubBackend.allCases)
    func aSeatLoserEndsTheDayTheKeeperTookTheSeatWhetherARuleOrAReviewerChose(on backend: HubBackend) async throws {
        let settlements: [(rule: SeatRule, pick: String?, ended: String, kept: String)] = [
            (.laterDecisionWins, nil, "a1", "b1"),
            (.review, "b1", "a1", "b1"),
            // An started first: Bình's term ends on its own first day, never before it.
            (.review, "a1", "b1", "a1"),
        ]
        for settlement in settlements {
            let bench = try Bench(backend, rules: RuleSet(version: 1, seats: settlement.rule))
            let a = try await bench.office("11111", scope: "unit-a")
            let b = try await bench.office("11112", scope: "unit-a")
            try bench.districtSQL(Self.register)
            try await bench.store.ingestLocalEdits()
            try a.0.database.execute("""
                INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-a', 'An');
                INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, decision_date, start_date)
                    VALUES ('a1', 'unit-a', 'p1', 'pos1', '1/QĐ', '2024-01-01', '2024-01-02');
                """)
            try b.0.database.execute("""
                INSERT INTO persons(id, commune_id, full_name) VALUES ('p2', 'unit-a', 'Bình');
                INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, decision_date, start_date)
                    VALUES ('b1', 'unit-a', 'p2', 'pos1', '9/QĐ', '2024-06-01', '2024-06-02');
                """)
            try await bench.push(a)
            try await bench.push(b)
            if let pick = settlement.pick {
                let reviewer = try await Self.reviewer(bench)
                let seat = try #require(try await bench.store.conflicts(state: "open", for: reviewer).first { $0.kind == "seat" })
                _ = try await bench.store.resolve(ResolveRequest(id: seat.id, pick: pick, value: nil, reason: "theo quyết định"), by: reviewer)
            }
            #expect(try Self.endDate(settlement.ended, bench) == "2024-06-02", "\(settlement)")
            #expect(try Self.endDate(settlement.kept, bench) == nil, "\(settlement)")
        }
    }

    /// A reviewer ending one of too many titles ends it the day of the decision: nothing in a
    /// holding item says it should have ended sooner. One not yet begun ends on its first day.
    @Test(arguments: HubBackend.allCases)
    func aTitleAReviewerEndsForAHoldingItemEndsTheDayOfTheDecisionNeverBeforeItsStart(on backend: HubBackend) async throws {
        let bench = try Bench(backend, rules: RuleSet(version: 1, holding: HoldingRules(maxTitles: 2)))
        let a = try await bench.office("11111", scope: "unit-a")
        try bench.districtSQL(Self.register)
        try await bench.store.ingestLocalEdits()
        try a.0.database.execute("""
            INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-a', 'An'), ('p2', 'unit-a', 'Bình');
            INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, start_date)
                VALUES ('a1', 'unit-a', 'p1', 'pos1', '1/QĐ', '2024-01-02'), ('a2', 'unit-a', 'p1', 'pos2', '2/QĐ', '2024-01-02'),
                       ('a3', 'unit-a', 'p1', 'pos3', '3/QĐ', '2099-01-01'),
                       ('b1', 'unit-a', 'p2', 'pos4', '4/QĐ', '2024-01-02'), ('b2', 'unit-a', 'p2', 'pos5', '5/QĐ', '2024-03-01'),
                       ('b3', 'unit-a', 'p2', 'pos6', '6/QĐ', '2024-01-02');
            """)
        try await bench.push(a)
        let reviewer = try await Self.reviewer(bench)
        let items = try await bench.store.conflicts(state: "open", for: reviewer).filter { $0.kind == "holding" }
        #expect(Set(items.map(\.row)) == ["p1", "p2"])
        for (person, pick) in [("p1", "a3"), ("p2", "b2")] {
            let item = try #require(items.first { $0.row == person })
            _ = try await bench.store.resolve(ResolveRequest(id: item.id, pick: pick, value: nil, reason: "quá số chức danh"), by: reviewer)
        }
        let today = RegisterDate.today()
        #expect(try Self.endDate("b2", bench) == today)
        #expect(try Self.endDate("a3", bench) == "2099-01-01")
        #expect(try ["a1", "a2", "b1", "b3"].map { try Self.endDate($0, bench) } == [nil, nil, nil, nil])
    }

    /// A seat several keep (capacity 2): each loser gives way as late as the seat allows, the
    /// one that began latest first, so no day shows more holders than the seat holds; with one
    /// keeper it is `endDate` for every loser.
    @Test func theLosersOfASeatSeveralKeepEndAsLateAsTheSeatAllows() {
        let today = "2026-12-05"
        let ends = AssignmentTerm.seatEndDates(
            keepers: ["2024-03-01", "2024-04-01"], losers: [("c", "2024-01-01"), ("d", "2024-02-01"), ("e", "2024-05-01")], decidedOn: today)
        #expect(ends == ["d": "2024-03-01", "c": "2024-04-01", "e": "2024-05-01"])
        // One keeper: the day it took the seat, never before a loser's own start; no start: today.
        for (keeper, loser) in [("2024-06-02", "2024-01-02"), ("2024-01-02", "2024-06-02"), ("2024-06-02", "2024-06-02"), ("", "2024-01-02"), ("2024-06-02", "")] {
            let single = AssignmentTerm.seatEndDates(keepers: [keeper], losers: [("x", loser)], decidedOn: today)
            #expect(single["x"] == AssignmentTerm.endDate(start: loser, givingWayTo: keeper, decidedOn: today), "\(keeper) / \(loser)")
        }
        // Any holders: every loser ends, not before it began, and no start day has more holders
        // than the keepers' number.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let days = (1...12).map { String(format: "2024-%02d-01", $0) }
            let keepers = (0..<Int.random(in: 1...3, using: &generator)).map { _ in days.randomElement(using: &generator) }
            let losers = (0..<Int.random(in: 1...4, using: &generator)).map { ("l\($0)", days.randomElement(using: &generator)!) }
            let ends = AssignmentTerm.seatEndDates(keepers: keepers, losers: losers.map { ($0.0, Optional($0.1)) }, decidedOn: today)
            #expect(ends.count == losers.count)
            for (id, start) in losers { #expect((ends[id] ?? "") >= start) }
            for day in days {
                let holding = keepers.filter { ($0 ?? today) <= day }.count + losers.filter { $0.1 <= day && day < ends[$0.0]! }.count
                #expect(holding <= keepers.count, "\(keepers) \(losers) \(ends) on \(day)")
            }
        }
    }
}
