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

/// The backends merge alike: the same changes and the same district SQL, given to a hub on
/// each storage, leave the same merge state, register rows, feed and conflict records, for
/// every rule (field conflicts, a seat filled twice, too many titles, a quota, a hamlet's
/// titles, delete against update, a district write superseding a conflict).
@Suite struct BackendAgreementTests {
    /// What a hub shows after the scenario, without clock stamps (the district's own writes
    /// are stamped by each hub's clock).
    struct Observed: Equatable {
        var conflicts: [ConflictView] = []
        var feed: [String: [String]] = [:]
        var states: [String: [String]] = [:]
        var rows: [String] = []
    }

    static let rules = RuleSet(version: 3, seats: .laterDecisionWins, holding: HoldingRules(maxTitles: 2, maxHamletTitles: 3))

    static let reference = """
        INSERT INTO units(id, code, name, kind) VALUES ('unit-a', '11111', 'Xã A', 'commune'), ('unit-b', '22222', 'Xã B', 'commune');
        INSERT INTO units(id, code, name, kind, parent_id) VALUES ('h1', '11111-1', 'Thôn 1', 'hamlet', 'unit-a');
        INSERT INTO titles(id, code, category, level) VALUES ('t1', 'chu_tich', 'cadre', 'commune'), ('t2', 'pho_chu_tich', 'cadre', 'commune'),
            ('t3', 'van_phong', 'civil_servant', 'commune'), ('th1', 'truong_thon', 'nonspecialised_hamlet', 'hamlet'),
            ('th2', 'bi_thu', 'nonspecialised_hamlet', 'hamlet'), ('th3', 'mat_tran', 'nonspecialised_hamlet', 'hamlet'),
            ('th4', 'cong_an', 'nonspecialised_hamlet', 'hamlet');
        INSERT INTO quotas(id, unit_id, category, max_headcount) VALUES ('qa', 'unit-a', 'cadre_civil_servant', 1);
        """

    static let seats = """
        INSERT INTO positions(id, commune_id, unit_id, title_id, capacity) VALUES ('pos1', 'unit-a', 'unit-a', 't1', 1),
            ('pos2', 'unit-a', 'unit-a', 't2', 1), ('pos3', 'unit-a', 'unit-a', 't3', 1), ('hp1', 'unit-a', 'h1', 'th1', 1),
            ('hp2', 'unit-a', 'h1', 'th2', 1), ('hp3', 'unit-a', 'h1', 'th3', 1), ('hp4', 'unit-a', 'h1', 'th4', 1);
        """

    /// The offices' changes, made once so that both hubs get the very same ones.
    static func officeChanges(in directory: TemporaryDirectory) throws -> [[Change]] {
        let a = try Replica.create(at: directory.path("a.db"), id: "11111", role: .commune)
        let b = try Replica.create(at: directory.path("b.db"), id: "11112", role: .commune)
        let c = try Replica.create(at: directory.path("c.db"), id: "22222", role: .commune)
        try a.database.execute("""
            INSERT INTO persons(id, commune_id, full_name, party_member) VALUES ('p1', 'unit-a', 'An', 1);
            INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, decision_date, start_date)
                VALUES ('a1', 'unit-a', 'p1', 'pos1', '1/QĐ', '2024-01-01', '2024-01-02'),
                       ('a2', 'unit-a', 'p1', 'pos2', '2/QĐ', '2024-01-01', '2024-01-02'),
                       ('a3', 'unit-a', 'p1', 'pos3', '3/QĐ', '2024-01-01', '2024-01-02');
            """)
        try b.database.execute("""
            INSERT INTO persons(id, commune_id, full_name, party_member) VALUES ('p1', 'unit-a', 'Ân', 0), ('p2', 'unit-a', 'Bình', NULL);
            INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, decision_date, start_date)
                VALUES ('b1', 'unit-a', 'p2', 'pos1', '9/QĐ', '2024-06-01', '2024-06-02');
            """)
        try c.database.execute("INSERT INTO persons(id, commune_id, full_name, note) VALUES ('q1', 'unit-b', 'Cúc', 'tạm'), ('q2', 'unit-b', 'Dung', NULL)")
        var batches: [[Change]] = []
        for replica in [a, b, c] {
            try replica.fold()
            batches.append(try replica.capturedChanges())
        }
        // Later: c deletes q1, and edits q2, which b never sees.
        let seen = try c.counter
        try c.database.execute("DELETE FROM persons WHERE id = 'q1'; UPDATE persons SET note = 'chính thức' WHERE id = 'q2'")
        try c.fold()
        batches.append(try c.capturedChanges(after: seen))
        return batches
    }

    /// The changes each office (of unit-a) makes by writing its SQL once, for pushing in the
    /// order of `Run`'s offices (11111, 11112).
    static func changes(of writes: [(office: ReplicaID, sql: String)], in directory: TemporaryDirectory) throws -> [[Change]] {
        try writes.map { office, sql in
            let replica = try Replica.create(at: directory.path("\(office)-\(UUID().uuidString).db"), id: office, role: .commune)
            try replica.database.execute(sql)
            try replica.fold()
            return try replica.capturedChanges()
        }
    }

    static let person1 = """
        INSERT INTO persons(id, commune_id, full_name, party_member) VALUES ('p1', 'unit-a', 'An', 1);
        INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, decision_date, start_date)
            VALUES ('a1', 'unit-a', 'p1', 'pos1', '1/QĐ', '2024-01-01', '2024-01-02'),
                   ('a2', 'unit-a', 'p1', 'pos2', '2/QĐ', '2024-01-01', '2024-01-02'),
                   ('a3', 'unit-a', 'p1', 'pos3', '3/QĐ', '2024-01-01', '2024-01-02');
        """

    static let person2 = """
        INSERT INTO persons(id, commune_id, full_name) VALUES ('p2', 'unit-a', 'Bình');
        INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, decision_date, start_date)
            VALUES ('b1', 'unit-a', 'p2', 'pos1', '9/QĐ', '2024-06-01', '2024-06-02');
        """

    /// One run on one backend: the reference data is folded, the seats and `staff` are written
    /// by district staff (folded by the first push), `changes` are pushed (batch i by office i,
    /// the rest by office 22222), `unfolded` is written where the hub's capture does not see
    /// it, and `later` by district staff, folded at the end.
    struct Run: Sendable {
        var rules: RuleSet = BackendAgreementTests.rules
        var changes: [[Change]]
        var staff = ""
        var unfolded = ""
        var later = ""
        var rows: [(String, String, String)] = []
    }

    static func observe(_ backend: HubBackend, _ run: Run) async throws -> Observed {
        let directory = try TemporaryDirectory("agreement-\(backend.rawValue)")
        let store = HubStore(storage: try backend.open(in: directory, rules: run.rules))
        func caller(_ code: ReplicaID, _ scope: String) async throws -> Caller {
            try await store.authenticate("Bearer " + (try await store.issueCredential(for: code, scope: scope)))
        }
        let offices = [try await caller("11111", "unit-a"), try await caller("11112", "unit-a"), try await caller("22222", "unit-b")]
        try backend.districtSQL(reference, in: directory)
        try await store.ingestLocalEdits()
        try backend.districtSQL(seats + run.staff, in: directory)
        if !run.unfolded.isEmpty { try backend.uncapturedSQL(run.unfolded, in: directory) }
        for (index, batch) in run.changes.enumerated() {
            let pushed = try await store.push(batch, from: offices[min(index, 2)])
            #expect(pushed.refused.isEmpty, "\(backend): \(pushed.refused)")
        }
        if !run.later.isEmpty { try backend.districtSQL(run.later, in: directory) }
        try await store.ingestLocalEdits()

        var observed = Observed()
        let reviewer = try await store.authenticate("Bearer " + (try await store.issueCredential(for: "reviewer1", scope: nil, reviewer: true)))
        // When an item opened is each run's own wall clock, not something the stores agree on.
        observed.conflicts = try await store.conflicts(state: "all", for: reviewer).map { view in
            var view = view
            view.opened = nil
            return view
        }
        for (code, scope) in [("91111", "unit-a"), ("92222", "unit-b")] {
            let watcher = try await caller(ReplicaID(rawValue: code)!, scope)
            let pulled = try await store.pull(for: watcher, after: 0, limit: 10_000)
            observed.feed[scope] = pulled.changes.flatMap { $0.changes() ?? [] }.map { change in
                "\(change.dot) \(change.table)/\(change.row) \(change.column ?? "-")=\(change.operation) ctx \(change.context)"
            }
            let snapshot = try await store.snapshot(for: watcher, cursor: nil, checkpoint: nil, limit: 10_000)
            observed.states[scope] = snapshot.rows.map { row in
                "\(row.table)/\(row.row) clock \(row.clock) deletes \(row.deletes) "
                    + row.fields.map { "\($0.column)[\($0.seen)]=" + $0.writes.map { "\($0.dot):\($0.value)" }.joined(separator: "|") }.joined(separator: " ")
            }
        }
        for (table, id, column) in run.rows {
            let value = try backend.scalar("SELECT \(column) FROM \(table) WHERE id = '\(id)'", in: directory)
            observed.rows.append("\(table)/\(id).\(column) = \(value.map { $0 == .null ? "" : $0.description } ?? "")")
        }
        return observed
    }

    /// Runs `run` on every backend and expects the same of each; returns SQLite's.
    static func agree(_ run: Run) async throws -> Observed {
        var observed: [Observed] = []
        for backend in HubBackend.allCases { observed.append(try await observe(backend, run)) }
        let sqlite = observed[0]
        for (backend, other) in zip(HubBackend.allCases, observed).dropFirst() {
            #expect(sqlite.conflicts.count == other.conflicts.count, "\(backend)")
            for (mine, theirs) in zip(sqlite.conflicts, other.conflicts) { #expect(mine == theirs, "\(backend)") }
            #expect(sqlite.rows == other.rows, "\(backend)")
            for scope in ["unit-a", "unit-b"] {
                #expect(sqlite.feed[scope] == other.feed[scope], "\(backend): feed of \(scope)")
                #expect(sqlite.states[scope] == other.states[scope], "\(backend): merge state of \(scope)")
            }
        }
        return sqlite
    }

    /// Each item's state by its id.
    static func states(_ observed: Observed) -> [String: String] {
        Dictionary(uniqueKeysWithValues: observed.conflicts.map { ($0.id, $0.state) })
    }

    @Test func bothBackendsMergeTheSameChangesAlike() async throws {
        let directory = try TemporaryDirectory("agreement-offices")
        let sqlite = try await Self.agree(Run(
            changes: try Self.officeChanges(in: directory),
            // District staff settle the name by hand, and end nobody's seat but take a seat from a hamlet.
            later: "UPDATE persons SET full_name = 'Nguyễn An' WHERE id = 'p1'; UPDATE positions SET capacity = 2 WHERE id = 'pos3'",
            rows: [
                ("persons", "p1", "full_name"), ("persons", "p1", "party_member"), ("persons", "p2", "full_name"), ("persons", "q1", "full_name"),
                ("persons", "q2", "note"), ("assignments", "a1", "end_date"), ("assignments", "b1", "end_date"), ("positions", "pos3", "capacity"),
            ]))
        // The scenario reaches every rule.
        #expect(Set(sqlite.conflicts.map(\.kind)) == ["field", "seat", "holding", "quota"])
        #expect(sqlite.rows.contains("assignments/a1.end_date = 2024-06-02"))
    }

    /// A seat is deleted while its holders are named by open items: p1 holds three titles
    /// (one too many), p1 and p2 fill the unit's one cadre post, and both sit in pos1 (an open
    /// seat item, under review). The items name assignments, not the seat, so the holders of a
    /// deleted seat are found from the assignments still pointing at it: with pos1 gone, p1
    /// holds two titles and only p1 counts, and the seat item closes (there is no seat to
    /// fill twice any more), on both stores.
    @Test func aDeletedSeatReleasesTheItemsOfItsHolders() async throws {
        let directory = try TemporaryDirectory("agreement-offices")
        let sqlite = try await Self.agree(Run(
            rules: RuleSet(version: 3, seats: .review, holding: HoldingRules(maxTitles: 2, maxHamletTitles: 3)),
            changes: try Self.changes(of: [("11111", Self.person1), ("11112", Self.person2)], in: directory),
            later: "DELETE FROM positions WHERE id = 'pos1'",
            rows: [("positions", "pos1", "capacity"), ("assignments", "a1", "end_date"), ("assignments", "b1", "end_date")]))
        #expect(Self.states(sqlite) == [
            "persons/p1/*titles": "closed", "positions/pos1/*holders": "closed", "units/h1/*hamlet_titles": "open",
            "units/unit-a/*quota:cadre_civil_servant": "closed",
        ])
    }

    /// An assignment named by an open seat item is deleted: the seat has one holder again and
    /// the unit's cadre post one person, on both stores; p1's three titles stay open.
    @Test func aDeletedAssignmentReleasesTheSeatItemNamingIt() async throws {
        let directory = try TemporaryDirectory("agreement-offices")
        let sqlite = try await Self.agree(Run(
            rules: RuleSet(version: 3, seats: .review, holding: HoldingRules(maxTitles: 2, maxHamletTitles: 3)),
            changes: try Self.changes(of: [("11111", Self.person1), ("11112", Self.person2)], in: directory),
            later: "DELETE FROM assignments WHERE id = 'b1'",
            rows: [("assignments", "a1", "end_date"), ("assignments", "b1", "end_date")]))
        #expect(Self.states(sqlite) == [
            "persons/p1/*titles": "open", "positions/pos1/*holders": "closed", "units/h1/*hamlet_titles": "open",
            "units/unit-a/*quota:cadre_civil_servant": "closed",
        ])
    }

    /// District staff put d1 into two full seats with plain SQL before the hub folds it: s1 in
    /// pos1 is captured (folded by the push, a district dot), s2 in pos2 is met by the rules
    /// with no dot at all (as on PostgreSQL when a staff commit lands between a merge's fold
    /// and its rule checks). Both are the district's, so under district-wins both keep their
    /// seats against an office's later decisions, on both stores.
    @Test func aDistrictStaffHolderNotFoldedYetIsTheDistricts() async throws {
        let directory = try TemporaryDirectory("agreement-offices")
        let staffHolder = { (id: String, position: String) in
            """
            INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, decision_date, start_date)
                VALUES ('\(id)', 'unit-a', 'd1', '\(position)', '5/QĐ-UBND', '2024-01-01', '2024-01-02');
            """
        }
        let sqlite = try await Self.agree(Run(
            rules: RuleSet(version: 3, seats: .districtWins, holding: HoldingRules(maxTitles: 2, maxHamletTitles: 3)),
            changes: try Self.changes(of: [("11111", """
                INSERT INTO persons(id, commune_id, full_name) VALUES ('p2', 'unit-a', 'Bình');
                INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, decision_date, start_date)
                    VALUES ('b1', 'unit-a', 'p2', 'pos1', '9/QĐ', '2024-06-01', '2024-06-02'),
                           ('b2', 'unit-a', 'p2', 'pos2', '9/QĐ', '2024-06-01', '2024-06-02');
                """)], in: directory),
            staff: "INSERT INTO persons(id, commune_id, full_name) VALUES ('d1', 'unit-a', 'Dũng');\n" + staffHolder("s1", "pos1"),
            unfolded: staffHolder("s2", "pos2"),
            rows: [("assignments", "s1", "end_date"), ("assignments", "s2", "end_date"),
                   ("assignments", "b1", "end_date"), ("assignments", "b2", "end_date")]))
        let seats = sqlite.conflicts.filter { $0.kind == "seat" }.map { "\($0.row) keeps \($0.chosen)" }.sorted()
        #expect(seats == ["pos1 keeps s1", "pos2 keeps s2"])
        #expect(sqlite.rows == [
            "assignments/s1.end_date = ", "assignments/s2.end_date = ",
            "assignments/b1.end_date = 2024-06-02", "assignments/b2.end_date = 2024-06-02",
        ])
    }
}
