import ArticleRegisters
import Foundation
import HubCore
import Register
import SyncConfig
import SyncCore
import Testing

/// The registers built from the two source articles (`ArticleRegister`), typed at a hub as
/// district staff type them, give back every figure of the articles through the hub's
/// reports, the same on SQLite and on PostgreSQL, byte for byte.
@Suite struct ArticleRegisterTests {
    typealias Bench = HubStoreTests.Bench

    /// The district's own rules (Config/rules.toml), so that a figure touched by a review item
    /// would say so.
    static func rules() throws -> RuleSet {
        return try RulesFile.load(root.appendingPathComponent("Config/rules.toml").path)
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A new hub on `backend` with the register loaded.
    static func hub(with register: ArticleRegister, on backend: HubBackend) async throws -> Bench {
        let bench = try Bench(backend, rules: try rules())
        // The hub makes its tables when it first serves (on PostgreSQL, at its first transaction).
        _ = try await bench.store.registerRows()
        try bench.districtSQL(register.sql)
        return bench
    }

    /// The register loaded at a new hub on `backend`, read back as the reports read it.
    static func rows(of register: ArticleRegister, on backend: HubBackend) async throws -> RegisterRows {
        try await hub(with: register, on: backend).store.registerRows()
    }

    /// Every report of the register on its article's dates, as the JSON `synchub report` prints.
    static func json(_ rows: RegisterRows, _ register: ArticleRegister) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let day = register.asOf
        return [
            try encoder.encode(RegisterReports.staffing(rows, asOf: day)), try encoder.encode(RegisterReports.concurrent(rows, asOf: day)),
            try encoder.encode(RegisterReports.qualifications(rows, asOf: day)),
            try encoder.encode(RegisterReports.ratings(rows, year: register.ratingYear)),
            try encoder.encode(RegisterReports.trainings(rows, since: register.trainingsSince, asOf: day)),
        ].map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
    }

    static func encoded(_ lines: [RegisterReports.Staffing]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(lines), as: UTF8.self)
    }

    /// Where two reports part: the text around the first character that differs.
    static func difference(_ one: String, _ other: String) -> String {
        let at = zip(one, other).prefix { $0 == $1 }.count
        return "…\(one.dropFirst(max(0, at - 200)).prefix(400))… became …\(other.dropFirst(max(0, at - 200)).prefix(400))…"
    }

    static func filled(_ lines: [RegisterReports.Staffing], _ code: String, _ category: String) -> String? {
        lines.first { $0.communeCode == code && $0.category == category }.map {
            "\($0.filled)/\($0.quota.map(String.init) ?? "-") \($0.measure)"
        }
    }

    /// Đầm Hà 2017: every figure of the article.
    static func checkDamHa(_ rows: RegisterRows) {
        let day = "2017-12-31"
        let staffing = RegisterReports.staffing(rows, asOf: day)
        #expect(Set(staffing.map(\.communeCode)).subtracting(["*"]).count == 10, "10 commune-level units in 2017, Quảng Lợi among them")
        #expect(filled(staffing, "*", "cadre_civil_servant") == "214/234 people")
        #expect(filled(staffing, "*", "nonspecialised_commune") == "104/206 people")
        #expect(filled(staffing, "*", "nonspecialised_hamlet") == "156/228 posts")
        #expect(filled(staffing, "06916", "cadre_civil_servant") == "19/23 people")
        #expect(filled(staffing, "06916", "nonspecialised_commune") == "11/12 people")
        #expect(staffing.first { $0.communeCode == "06916" && $0.category == "cadre_civil_servant" }?.legalBasis == "NĐ 92/2009/NĐ-CP")

        let held = RegisterReports.concurrent(rows, asOf: day)
        #expect((held.secretaryChairsCommittee, held.secretaryChairsCouncil, held.communes) == (5, 3, 10), "\(held)")
        #expect((held.cellSecretaryIsHamletHead, held.hamlets) == (76, 76), "\(held)")
        let damHa = RegisterReports.concurrent(rows, asOf: day, unit: "06916")
        #expect((damHa.cellSecretaryIsHamletHead, damHa.hamlets) == (9, 9), "\(damHa)")

        let trained = RegisterReports.trainings(rows, since: "2015-01-01", asOf: day)
        let byGroup = Dictionary(uniqueKeysWithValues: trained.map { ("\($0.level)/\($0.group)", $0.attendances) })
        #expect(byGroup["all/all"] == 736 && byGroup["commune/all"].map { $0 + (byGroup["hamlet/all"] ?? 0) } == 736, "\(byGroup)")
        #expect(byGroup["hamlet/all"] == 264, "\(byGroup)")

        let cadres = RegisterReports.qualifications(rows, asOf: day).first { $0.group == "cadre_civil_servant" }
        #expect(cadres?.degree.people == 214)
        #expect(cadres.map { $0.intermediateOrAbove > 95 && $0.intermediateOrAbove == 96.26 } == true, "\(String(describing: cadres))")
        #expect(cadres.map { $0.politicalTheoryTrained > 90 && $0.stateManagementTrained > 90 } == true, "\(String(describing: cadres))")

        #expect(staffing.allSatisfy { $0.openItems == 0 } && held.openItems == 0, "nothing in the register is waiting for review")
        // Two years on Quảng Lợi has merged into Quảng Tân and its titles have ended with it.
        #expect(Set(RegisterReports.staffing(rows, asOf: "2020-06-30").map(\.communeCode)).subtracting(["*"]).count == 9)
    }

    /// Long Biên 2023: every figure of the article.
    static func checkLongBien(_ rows: RegisterRows) {
        let held = RegisterReports.concurrent(rows, asOf: "2023-06-30")
        #expect(held.communes == 14, "14 wards in 2023")
        let rated = RegisterReports.ratings(rows, year: 2022).first { $0.group == "nonspecialised" }
        #expect(rated.map { "\($0.meetingOrBetter) of \($0.rated)" } == "238 of 238", "\(String(describing: rated))")
        let qualified = RegisterReports.qualifications(rows, asOf: "2023-06-30")
        #expect(qualified.first { $0.level == "commune" && $0.group == "all" }?.universityOrAbove == 71.28)
        #expect(qualified.first { $0.level == "hamlet" && $0.group == "all" }?.universityOrAbove == 54.16)
        // The cadres' ratings are not all meeting requirements: the 238 are the non-specialised alone.
        let commune = RegisterReports.ratings(rows, year: 2022).first { $0.level == "commune" && $0.group == "all" }
        #expect(commune.map { $0.meetingOrBetter < $0.rated } == true, "\(String(describing: commune))")
        // Sài Đồng was dissolved before 2025.
        #expect(RegisterReports.concurrent(rows, asOf: "2025-03-01").communes == 13)
    }

    @Test(arguments: HubBackend.allCases)
    func theArticleRegistersGiveBackEveryFigure(on backend: HubBackend) async throws {
        Self.checkDamHa(try await Self.rows(of: .damHa2017, on: backend))
        Self.checkLongBien(try await Self.rows(of: .longBien2023, on: backend))
    }

    @Test func bothStoresGiveTheSameReportsOfTheArticleRegisters() async throws {
        for register in ArticleRegister.all {
            var outputs: [String] = []
            for backend in HubBackend.allCases { outputs.append(try Self.json(try await Self.rows(of: register, on: backend), register)) }
            #expect(outputs.count == 2 && Set(outputs).count == 1, "\(register.name): \(outputs.map { $0.prefix(400) })")
        }
    }

    /// Long Biên's wards reorganised on 2025-07-01 by the official mapping: a report of 2023
    /// reads as it did before, figure for figure (the hamlets' earlier places are kept), and a
    /// report of the day after counts the same seats under the successors.
    @Test(arguments: HubBackend.allCases)
    func aReorganisationLeavesEarlierFiguresAsTheyWere(on backend: HubBackend) async throws {
        let register = ArticleRegister.longBien2023
        let bench = try await Self.hub(with: register, on: backend)
        let before = try await bench.store.registerRows()
        let mapping = try MappingFile.successions(at: Self.root.appendingPathComponent("Deploy/data/commune_mapping_2025.csv").path)
        let report = try await bench.store.reorganise(mapping, on: "2025-07-01")
        // Việt Hưng, Phúc Lợi and Long Biên go on under their code and name; the groups of the other ten follow them.
        #expect(report.moved["units"] == 10 * 14, "\(report)")
        let after = try await bench.store.registerRows()
        // Figure for figure: only `open_items` may differ, as the merged wards are now over the
        // quotas of their successors (which the district has yet to set) and those items name
        // records the 2023 figures rest on.
        func figures(_ rows: RegisterRows) throws -> String {
            try Self.json(rows, register).replacingOccurrences(of: #""open_items":[0-9]+"#, with: "", options: .regularExpression)
        }
        let (was, now) = (try figures(before), try figures(after))
        #expect(now == was, "as of \(register.asOf), nothing changed: \(Self.difference(was, now))")
        Self.checkLongBien(after)

        let day = "2025-07-01"
        let staffing = RegisterReports.staffing(after, asOf: day)
        let old = Set(["00115", "00118", "00121", "00124", "00127", "00130", "00133", "00136", "00139", "00142", "00145", "00148", "00151", "00154"])
        let codes = Set(staffing.map(\.communeCode)).subtracting(["*"])
        #expect(codes.isDisjoint(with: old.subtracting(["00118", "00127", "00136", "00145"])) && !codes.isEmpty,
                "on \(day) only the successors are in force (four of them took over an old code): \(codes.sorted())")
        // Sài Đồng's 17 ended with it at the end of 2024; the 13 other wards' 219 count under their successors.
        #expect(Self.filled(staffing, "*", "cadre_civil_servant")?.hasPrefix("219/") == true, "\(staffing.filter { $0.communeCode == "*" })")
        #expect(Self.filled(staffing, "*", "nonspecialised_hamlet")?.hasPrefix("\(397 - 28)/") == true)
        #expect(RegisterReports.concurrent(after, asOf: day).hamlets == 13 * 14)
    }

    /// `synchub report staffing` reads only the store's tally of the day's assignments
    /// (`SeatTally`), counted by SQL on PostgreSQL and by two scans on SQLite: its lines are
    /// those of the whole register read, on every date, with open review items naming the
    /// records counted (the reorganised Long Biên's quota items) and people holding two titles.
    @Test(arguments: HubBackend.allCases)
    func theStoresTallyGivesTheStaffingOfTheWholeRegister(on backend: HubBackend) async throws {
        let mapping = try MappingFile.successions(at: Self.root.appendingPathComponent("Deploy/data/commune_mapping_2025.csv").path)
        for register in ArticleRegister.all {
            let bench = try await Self.hub(with: register, on: backend)
            if register.name == ArticleRegister.longBien2023.name { _ = try await bench.store.reorganise(mapping, on: "2025-07-01") }
            let whole = try await bench.store.registerRows()
            var touched = 0
            for day in [register.asOf, "2014-06-30", "2019-12-31", "2020-01-01", "2025-06-30", "2025-07-01", "2026-12-04"] {
                let tallied = try await bench.store.registerRows(for: "staffing", asOf: day)
                let lines = RegisterReports.staffing(tallied, asOf: day)
                let (read, counted) = (try Self.encoded(RegisterReports.staffing(whole, asOf: day)), try Self.encoded(lines))
                #expect(counted == read, "\(register.name) on \(day): \(Self.difference(read, counted))")
                touched += lines.filter { $0.openItems > 0 }.count
            }
            if register.name == ArticleRegister.longBien2023.name {
                #expect(touched > 0, "the merged wards' quota items touch lines of the day after")
            } else {
                // The 76 cell secretaries heading their hamlets hold two posts each: kept whole.
                let tally = try #require(try await bench.store.registerRows(for: "staffing", asOf: register.asOf).seatTally)
                #expect(Set(tally.holdings.map(\.person)).count >= 76, "\(tally.holdings.count)")
            }
        }
    }
}
