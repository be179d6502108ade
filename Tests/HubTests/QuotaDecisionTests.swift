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

/// A reviewer's pick on a holding or quota item is worked out before it is written: one that
/// would leave the item as it was (or still over its limit) is refused with the reason and
/// writes nothing, on each storage. The trap it closes: with four people for a quota of three,
/// ending one of two titles held by the *same* person was accepted, ended that title at every
/// office, and the item opened again at once, still four for three.
@Suite struct QuotaDecisionTests {
    typealias Bench = HubStoreTests.Bench

    /// Commune A, a quota of three cadres and civil servants, five commune seats. An holds two
    /// of them (chủ tịch and văn phòng); Bình, Cường and Dũng one each: four people for three.
    static let register = """
        INSERT INTO units(id, code, name, kind) VALUES ('unit-a', '11111', 'Xã A', 'commune');
        INSERT INTO titles(id, code, category, level) VALUES ('t1', 'chu_tich', 'cadre', 'commune'),
            ('t2', 'pho_chu_tich', 'cadre', 'commune'), ('t3', 'van_phong', 'civil_servant', 'commune');
        INSERT INTO quotas(id, unit_id, category, max_headcount, legal_basis) VALUES ('q-a', 'unit-a', 'cadre_civil_servant', 3, 'NĐ 33/2023');
        INSERT INTO positions(id, commune_id, unit_id, title_id, capacity) VALUES ('pos1', 'unit-a', 'unit-a', 't1', 1),
            ('pos2', 'unit-a', 'unit-a', 't2', 1), ('pos3', 'unit-a', 'unit-a', 't3', 1),
            ('pos4', 'unit-a', 'unit-a', 't2', 1), ('pos5', 'unit-a', 'unit-a', 't3', 1), ('pos6', 'unit-a', 'unit-a', 't3', 1);
        """

    static let people = """
        INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-a', 'Nguyễn Văn An'), ('p2', 'unit-a', 'Trần Thị Bình'),
            ('p3', 'unit-a', 'Lê Văn Cường'), ('p4', 'unit-a', 'Phạm Thị Dung');
        INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, start_date) VALUES
            ('a1', 'unit-a', 'p1', 'pos1', '1/QĐ', '2024-01-02'), ('a3', 'unit-a', 'p1', 'pos3', '3/QĐ', '2024-01-02'),
            ('b2', 'unit-a', 'p2', 'pos2', '2/QĐ', '2024-01-02'), ('c4', 'unit-a', 'p3', 'pos4', '4/QĐ', '2024-01-02'),
            ('d5', 'unit-a', 'p4', 'pos5', '5/QĐ', '2024-01-02');
        """

    /// The hub with the register above typed at commune A's office and pushed, and the open quota item.
    static func setUp(_ backend: HubBackend, extra: String = "") async throws -> (Bench, Caller, ConflictView) {
        let bench = try Bench(backend)
        let office = try await bench.office("11111", scope: "unit-a")
        try bench.districtSQL(register)
        try await bench.store.ingestLocalEdits()
        try office.0.database.execute(people + extra)
        try await bench.push(office)
        let reviewer = try await AssignmentEndTests.reviewer(bench)
        let item = try #require(try await bench.store.conflicts(state: "open", for: reviewer).first { $0.kind == "quota" })
        return (bench, reviewer, item)
    }

    /// The assignments of the register above that have an end date.
    static func ended(_ bench: Bench) throws -> [String] {
        try ["a1", "a3", "b2", "c4", "d5", "e6"].filter {
            try bench.backend.scalar("SELECT end_date FROM assignments WHERE id = '\($0)'", in: bench.directory)?.textValue != nil
        }
    }

    @Test(arguments: HubBackend.allCases)
    func endingOneOfTwoTitlesOfOnePersonIsRefusedWithTheReasonAndWritesNothing(on backend: HubBackend) async throws {
        let (bench, reviewer, item) = try await Self.setUp(backend)
        #expect(item.row == "unit-a" && item.sides.count == 5, "\(item)")
        let refusal = await #expect(throws: HubError.self) {
            _ = try await bench.store.resolve(ResolveRequest(id: item.id, pick: "a1", value: nil, reason: "thừa định biên"), by: reviewer)
        }
        #expect(refusal?.status == 409 && refusal?.code == "would_not_settle", "\(String(describing: refusal))")
        // The reason names the person by name and what they still hold, and the count.
        #expect(refusal?.message.contains("Nguyễn Văn An (p1)") == true, "\(String(describing: refusal))")
        #expect(refusal?.message.contains("van_phong (a3)") == true, "\(String(describing: refusal))")
        #expect(refusal?.message.contains("still 4 people for 3 places") == true, "\(String(describing: refusal))")
        #expect(try Self.ended(bench) == [])
        #expect(try await bench.store.conflicts(state: "open", for: reviewer).contains { $0.id == item.id })

        // Both of An's titles in one decision: three people for three, the item closes.
        let done = try await bench.store.resolve(ResolveRequest(id: item.id, pick: "a1, a3", value: nil, reason: "thừa định biên"), by: reviewer)
        #expect(done.wrote == 2)
        #expect(try Self.ended(bench) == ["a1", "a3"])
        #expect(try await !bench.store.conflicts(state: "open", for: reviewer).contains { $0.id == item.id })

        // Reverting the decision puts both titles back, and the item opens again.
        _ = try await bench.store.revert(RevertRequest(review: done.review, reason: "nhầm"), by: reviewer)
        #expect(try Self.ended(bench) == [])
        #expect(try await bench.store.conflicts(state: "open", for: reviewer).contains { $0.id == item.id })
    }

    @Test(arguments: HubBackend.allCases)
    func theTitleOfSomeoneWhoHoldsOnlyOneSettlesTheItem(on backend: HubBackend) async throws {
        let (bench, reviewer, item) = try await Self.setUp(backend)
        _ = try await bench.store.resolve(ResolveRequest(id: item.id, pick: "c4", value: nil, reason: "thừa định biên"), by: reviewer)
        #expect(try Self.ended(bench) == ["c4"])
        #expect(try await !bench.store.conflicts(state: "open", for: reviewer).contains { $0.id == item.id })
    }

    /// Five people for three: one pick cannot settle it and says how many more it takes;
    /// two people's titles in one decision do.
    @Test(arguments: HubBackend.allCases)
    func aQuotaOverByTwoTakesTwoPeopleInOneDecision(on backend: HubBackend) async throws {
        let (bench, reviewer, item) = try await Self.setUp(backend, extra: """
            INSERT INTO persons(id, commune_id, full_name) VALUES ('p5', 'unit-a', 'Võ Văn Em');
            INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, start_date) VALUES
                ('e6', 'unit-a', 'p5', 'pos6', '6/QĐ', '2024-01-02');
            """)
        let refusal = await #expect(throws: HubError.self) {
            _ = try await bench.store.resolve(ResolveRequest(id: item.id, pick: "c4", value: nil, reason: "thừa"), by: reviewer)
        }
        #expect(refusal?.message.contains("This leaves 4 people for 3 places") == true, "\(String(describing: refusal))")
        #expect(refusal?.message.contains("1 more person.") == true, "\(String(describing: refusal))")
        #expect(try Self.ended(bench) == [])
        _ = try await bench.store.resolve(ResolveRequest(id: item.id, pick: "c4,e6", value: nil, reason: "thừa"), by: reviewer)
        #expect(try Self.ended(bench) == ["c4", "e6"])
        #expect(try await !bench.store.conflicts(state: "open", for: reviewer).contains { $0.id == item.id })
    }

    /// A pick that is not one of the item's assignments is refused as before.
    @Test(arguments: HubBackend.allCases)
    func aPickOutsideTheItemIsRefused(on backend: HubBackend) async throws {
        let (bench, reviewer, item) = try await Self.setUp(backend)
        let refusal = await #expect(throws: HubError.self) {
            _ = try await bench.store.resolve(ResolveRequest(id: item.id, pick: "c4,zz", value: nil, reason: "thừa"), by: reviewer)
        }
        #expect(refusal?.status == 400)
        #expect(try Self.ended(bench) == [])
    }

    /// A hamlet's item counts seats of hamlet titles, not anybody's titles: a pick on it used
    /// to end an "assignment" named by a seat's id. Now it is refused, saying what settles it.
    @Test(arguments: HubBackend.allCases)
    func aPickOnAHamletsSeatItemIsRefusedSayingWhatSettlesIt(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        _ = try await bench.office("11111", scope: "unit-a")
        try bench.districtSQL("""
            INSERT INTO units(id, code, name, kind) VALUES ('unit-a', '11111', 'Xã A', 'commune');
            INSERT INTO units(id, code, name, kind, parent_id) VALUES ('thon-1', '11111-01', 'Thôn 1', 'hamlet', 'unit-a');
            INSERT INTO titles(id, code, category, level) VALUES ('h1', 'bi_thu_chi_bo', 'nonspecialised_hamlet', 'hamlet'),
                ('h2', 'truong_thon', 'nonspecialised_hamlet', 'hamlet'), ('h3', 'truong_ban_cong_tac_mat_tran', 'nonspecialised_hamlet', 'hamlet'),
                ('h4', 'cong_an_vien', 'nonspecialised_hamlet', 'hamlet');
            INSERT INTO positions(id, commune_id, unit_id, title_id, capacity) VALUES ('s1', 'unit-a', 'thon-1', 'h1', 1),
                ('s2', 'unit-a', 'thon-1', 'h2', 1), ('s3', 'unit-a', 'thon-1', 'h3', 1), ('s4', 'unit-a', 'thon-1', 'h4', 1);
            """)
        try await bench.store.ingestLocalEdits()
        let reviewer = try await AssignmentEndTests.reviewer(bench)
        let item = try #require(try await bench.store.conflicts(state: "open", for: reviewer).first { $0.column == HoldingCheck.hamletColumn })
        let refusal = await #expect(throws: HubError.self) {
            _ = try await bench.store.resolve(ResolveRequest(id: item.id, pick: "s4", value: nil, reason: "thừa"), by: reviewer)
        }
        #expect(refusal?.code == "would_not_settle" && refusal?.message.contains("Remove the extra seat") == true, "\(String(describing: refusal))")
        #expect(try bench.backend.scalar("SELECT id FROM assignments LIMIT 1", in: bench.directory) == nil, "no assignment row made up")
    }
}
