import Register

/// Who held which title on a date, by the commune-level units in force that day: the
/// register's history read back, across mergers and splits. Units are effective-dated
/// (`effective_from`, `effective_to` = the last day in force) and keep their successor; a
/// seat stays in the unit it was created in, so a date before a reorganisation shows the old
/// units and who held what there, and a later date shows the same seats under the
/// successor. Hamlet seats are shown under the commune the hamlet was under that day: a
/// reorganisation keeps where a hamlet was before (`UnitLineage`).
public struct HoldersReport: Codable, Sendable, Equatable {
    public struct Holder: Codable, Sendable, Equatable {
        public let assignment: String
        public let personID: String
        public let person: String?
        public let title: String?
        public let seat: Int?
        /// The seat's own unit when it is not the commune itself (a hamlet, or a commune that
        /// has since merged into this one).
        public let seatUnit: String?
        public let kind: String?
        public let startDate: String?
        public let endDate: String?

        enum CodingKeys: String, CodingKey {
            case assignment, person, title, seat, kind
            case personID = "person_id", seatUnit = "seat_unit", startDate = "start_date", endDate = "end_date"
        }
    }

    public struct Unit: Codable, Sendable, Equatable {
        public let id: String
        public let code: String?
        public let name: String?
        public let kind: String?
        public let effectiveFrom: String?
        public let effectiveTo: String?
        public var holders: [Holder]

        enum CodingKeys: String, CodingKey {
            case id, code, name, kind, holders
            case effectiveFrom = "effective_from", effectiveTo = "effective_to"
        }
    }

    public let asOf: String
    public let units: [Unit]

    enum CodingKeys: String, CodingKey {
        case units
        case asOf = "as_of"
    }

    /// The report of the register in `database` on `date` (YYYY-MM-DD).
    public static func read(_ database: SQLiteDatabase, asOf date: String) throws -> HoldersReport {
        var units: [String: UnitLineage.Unit] = [:]
        try database.forEachRow("SELECT id, code, name, kind, parent_id, effective_from, effective_to, successor_id FROM units") { row in
            units[row[0].description] = UnitLineage.Unit(
                id: row[0].description, code: row[1].textValue ?? "", name: row[2].textValue ?? "", kind: row[3].textValue ?? "",
                parent: row[4].textValue, from: row[5].textValue, to: row[6].textValue, successor: row[7].textValue)
        }
        let lineage = UnitLineage(Array(units.values))
        /// The commune-level unit in force on `date` a seat of `unit` counts under: a hamlet's
        /// is the commune it was under that day (`UnitLineage`).
        func commune(of unit: String) -> String {
            var current = unit
            if let row = units[current], !row.isCommuneLevel, let parent = lineage.parent(ofHamlet: current, on: date) ?? row.parent {
                current = parent
            }
            var seen: Set<String> = [current]
            while let row = units[current], !row.inForce(on: date), let to = row.to, to < date, let next = row.successor,
                seen.insert(next).inserted
            {
                current = next
            }
            return current
        }
        var byUnit: [String: [Holder]] = [:]
        try database.forEachRow(
            """
            SELECT a.id, a.person_id, per.full_name, coalesce(t.name_vi, t.code, p.title_id), p.seat_no, p.unit_id, a.kind,
                   a.start_date, a.end_date
            FROM assignments a JOIN positions p ON p.id = a.position_id
            LEFT JOIN titles t ON t.id = p.title_id LEFT JOIN persons per ON per.id = a.person_id
            WHERE (a.start_date IS NULL OR a.start_date <= ?1) AND (a.end_date IS NULL OR a.end_date = '' OR a.end_date > ?1)
            ORDER BY a.start_date, a.id
            """, [.text(date)]
        ) { row in
            let seatUnit = row[5].textValue ?? ""
            let home = commune(of: seatUnit)
            let seatName = seatUnit == home ? nil : units[seatUnit].map { "\($0.name.isEmpty ? "?" : $0.name) (\($0.code.isEmpty ? "?" : $0.code))" } ?? seatUnit
            byUnit[home, default: []].append(Holder(
                assignment: row[0].description, personID: row[1].textValue ?? "", person: row[2].textValue, title: row[3].textValue,
                seat: row[4].integerValue.map(Int.init), seatUnit: seatName, kind: row[6].textValue,
                startDate: row[7].textValue, endDate: row[8].textValue))
        }
        let shown = Set(units.filter { $0.value.isCommuneLevel && $0.value.inForce(on: date) }.keys).union(byUnit.keys)
            .filter { !lineage.isFormerPlace($0) }
        let report = shown.map { id in
            let row = units[id]
            func given(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0 } }
            return Unit(
                id: id, code: given(row?.code), name: given(row?.name), kind: given(row?.kind), effectiveFrom: row?.from, effectiveTo: row?.to,
                holders: byUnit[id] ?? [])
        }.sorted { ($0.code ?? "", $0.id) < ($1.code ?? "", $1.id) }
        return HoldersReport(asOf: date, units: report)
    }
}
