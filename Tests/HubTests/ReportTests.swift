import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import MergeEngine
import Register
import Replica
import SyncCore
import Testing
import TestSupport

/// The district's reports, computed once from the register's rows (`RegisterReports`): the
/// same figures from a SQLite hub and a PostgreSQL hub, as of any date, for the whole hub or
/// one commune.
@Suite struct ReportTests {
    typealias Bench = HubStoreTests.Bench

    /// Two communes in force with three hamlets, a third commune ended at the end of 2024;
    /// quotas; people holding titles alone and together, one title ended mid-2024 and one
    /// starting mid-2025.
    static let register = """
        INSERT INTO units(id, code, name, kind, parent_id, effective_from, effective_to) VALUES
            ('unit-a', '11111', 'Xã A', 'commune', NULL, NULL, NULL), ('unit-b', '11112', 'Xã B', 'commune', NULL, NULL, NULL),
            ('unit-old', '11110', 'Xã Cũ', 'commune', NULL, NULL, '2024-12-31'),
            ('h-a1', '11111-01', 'Thôn 1', 'hamlet', 'unit-a', NULL, NULL), ('h-a2', '11111-02', 'Thôn 2', 'hamlet', 'unit-a', NULL, NULL),
            ('h-b1', '11112-01', 'Thôn Bắc', 'hamlet', 'unit-b', NULL, NULL);
        INSERT INTO titles(id, code, category, level) VALUES ('bt', 'bi_thu_dang_uy', 'cadre', 'commune'), ('ct', 'chu_tich_ubnd', 'cadre', 'commune'),
            ('hd', 'chu_tich_hdnd', 'cadre', 'commune'), ('vp', 'van_phong', 'civil_servant', 'commune'),
            ('cb', 'bi_thu_chi_bo', 'nonspecialised_hamlet', 'hamlet'), ('tt', 'truong_thon', 'nonspecialised_hamlet', 'hamlet'),
            ('mt', 'truong_ban_cong_tac_mat_tran', 'nonspecialised_hamlet', 'hamlet');
        INSERT INTO quotas(id, unit_id, category, max_headcount, legal_basis) VALUES
            ('q1', 'unit-a', 'cadre_civil_servant', 5, 'NĐ 33/2023'), ('q2', 'unit-a', 'nonspecialised_hamlet', 6, 'NQ 04/2023'),
            ('q3', 'unit-b', 'cadre_civil_servant', 4, 'NĐ 33/2023');
        INSERT INTO positions(id, commune_id, unit_id, title_id, capacity) VALUES
            ('a-bt', 'unit-a', 'unit-a', 'bt', 1), ('a-ct', 'unit-a', 'unit-a', 'ct', 1), ('a-hd', 'unit-a', 'unit-a', 'hd', 1),
            ('a-vp1', 'unit-a', 'unit-a', 'vp', 1), ('a-vp2', 'unit-a', 'unit-a', 'vp', 1), ('a-vp3', 'unit-a', 'unit-a', 'vp', 1),
            ('a1-cb', 'unit-a', 'h-a1', 'cb', 1), ('a1-tt', 'unit-a', 'h-a1', 'tt', 1), ('a2-cb', 'unit-a', 'h-a2', 'cb', 1), ('a2-tt', 'unit-a', 'h-a2', 'tt', 1),
            ('b-bt', 'unit-b', 'unit-b', 'bt', 1), ('b-hd', 'unit-b', 'unit-b', 'hd', 1), ('b-ct', 'unit-b', 'unit-b', 'ct', 1),
            ('b1-cb', 'unit-b', 'h-b1', 'cb', 1), ('b1-mt', 'unit-b', 'h-b1', 'mt', 1);
        INSERT INTO assignments(id, commune_id, person_id, position_id, start_date, end_date) VALUES
            ('s1', 'unit-a', 'p1', 'a-bt', '2022-01-01', NULL), ('s2', 'unit-a', 'p1', 'a-ct', '2022-01-01', NULL),
            ('s3', 'unit-a', 'p2', 'a-hd', '2022-01-01', NULL), ('s4', 'unit-a', 'p3', 'a-vp1', '2022-01-01', NULL),
            ('s5', 'unit-a', 'p4', 'a-vp2', '2023-01-01', '2024-06-30'), ('s6', 'unit-a', 'p5', 'a-vp3', '2025-06-01', NULL),
            ('s7', 'unit-a', 'p6', 'a1-cb', '2022-01-01', NULL), ('s8', 'unit-a', 'p6', 'a1-tt', '2022-01-01', NULL),
            ('s9', 'unit-a', 'p7', 'a2-cb', '2022-01-01', NULL), ('s10', 'unit-a', 'p8', 'a2-tt', '2022-01-01', NULL),
            ('s11', 'unit-b', 'p9', 'b-bt', '2022-01-01', NULL), ('s12', 'unit-b', 'p9', 'b-hd', '2022-01-01', NULL),
            ('s13', 'unit-b', 'p10', 'b-ct', '2022-01-01', NULL),
            ('s14', 'unit-b', 'p11', 'b1-cb', '2022-01-01', NULL), ('s15', 'unit-b', 'p11', 'b1-mt', '2022-01-01', NULL);
        """

    /// The people of `register`, their ratings and trainings.
    static let people = """
        INSERT INTO persons(id, commune_id, full_name, degree, political_theory, state_management) VALUES
            ('p1', 'unit-a', 'Một', 'university', 'advanced', 'trained'), ('p2', 'unit-a', 'Hai', 'master', 'intermediate', 'none'),
            ('p3', 'unit-a', 'Ba', 'college', 'elementary', NULL), ('p4', 'unit-a', 'Bốn', 'university', NULL, NULL),
            ('p5', 'unit-a', 'Năm', 'university', NULL, NULL), ('p6', 'unit-a', 'Sáu', 'intermediate', 'elementary', NULL),
            ('p7', 'unit-a', 'Bảy', 'university', NULL, NULL), ('p8', 'unit-a', 'Tám', NULL, NULL, NULL),
            ('p9', 'unit-b', 'Chín', 'university', 'advanced', NULL), ('p10', 'unit-b', 'Mười', 'doctor', NULL, NULL),
            ('p11', 'unit-b', 'Mười một', 'college', NULL, NULL);
        INSERT INTO evaluations(id, commune_id, person_id, year, proposed_rating, rating) VALUES
            ('e1', 'unit-a', 'p1', 2024, 'excellent', 'excellent'), ('e2', 'unit-a', 'p2', 2024, 'good', 'good'),
            ('e3', 'unit-a', 'p3', 2024, 'good', 'not_completed'), ('e9', 'unit-b', 'p9', 2024, 'completed', NULL),
            ('e4', 'unit-a', 'p4', 2024, 'excellent', 'excellent'), ('e6', 'unit-a', 'p6', 2024, 'good', 'good'),
            ('e1b', 'unit-a', 'p1', 2023, 'good', 'good');
        INSERT INTO trainings(id, commune_id, person_id, field, course, start_date, end_date) VALUES
            ('t1', 'unit-a', 'p1', 'state_management', 'QLNN', '2021-03-01', '2021-05-01'), ('t2', 'unit-a', 'p1', 'it', 'Tin học', '2019-03-01', '2019-05-01'),
            ('t6', 'unit-a', 'p6', 'political_theory', 'Sơ cấp LLCT', '2022-03-01', '2022-06-01'),
            ('t7', 'unit-a', 'p7', 'professional', 'Nghiệp vụ', '2023-03-01', '2023-04-01');
        """

    static func rows(on backend: HubBackend) async throws -> RegisterRows {
        let bench = try Bench(backend)
        _ = try await bench.office("11111", scope: "unit-a")
        try bench.districtSQL(register + people)
        return try await bench.store.registerRows()
    }

    static func figure(_ lines: [RegisterReports.Staffing], _ code: String, _ category: String) -> (Int, Int?, Int)? {
        lines.first { $0.communeCode == code && $0.category == category }.map { ($0.people, $0.quota, $0.assignments) }
    }

    @Test(arguments: HubBackend.allCases)
    func staffingCountsPeopleOnceAgainstTheQuotaInForce(on backend: HubBackend) async throws {
        let rows = try await Self.rows(on: backend)
        let now = RegisterReports.staffing(rows, asOf: "2025-01-01")
        // Xã A: p1 (two titles, counted once), p2, p3; p4 ended mid-2024, p5 starts mid-2025.
        #expect(Self.figure(now, "11111", "cadre_civil_servant").map { "\($0)" } == "(3, Optional(5), 4)")
        #expect(Self.figure(now, "11111", "nonspecialised_hamlet").map { "\($0)" } == "(3, Optional(6), 4)", "hamlet staff, in the hamlets")
        #expect(Self.figure(now, "11111", "nonspecialised_commune").map { "\($0)" } == "(0, nil, 0)")
        #expect(Self.figure(now, "11112", "cadre_civil_servant").map { "\($0)" } == "(2, Optional(4), 3)")
        #expect(Self.figure(now, "*", "cadre_civil_servant").map { "\($0)" } == "(5, Optional(9), 7)", "the district's total")
        #expect(!now.contains { $0.communeCode == "11110" }, "a commune ended before the date is not counted")
        #expect(now.first { $0.communeCode == "11111" && $0.category == "cadre_civil_servant" }?.legalBasis == "NĐ 33/2023")

        let before = RegisterReports.staffing(rows, asOf: "2024-01-01")
        #expect(Self.figure(before, "11111", "cadre_civil_servant").map { "\($0)" } == "(4, Optional(5), 5)", "p4 still held a title then")
        #expect(before.contains { $0.communeCode == "11110" }, "the ended commune was in force then")
        // An end date is the first day the title is no longer held (the day a successor in the
        // seat starts), as `syncctl report` reads an office's file: p4 held it on 2024-06-29 only.
        #expect(Self.figure(RegisterReports.staffing(rows, asOf: "2024-06-29"), "11111", "cadre_civil_servant")?.0 == 4)
        #expect(Self.figure(RegisterReports.staffing(rows, asOf: "2024-06-30"), "11111", "cadre_civil_servant")?.0 == 3)

        let one = RegisterReports.staffing(rows, asOf: "2025-01-01", unit: "11112")
        #expect(Set(one.map(\.communeCode)) == ["11112", "*"] && Self.figure(one, "*", "cadre_civil_servant").map { "\($0)" } == "(2, Optional(4), 3)")
    }

    @Test(arguments: HubBackend.allCases)
    func concurrentHoldingCountsWhatTheArticlesCount(on backend: HubBackend) async throws {
        let figures = RegisterReports.concurrent(try await Self.rows(on: backend), asOf: "2025-01-01")
        #expect(figures.communes == 2 && figures.hamlets == 3)
        #expect(figures.secretaryChairsCommittee == 1 && figures.secretaryChairsCouncil == 1)
        #expect(figures.cellSecretaryIsHamletHead == 1 && figures.cellSecretaryHeadsFront == 1)
        #expect(Set(figures.pairs.map { $0.titles.joined(separator: "+") + "=\($0.people)" }) == [
            "bi_thu_dang_uy+chu_tich_ubnd=1", "bi_thu_dang_uy+chu_tich_hdnd=1", "bi_thu_chi_bo+truong_thon=1", "bi_thu_chi_bo+truong_ban_cong_tac_mat_tran=1",
        ])
    }

    @Test(arguments: HubBackend.allCases)
    func qualificationsRatingsAndTrainingsByLevel(on backend: HubBackend) async throws {
        let rows = try await Self.rows(on: backend)
        let qualified = RegisterReports.qualifications(rows, asOf: "2025-01-01")
        let commune = try #require(qualified.first { $0.level == "commune" })
        let hamlet = try #require(qualified.first { $0.level == "hamlet" })
        // At work in the communes: p1, p2, p3, p9, p10 (p4 ended, p5 not begun); in the hamlets p6, p7, p8, p11.
        #expect(commune.degree.people == 5 && commune.universityOrAbove == 80.0 && commune.intermediateOrAbove == 100.0, "\(commune)")
        #expect(commune.stateManagementTrained == 20.0 && commune.politicalTheory.counts["advanced"] == 2, "\(commune)")
        #expect(hamlet.degree.people == 4 && hamlet.universityOrAbove == 25.0 && hamlet.intermediateOrAbove == 75.0, "\(hamlet)")
        #expect(hamlet.degree.shares["unknown"] == 25.0)
        // p1, p9 advanced, p2 intermediate, p3 elementary, p10 none recorded.
        #expect(commune.politicalTheoryTrained == 80.0, "\(commune)")
        // Every title at the commune here is a cadre's or a civil servant's; the hamlets' staff are the non-specialised.
        #expect(qualified.map { "\($0.level)/\($0.group)=\($0.degree.people)" }
            == ["commune/all=5", "hamlet/all=4", "commune/cadre_civil_servant=5", "all/nonspecialised=4", "all/all=9"])

        let rated = RegisterReports.ratings(rows, year: 2024)
        let communeRatings = try #require(rated.first { $0.level == "commune" })
        #expect(communeRatings.rated == 4 && communeRatings.meetingOrBetter == 3, "p9's proposed rating counts while none is decided: \(communeRatings)")
        #expect(communeRatings.ratings.counts == ["excellent": 1, "good": 1, "not_completed": 1, "completed": 1])
        #expect(rated.first { $0.level == "hamlet" }.map { ($0.rated, $0.meetingOrBetter) } ?? (0, 0) == (1, 1))

        let trained = RegisterReports.trainings(rows, since: "2020-01-01", asOf: "2025-01-01")
        #expect(trained.first { $0.level == "commune" }.map { "\($0.attendances)/\($0.people)/\($0.byField)" } == "1/1/[\"state_management\": 1]")
        #expect(trained.first { $0.level == "hamlet" }.map { ($0.attendances, $0.people) } ?? (0, 0) == (2, 2))
    }

    /// A figure says how many review items still open name a record it rests on: here one
    /// person recorded twice, whom the hub found when an office pushed the second record.
    @Test(arguments: HubBackend.allCases)
    func aFigureSaysWhenOpenReviewItemsTouchIt(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        let office = try await bench.office("11111", scope: "unit-a")
        try bench.districtSQL(Self.register + Self.people + "UPDATE persons SET citizen_id = '001090000001' WHERE id = 'p1';")
        try office.0.database.execute(
            "INSERT INTO persons(id, commune_id, full_name, citizen_id) VALUES ('p1-again', 'unit-a', 'Một', '001090000001')")
        try await bench.push(office)
        let rows = try await bench.store.registerRows()

        let staffing = RegisterReports.staffing(rows, asOf: "2025-01-01")
        func open(_ code: String, _ category: String) -> Int? {
            staffing.first { $0.communeCode == code && $0.category == category }?.openItems
        }
        #expect(open("11111", "cadre_civil_servant") == 1 && open("*", "cadre_civil_servant") == 1, "p1 holds two cadre titles in Xã A")
        #expect(open("11112", "cadre_civil_servant") == 0 && open("11111", "nonspecialised_hamlet") == 0, "figures p1 is not in")
        #expect(RegisterReports.concurrent(rows, asOf: "2025-01-01").openItems == 1)
        #expect(RegisterReports.concurrent(rows, asOf: "2025-01-01", unit: "11112").openItems == 0)
        let qualified = RegisterReports.qualifications(rows, asOf: "2025-01-01")
        // Commune level, hamlet level, the commune's cadres and civil servants, the non-specialised, everyone.
        #expect(qualified.map(\.openItems) == [1, 0, 1, 0, 1])
        #expect(RegisterReports.ratings(rows, year: 2024).map(\.openItems) == [1, 0, 1, 0, 1])
        #expect(RegisterReports.trainings(rows, since: "2020-01-01", asOf: "2025-01-01").map(\.openItems) == [1, 0, 1, 0, 1])
        // Before p1 held anything, no figure rests on p1.
        #expect(RegisterReports.staffing(rows, asOf: "2021-01-01").allSatisfy { $0.openItems == 0 })
    }

    /// Both stores give the very same report, byte for byte.
    @Test func bothStoresGiveTheSameReports() async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var outputs: [String] = []
        for backend in HubBackend.allCases {
            let rows = try await Self.rows(on: backend)
            outputs.append(String(decoding: try encoder.encode(RegisterReports.staffing(rows, asOf: "2025-01-01")), as: UTF8.self)
                + String(decoding: try encoder.encode(RegisterReports.concurrent(rows, asOf: "2025-01-01")), as: UTF8.self)
                + String(decoding: try encoder.encode(RegisterReports.qualifications(rows, asOf: "2025-01-01")), as: UTF8.self)
                + String(decoding: try encoder.encode(RegisterReports.ratings(rows, year: 2024)), as: UTF8.self)
                + String(decoding: try encoder.encode(RegisterReports.trainings(rows, since: "2020-01-01", asOf: "2025-01-01")), as: UTF8.self))
        }
        #expect(Set(outputs).count == 1, "\(outputs)")
    }
}
