import Foundation
import SyncCore

/// The register's rows a report reads, whole tables at a time (a store reads them once, in
/// bulk, on either kind of store), and what is in force on a date.
public struct RegisterRows: Sendable {
    public typealias Unit = UnitLineage.Unit
    public struct Title: Sendable { let id, code, category: String }
    public struct Position: Sendable { let id, unit, title: String }
    public struct Assignment: Sendable { let id, person, position: String; let start, end: String? }
    public struct Quota: Sendable { let unit, category: String; let max: Int; let basis, from, to: String? }

    /// The columns each table is read with, in order.
    public static let columns: [(table: String, columns: [String])] = [
        ("units", ["id", "code", "name", "kind", "parent_id", "effective_from", "effective_to", "successor_id"]),
        ("titles", ["id", "code", "category"]),
        ("positions", ["id", "unit_id", "title_id"]),
        ("assignments", ["id", "person_id", "position_id", "start_date", "end_date"]),
        ("quotas", ["unit_id", "category", "max_headcount", "legal_basis", "effective_from", "effective_to"]),
        ("persons", ["id", "degree", "political_theory", "state_management", "status"]),
        ("evaluations", ["person_id", "year", "rating", "proposed_rating"]),
        ("trainings", ["person_id", "field", "start_date", "end_date"]),
    ]

    /// The tables `report` (staffing, concurrent, qualifications, ratings, trainings) reads;
    /// every table for nil (all of them at once).
    public static func tables(for report: String?) -> Set<String> {
        let seats: Set<String> = ["units", "titles", "positions", "assignments", "quotas"]
        switch report {
        case "staffing", "concurrent": return seats
        case "qualifications": return seats.union(["persons"])
        case "ratings": return seats.union(["persons", "evaluations"])
        case "trainings": return seats.union(["persons", "trainings"])
        default: return Set(columns.map(\.table))
        }
    }

    var units: [Unit] = []
    /// Where each unit stood on a date (mergers, splits, hamlets that followed their commune).
    let lineage: UnitLineage
    var titles: [String: Title] = [:]
    var positions: [String: Position] = [:]
    var assignments: [Assignment] = []
    var quotas: [Quota] = []
    public struct Person: Sendable { let degree, politicalTheory, stateManagement, status: String? }
    public struct Evaluation: Sendable { let person: String; let year: Int; let rating: String? }
    public struct Training: Sendable { let person, field: String; let start, end: String? }
    var persons: [String: Person] = [:]
    var evaluations: [Evaluation] = []
    var trainings: [Training] = []
    /// The register rows each review item still waiting for the district names
    /// (`ConflictRecord.namedRows`): a figure resting on any of them says so.
    var openItems: [Set<String>] = []
    /// The active assignments of one date as a store counted them (`SeatTally`), read in
    /// place of the assignments and positions for the staffing figures of that date.
    public private(set) var seatTally: SeatTally?

    /// From the rows of each table read with `columns`, the review items still open, and the
    /// tally of a date a store counted.
    public init(tables: [String: [[Value]]], openItems: [ConflictRecord] = [], seatTally: SeatTally? = nil) {
        self.openItems = openItems.filter { $0.state == .open }.map(\.namedRows)
        self.seatTally = seatTally
        func text(_ row: [Value], _ index: Int) -> String? {
            guard index < row.count, let text = row[index].textValue, !text.isEmpty else { return nil }
            return text
        }
        units = (tables["units"] ?? []).compactMap { row in
            guard let id = text(row, 0) else { return nil }
            return Unit(id: id, code: text(row, 1) ?? "", name: text(row, 2) ?? "", kind: text(row, 3) ?? "", parent: text(row, 4),
                        from: text(row, 5), to: text(row, 6), successor: text(row, 7))
        }
        lineage = UnitLineage(units)
        for row in tables["titles"] ?? [] {
            if let id = text(row, 0) { titles[id] = Title(id: id, code: text(row, 1) ?? "", category: text(row, 2) ?? "") }
        }
        for row in tables["positions"] ?? [] {
            if let id = text(row, 0), let unit = text(row, 1), let title = text(row, 2) { positions[id] = Position(id: id, unit: unit, title: title) }
        }
        assignments = (tables["assignments"] ?? []).compactMap { row in
            guard let id = text(row, 0), let person = text(row, 1), let position = text(row, 2) else { return nil }
            return Assignment(id: id, person: person, position: position, start: text(row, 3), end: text(row, 4))
        }
        for row in tables["persons"] ?? [] {
            if let id = text(row, 0) {
                persons[id] = Person(degree: text(row, 1), politicalTheory: text(row, 2), stateManagement: text(row, 3), status: text(row, 4))
            }
        }
        evaluations = (tables["evaluations"] ?? []).compactMap { row in
            guard let person = text(row, 0), let year = row.count > 1 ? row[1].integerValue : nil else { return nil }
            return Evaluation(person: person, year: Int(year), rating: text(row, 2) ?? text(row, 3))
        }
        trainings = (tables["trainings"] ?? []).compactMap { row in
            guard let person = text(row, 0) else { return nil }
            return Training(person: person, field: text(row, 1) ?? "other", start: text(row, 2), end: text(row, 3))
        }
        quotas = (tables["quotas"] ?? []).compactMap { row in
            guard let unit = text(row, 0), let category = text(row, 1), let max = row.count > 2 ? row[2].integerValue : nil else { return nil }
            return Quota(unit: unit, category: category, max: Int(max), basis: text(row, 3), from: text(row, 4), to: text(row, 5))
        }
    }

    /// The ids the open review items name, by table.
    public var namedByOpenItems: SeatTally.Named { SeatTally.Named(openItems) }

    /// The seat tally of `day`: the store's, when it counted that date, else counted here
    /// from the assignments and positions read.
    func seatTally(on day: String) -> SeatTally {
        if let seatTally, seatTally.day == day { return seatTally }
        var builder = SeatTally.Builder(day: day, named: namedByOpenItems, positions: positions.count)
        for position in positions.values { builder.position(id: position.id, unit: position.unit, title: position.title) }
        for assignment in assignments {
            builder.assignment(id: assignment.id, person: assignment.person, position: assignment.position, start: assignment.start, end: assignment.end)
        }
        return builder.tally()
    }

    /// How many open review items name any of `rows` (`table/row`).
    func openItems(naming rows: Set<String>) -> Int {
        openItems.filter { !$0.isDisjoint(with: rows) }.count
    }

}

/// The figures district staff read off the register (DOMAIN.md), computed once from
/// `RegisterRows` whichever store they came from, as of any date.
public enum RegisterReports {
    static let communeKinds = UnitLineage.communeKinds
    static let hamletKinds = UnitLineage.hamletKinds

    /// One commune's (or, with code "*", the total's) head-count of one quota category.
    public struct Staffing: Codable, Sendable, Equatable {
        public let communeCode: String
        public let commune: String
        public let category: String
        public let categoryVi: String
        /// People holding at least one title of the category on the date (a person counts once).
        public let people: Int
        /// The quota in force on the date, and its legal basis; nil where none is recorded.
        public let quota: Int?
        public let legalBasis: String?
        /// Active assignments the count rests on.
        public let assignments: Int
        /// What the quota is set in ("people", or "posts" for hamlet-level titles: up to three
        /// posts a hamlet, one person may fill two), and how many of it are filled.
        public let measure: String
        public let filled: Int
        /// Review items still open that name a record the line rests on (a contested seat, a
        /// person maybe recorded twice, a quota or a holding item): until they are decided the
        /// figure may change.
        public let openItems: Int

        enum CodingKeys: String, CodingKey {
            case communeCode = "commune_code", commune, category, categoryVi = "category_vi", people, quota
            case legalBasis = "legal_basis", assignments, measure, filled, openItems = "open_items"
        }
    }

    /// Which units a report covers on `day`: the communes in force (or the one coded `unit`),
    /// each with the hamlets in force that were under it that day (`UnitLineage`).
    static func scope(_ rows: RegisterRows, on day: String, unit: String?) -> [(commune: RegisterRows.Unit, hamlets: [RegisterRows.Unit])] {
        let inForce = rows.units.filter { $0.inForce(on: day) }
        let communes = inForce.filter { communeKinds.contains($0.kind) && (unit == nil || $0.code == unit) }.sorted { $0.code < $1.code }
        var hamlets: [String: [RegisterRows.Unit]] = [:]
        for hamlet in inForce where hamletKinds.contains(hamlet.kind) && !rows.lineage.isFormerPlace(hamlet.id) {
            if let commune = rows.lineage.place(of: hamlet.id, on: day)?.commune { hamlets[commune, default: []].append(hamlet) }
        }
        return communes.map { ($0, (hamlets[$0.id] ?? []).sorted { $0.code < $1.code }) }
    }

    /// An assignment active on a date, its seat and title, and where the seat counts that day:
    /// its hamlet, or the commune-level unit in force (`UnitLineage.place`).
    typealias Active = (assignment: RegisterRows.Assignment, position: RegisterRows.Position, title: RegisterRows.Title, unit: String)

    /// Assignments active on `day`, with their position, title and where they count.
    static func active(_ rows: RegisterRows, on day: String) -> [Active] {
        rows.assignments.compactMap { assignment in
            guard SeatTally.isActive(start: assignment.start, end: assignment.end, on: day),
                let position = rows.positions[assignment.position], let title = rows.titles[position.title],
                let place = rows.lineage.place(of: position.unit, on: day)
            else { return nil }
            return (assignment, position, title, place.hamlet ?? place.commune)
        }
    }

    /// Staffing against quotas by quota category, per commune in scope and in total, from the
    /// seat tally of the day (`SeatTally`): the counted assignments add up, the ones kept
    /// whole are counted person by person.
    public static func staffing(_ rows: RegisterRows, asOf day: String, unit: String? = nil) -> [Staffing] {
        let scope = scope(rows, on: day, unit: unit)
        let tally = rows.seatTally(on: day)
        // Where each seat counts that day (its hamlet, or the commune-level unit in force),
        // and its title's category; seats counting nowhere are left out.
        struct Line: Hashable { let unit, category: String }
        var placed: [String: (commune: String, hamlet: String?)?] = [:]
        func line(of seat: SeatTally.Seat) -> Line? {
            guard let category = rows.titles[seat.title]?.category else { return nil }
            let place: (commune: String, hamlet: String?)?
            if let known = placed[seat.unit] {
                place = known
            } else {
                place = rows.lineage.place(of: seat.unit, on: day)
                placed[seat.unit] = place
            }
            return place.map { Line(unit: $0.hamlet ?? $0.commune, category: category) }
        }
        var counted: [Line: Int] = [:]
        for (seat, count) in tally.counts {
            if let line = line(of: seat) { counted[line, default: 0] += count }
        }
        var whole: [Line: [SeatTally.Holding]] = [:]
        for holding in tally.holdings {
            if let line = line(of: holding.seat) { whole[line, default: []].append(holding) }
        }
        var lines: [Staffing] = []
        var totals: [String: (people: Int, quota: Int?, assignments: Int, rows: Set<String>)] = [:]
        let quotas = Dictionary(grouping: rows.quotas, by: \.unit)
        let categories = HoldingCheck.quotaCategories.sorted { $0.key < $1.key }
        // The rows a line rests on matter only to say which open review items touch it; the
        // tally keeps whole every assignment such an item names.
        let naming = !rows.openItems.isEmpty
        for (commune, hamlets) in scope {
            for (category, titleCategories) in categories {
                // Hamlet-level staff are counted in the commune's hamlets; the others in the commune itself.
                let units = category == "nonspecialised_hamlet" ? hamlets.map(\.id) : [commune.id]
                var sum = 0
                var holdings: [SeatTally.Holding] = []
                for unit in units {
                    for titleCategory in titleCategories {
                        let line = Line(unit: unit, category: titleCategory)
                        sum += counted[line] ?? 0
                        holdings += whole[line] ?? []
                    }
                }
                let quota = quotas[commune.id]?.first {
                    $0.category == category && UnitLineage.inForce(from: $0.from, to: $0.to, on: day)
                }
                let people = sum + Set(holdings.map(\.person)).count
                let assignments = sum + holdings.count
                let measure = category == "nonspecialised_hamlet" ? "posts" : "people"
                let rested = naming ? Self.rows(of: holdings).union(units.map { "units/\($0)" }) : []
                lines.append(Staffing(communeCode: commune.code, commune: commune.name, category: category,
                                      categoryVi: RegisterLabels.value(category, of: "category") ?? category, people: people,
                                      quota: quota?.max, legalBasis: quota?.basis, assignments: assignments, measure: measure,
                                      filled: measure == "posts" ? assignments : people, openItems: rows.openItems(naming: rested)))
                var total = totals[category] ?? (0, nil, 0, [])
                total.people += people
                total.assignments += assignments
                if naming { total.rows.formUnion(rested) }
                if let max = quota?.max { total.quota = (total.quota ?? 0) + max }
                totals[category] = total
            }
        }
        for (category, total) in totals.sorted(by: { $0.key < $1.key }) {
            lines.append(Staffing(communeCode: "*", commune: "Tổng cộng", category: category,
                                  categoryVi: RegisterLabels.value(category, of: "category") ?? category, people: total.people,
                                  quota: total.quota, legalBasis: nil, assignments: total.assignments,
                                  measure: category == "nonspecialised_hamlet" ? "posts" : "people",
                                  filled: category == "nonspecialised_hamlet" ? total.assignments : total.people, openItems: rows.openItems(naming: total.rows)))
        }
        return lines
    }

    /// Staffing lines as CSV (a header line, then a line each), as `synchub report` and the
    /// desk's download give them.
    public static func csv(_ lines: [Staffing]) -> String {
        var text = "commune_code,commune,category,people,quota,legal_basis,assignments,measure,filled,open_items\n"
        for line in lines {
            let fields = [line.communeCode, line.commune, line.category, String(line.people), line.quota.map(String.init) ?? "",
                          line.legalBasis ?? "", String(line.assignments), line.measure, String(line.filled), String(line.openItems)]
            text += fields.map(csvField).joined(separator: ",") + "\n"
        }
        return text
    }

    /// One CSV field, quoted when it holds a comma, a quote or a line break.
    public static func csvField(_ value: String) -> String {
        value.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
    }

    /// The rows assignments kept whole rest on: each assignment, its person and its seat.
    static func rows(of holdings: [SeatTally.Holding]) -> Set<String> {
        rows(holdings.lazy.map { ($0.assignment, $0.person, $0.position) })
    }

    /// The rows active assignments rest on.
    static func rows(of active: [Active]) -> Set<String> {
        rows(active.lazy.map { ($0.assignment.id, $0.assignment.person, $0.position.id) })
    }

    /// `assignments/ID`, `persons/ID` and `positions/ID` of each (assignment, person, seat).
    private static func rows(_ held: some Sequence<(String, String, String)>) -> Set<String> {
        var rows: Set<String> = []
        for (assignment, person, position) in held {
            rows.insert("assignments/\(assignment)")
            rows.insert("persons/\(person)")
            rows.insert("positions/\(position)")
        }
        return rows
    }

    /// Concurrent holding (kiêm nhiệm) on a date: the pairs of titles people hold together,
    /// and the counts the articles use.
    public struct Concurrent: Codable, Sendable, Equatable {
        public struct Pair: Codable, Sendable, Equatable {
            public let titles: [String]
            public let people: Int
        }
        public let pairs: [Pair]
        public let communes: Int
        /// Communes where one person is party secretary and People's Committee chair; and
        /// People's Council chair.
        public let secretaryChairsCommittee: Int
        public let secretaryChairsCouncil: Int
        public let hamlets: Int
        /// Hamlets where the party cell's secretary is also the hamlet head; also the head of
        /// the Front's work committee.
        public let cellSecretaryIsHamletHead: Int
        public let cellSecretaryHeadsFront: Int
        /// Review items still open that name an assignment, person, seat or unit counted here.
        public let openItems: Int

        enum CodingKeys: String, CodingKey {
            case pairs, communes, hamlets, openItems = "open_items"
            case secretaryChairsCommittee = "secretary_chairs_committee", secretaryChairsCouncil = "secretary_chairs_council"
            case cellSecretaryIsHamletHead = "cell_secretary_is_hamlet_head", cellSecretaryHeadsFront = "cell_secretary_heads_front"
        }
    }

    public static func concurrent(_ rows: RegisterRows, asOf day: String, unit: String? = nil) -> Concurrent {
        let scope = scope(rows, on: day, unit: unit)
        let covered = Set(scope.flatMap { [$0.commune.id] + $0.hamlets.map(\.id) })
        let active = active(rows, on: day).filter { covered.contains($0.unit) }
        // Titles per person per unit: a pair is held together in one unit.
        var held: [String: [String: Set<String>]] = [:]
        for entry in active { held[entry.unit, default: [:]][entry.assignment.person, default: []].insert(entry.title.code) }
        var pairs: [[String]: Set<String>] = [:]
        for (_, people) in held {
            for (person, titles) in people where titles.count > 1 {
                let sorted = titles.sorted()
                for (index, first) in sorted.enumerated() {
                    for second in sorted.dropFirst(index + 1) { pairs[[first, second], default: []].insert(person) }
                }
            }
        }
        func units(_ ids: [String], holding first: String, and second: String) -> Int {
            ids.filter { (held[$0] ?? [:]).values.contains { $0.contains(first) && $0.contains(second) } }.count
        }
        let communeIDs = scope.map(\.commune.id)
        let hamletIDs = scope.flatMap(\.hamlets).map(\.id)
        return Concurrent(
            pairs: pairs.map { Concurrent.Pair(titles: $0.key, people: $0.value.count) }.sorted {
                $0.people != $1.people ? $0.people > $1.people : $0.titles.joined(separator: "+") < $1.titles.joined(separator: "+")
            },
            communes: communeIDs.count,
            secretaryChairsCommittee: units(communeIDs, holding: "bi_thu_dang_uy", and: "chu_tich_ubnd"),
            secretaryChairsCouncil: units(communeIDs, holding: "bi_thu_dang_uy", and: "chu_tich_hdnd"),
            hamlets: hamletIDs.count,
            cellSecretaryIsHamletHead: units(hamletIDs, holding: "bi_thu_chi_bo", and: "truong_thon"),
            cellSecretaryHeadsFront: units(hamletIDs, holding: "bi_thu_chi_bo", and: "truong_ban_cong_tac_mat_tran"),
            openItems: rows.openItems.isEmpty ? 0 : rows.openItems(naming: Self.rows(of: active).union(covered.map { "units/\($0)" })))
    }

    /// Where a person works on a date, people in scope only: at the commune when any title
    /// they hold is a commune one (cadre, civil servant, non-specialised commune), else in a
    /// hamlet; and whether any title they hold is a cadre's or a civil servant's.
    struct Placement: Equatable {
        var level: String
        var cadre: Bool
    }

    static func placements(_ rows: RegisterRows, on day: String, unit: String?) -> [String: Placement] {
        let scope = scope(rows, on: day, unit: unit)
        let communes = Set(scope.map(\.commune.id))
        let hamlets = Set(scope.flatMap(\.hamlets).map(\.id))
        var placed: [String: Placement] = [:]
        for entry in active(rows, on: day) {
            let unit = entry.unit, hamletTitle = entry.title.category == "nonspecialised_hamlet"
            let atCommune = communes.contains(unit) && !hamletTitle
            guard atCommune || hamlets.contains(unit) || communes.contains(unit) else { continue }
            var placement = placed[entry.assignment.person] ?? Placement(level: "hamlet", cadre: false)
            if atCommune { placement.level = "commune" }
            if entry.title.category == "cadre" || entry.title.category == "civil_servant" { placement.cadre = true }
            placed[entry.assignment.person] = placement
        }
        return placed.filter { rows.persons[$0.key]?.status != "merged" }
    }

    /// The groups qualifications, ratings and trainings are given for, a line each: everyone
    /// at commune level, everyone in hamlets, the commune's cadres and civil servants, the
    /// non-specialised at both levels, and everyone (the articles' figures are read off these).
    public static let groups: [(level: String, group: String)] = [
        ("commune", "all"), ("hamlet", "all"), ("commune", "cadre_civil_servant"), ("all", "nonspecialised"), ("all", "all"),
    ]

    /// The people of a line (`groups`).
    static func members(_ placed: [String: Placement], level: String, group: String) -> [String] {
        placed.filter { entry in
            (level == "all" || entry.value.level == level)
                && (group == "all" || (group == "cadre_civil_servant") == entry.value.cadre)
        }.map(\.key).sorted()
    }

    /// What a line counts, in Vietnamese and in English.
    public static func groupLabel(level: String, group: String) -> (vi: String, en: String) {
        switch (level, group) {
        case ("commune", "all"): ("Cấp xã", "commune level")
        case ("hamlet", "all"): ("Thôn, tổ dân phố", "hamlets and residential groups")
        case ("commune", "cadre_civil_servant"): ("Cán bộ, công chức cấp xã", "commune cadres and civil servants")
        case ("all", "nonspecialised"): ("Không chuyên trách ở xã, thôn, tổ dân phố", "non-specialised, commune and hamlet")
        case ("all", "all"): ("Tổng cộng (xã và thôn, tổ dân phố)", "everyone, commune and hamlet")
        default: ("\(level) \(group)", "\(level) \(group)")
        }
    }

    /// Counts of a coded value among people, with shares to two decimals.
    public struct Breakdown: Codable, Sendable, Equatable {
        public let people: Int
        public let counts: [String: Int]
        /// Percentages of `people`, to two decimals.
        public let shares: [String: Double]

        init(_ values: [String]) {
            let total = values.count
            var counts: [String: Int] = [:]
            for value in values { counts[value, default: 0] += 1 }
            people = total
            self.counts = counts
            shares = counts.mapValues { total == 0 ? 0 : (Double($0) * 10_000 / Double(total)).rounded() / 100 }
        }
    }

    /// Qualifications of the people at work on a date, a line per group (`groups`).
    public struct Qualifications: Codable, Sendable, Equatable {
        public let level: String
        public let group: String
        public let degree: Breakdown
        /// University or above (đại học trở lên), and secondary-vocational or above (trung cấp trở lên), in percent.
        public let universityOrAbove: Double
        public let intermediateOrAbove: Double
        public let politicalTheory: Breakdown
        /// Trained in political theory at any level, and in state management, in percent.
        public let politicalTheoryTrained: Double
        public let stateManagementTrained: Double
        /// Review items still open that name a person counted here.
        public let openItems: Int

        enum CodingKeys: String, CodingKey {
            case level, group, degree, politicalTheory = "political_theory", universityOrAbove = "university_or_above"
            case politicalTheoryTrained = "political_theory_trained"
            case intermediateOrAbove = "intermediate_or_above", stateManagementTrained = "state_management_trained"
            case openItems = "open_items"
        }
    }

    public static func qualifications(_ rows: RegisterRows, asOf day: String, unit: String? = nil) -> [Qualifications] {
        let placed = placements(rows, on: day, unit: unit)
        func percent(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : (Double(part) * 10_000 / Double(whole)).rounded() / 100 }
        return groups.map { level, group in
            let ids = members(placed, level: level, group: group)
            let people = ids.compactMap { rows.persons[$0] }
            let degrees = people.map { $0.degree ?? "unknown" }
            let university = degrees.filter { ["university", "master", "doctor"].contains($0) }.count
            let intermediate = degrees.filter { ["intermediate", "college", "university", "master", "doctor"].contains($0) }.count
            let theory = people.filter { !["none", "unknown"].contains($0.politicalTheory ?? "unknown") }.count
            let managed = people.filter { ($0.stateManagement ?? "none") != "none" }.count
            return Qualifications(level: level, group: group, degree: Breakdown(degrees), universityOrAbove: percent(university, people.count),
                                  intermediateOrAbove: percent(intermediate, people.count),
                                  politicalTheory: Breakdown(people.map { $0.politicalTheory ?? "unknown" }),
                                  politicalTheoryTrained: percent(theory, people.count),
                                  stateManagementTrained: percent(managed, people.count),
                                  openItems: rows.openItems(naming: Set(ids.map { "persons/\($0)" })))
        }
    }

    /// Ratings of a year, a line per group (`groups`): the four ratings, and meeting
    /// requirements or better.
    public struct Ratings: Codable, Sendable, Equatable {
        public let level: String
        public let group: String
        public let year: Int
        public let ratings: Breakdown
        public let meetingOrBetter: Int
        public let rated: Int
        /// Review items still open that name a person counted here.
        public let openItems: Int

        enum CodingKeys: String, CodingKey { case level, group, year, ratings, meetingOrBetter = "meeting_or_better", rated, openItems = "open_items" }
    }

    /// The people at work on the year's last day, rated that year (the decided rating, else the proposed one).
    public static func ratings(_ rows: RegisterRows, year: Int, unit: String? = nil) -> [Ratings] {
        let placed = placements(rows, on: "\(year)-12-31", unit: unit)
        let ofYear = Dictionary(rows.evaluations.filter { $0.year == year }.map { ($0.person, $0.rating ?? "unrated") }, uniquingKeysWith: { $1 })
        return groups.map { level, group in
            let ids = members(placed, level: level, group: group)
            let rated = ids.compactMap { ofYear[$0] }
            return Ratings(level: level, group: group, year: year, ratings: Breakdown(rated),
                           meetingOrBetter: rated.filter { ["excellent", "good", "completed"].contains($0) }.count, rated: rated.count,
                           openItems: rows.openItems(naming: Set(ids.filter { ofYear[$0] != nil }.map { "persons/\($0)" })))
        }
    }

    /// Trainings since a date: attendances (a training row each) and people, by field, for
    /// the people at work on `day`, a line per group (`groups`).
    public struct Trainings: Codable, Sendable, Equatable {
        public let level: String
        public let group: String
        public let since: String
        public let attendances: Int
        public let people: Int
        public let byField: [String: Int]
        /// Review items still open that name a person counted here.
        public let openItems: Int

        enum CodingKeys: String, CodingKey { case level, group, since, attendances, people, byField = "by_field", openItems = "open_items" }
    }

    public static func trainings(_ rows: RegisterRows, since: String, asOf day: String, unit: String? = nil) -> [Trainings] {
        let placed = placements(rows, on: day, unit: unit)
        let byPerson = Dictionary(grouping: rows.trainings.filter { ($0.end ?? $0.start ?? "") >= since }, by: \.person)
        return groups.map { level, group in
            let attended = members(placed, level: level, group: group).flatMap { byPerson[$0] ?? [] }
            var byField: [String: Int] = [:]
            for training in attended { byField[training.field, default: 0] += 1 }
            let people = Set(attended.map(\.person))
            return Trainings(level: level, group: group, since: since, attendances: attended.count, people: people.count, byField: byField,
                             openItems: rows.openItems(naming: Set(people.map { "persons/\($0)" })))
        }
    }
}
