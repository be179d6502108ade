import Foundation
import HubCore
import MergeEngine
import Register
import SyncCore
import SyncProtocol

/// What the desk's pages read through the hub: communes and names of items, filtered pages
/// of open items, a person's whole record.
extension HubStore {
    /// The commune (its code) each item belongs to: the unit's own for an item on a unit, the
    /// `commune_id` of the row it names otherwise, or of the commune that keeps a duplicate's
    /// records. Nil where the row is gone.
    func reviewCommunes(for conflicts: [ConflictView]) async throws -> [String: String] {
        try await storage.read { store in
            var codes: [String: String] = [:]
            var units: [String: String] = [:]
            for item in conflicts {
                if item.table == "units" {
                    units[item.id] = item.row
                } else if let commune = try await store.values(table: item.table, row: item.row, columns: ["commune_id"])["commune_id"]?.textValue {
                    units[item.id] = commune
                } else if let kept = item.sides.compactMap(\.commune).first {
                    // A duplicate's records name the unit (units.id) that keeps them.
                    units[item.id] = kept
                }
            }
            var unitCodes: [String: String] = [:]
            for unit in Set(units.values) {
                unitCodes[unit] = try await store.values(table: "units", row: unit, columns: ["code"])["code"]?.textValue
            }
            for (item, unit) in units { codes[item] = unitCodes[unit] ?? unit }
            return codes
        }
    }

    /// A page of the open items that pass `filter`, in id order after `after`: the items are
    /// read a store page at a time and filtered here, so a filter costs no store of its own.
    /// Returns the page and, when more may follow, the id to continue after.
    package func reviewPage(_ filter: ReviewFilter, after: String?, size: Int, for caller: Caller) async throws -> (items: [ConflictView], next: String?) {
        guard !filter.isEmpty else {
            let items = try await conflicts(state: "open", after: after, limit: size, for: caller)
            return (items, items.count == size ? items.last?.id : nil)
        }
        var found: [ConflictView] = []
        var cursor = after
        while true {
            let page = try await conflicts(state: "open", after: cursor, limit: Self.conflictPageLimit, for: caller)
            let communes = filter.commune.isEmpty ? [:] : try await reviewCommunes(for: page)
            let names = filter.text.isEmpty ? ReviewPage.Names() : try await reviewNames(for: page)
            for item in page where filter.admits(item, communeCode: communes[item.id], names: names) {
                found.append(item)
                if found.count == size { return (found, item.id) }
            }
            guard page.count == Self.conflictPageLimit, let last = page.last?.id else { return (found, nil) }
            cursor = last
        }
    }

    /// One person's record with their assignments, ratings and trainings, as a reviewer
    /// reads them beside another record of the same citizen id.
    nonisolated(nonsending) static func personRecord(_ person: String, in store: any HubTransaction) async throws -> ReviewPage.PersonRecord {
        var record = ReviewPage.PersonRecord()
        let columns = ["phone", "gender", "ethnicity", "degree", "political_theory", "status", "party_member"]
        let values = try await store.values(table: "persons", row: person, columns: columns)
        for column in columns {
            guard let value = values[column], value != .null else { continue }
            let code = value.textValue ?? value.description
            let shown = column == "party_member" ? (code == "1" ? "có" : "không") : (RegisterLabels.value(code, of: column) ?? code)
            record.details.append((RegisterLabels.column(column), shown))
        }
        for id in try await store.rowIDs(table: "assignments", where: "person_id", is: person, limit: 20) {
            let row = try await store.values(table: "assignments", row: id, columns: ["position_id", "start_date", "end_date", "decision_no"])
            var title = row["position_id"]?.textValue ?? "?"
            if let position = row["position_id"]?.textValue,
                let titleID = try await store.values(table: "positions", row: position, columns: ["title_id"])["title_id"]?.textValue {
                let named = try await store.values(table: "titles", row: titleID, columns: ["name_vi", "code"])
                title = named["name_vi"]?.textValue ?? named["code"]?.textValue ?? title
            }
            let until = row["end_date"]?.textValue.map { " đến \(ReviewPage.day($0))" } ?? " (đang giữ / active)"
            record.assignments.append("\(title): từ \(ReviewPage.day(row["start_date"]?.textValue))\(until)"
                + (row["decision_no"]?.textValue.map { ", QĐ \($0)" } ?? ""))
        }
        for id in try await store.rowIDs(table: "evaluations", where: "person_id", is: person, limit: 20) {
            let row = try await store.values(table: "evaluations", row: id, columns: ["year", "rating", "proposed_rating"])
            let rating = (row["rating"]?.textValue ?? row["proposed_rating"]?.textValue).map { RegisterLabels.value($0, of: "rating") ?? $0 } ?? "?"
            record.ratings.append("\(row["year"]?.description ?? "?"): \(rating)")
        }
        for id in try await store.rowIDs(table: "trainings", where: "person_id", is: person, limit: 20) {
            let row = try await store.values(table: "trainings", row: id, columns: ["field", "course", "end_date"])
            let field = row["field"]?.textValue.map { RegisterLabels.value($0, of: "field") ?? $0 } ?? "?"
            record.trainings.append("\(field): \(row["course"]?.textValue ?? "?")" + (row["end_date"]?.textValue.map { " (\(ReviewPage.day($0)))" } ?? ""))
        }
        return record
    }

    /// Names to show reviewers instead of ids.
    package func reviewNames(for conflicts: [ConflictView]) async throws -> ReviewPage.Names {
        try await storage.read { store in
            var names = ReviewPage.Names()
            for person in Set(conflicts.flatMap { $0.sides.compactMap(\.person) }) {
                names.people[person] = try await store.personName(person)
            }
            for origin in Set(conflicts.flatMap { $0.sides.compactMap(\.origin) }) {
                names.units[origin] = try await store.unitName(code: origin)
            }
            for item in conflicts where item.kind == "field" {
                // Whose record: the person itself, or the person a record of theirs names.
                let person = item.table == "persons"
                    ? item.row : try await store.values(table: item.table, row: item.row, columns: ["person_id"])["person_id"]?.textValue
                if let person, let name = try await store.personName(person) { names.subjects[item.id] = name }
                names.histories[item.id] = try await store.rowHistory(table: item.table, row: item.row, limit: 50).filter {
                    if case .set(let column, _) = $0.operation { return column == item.column }
                    return true
                }.prefix(10).map { $0 }
            }
            for person in Set(conflicts.filter { $0.kind == "duplicate" }.flatMap { $0.sides.compactMap(\.person) }) {
                names.records[person] = try await Self.personRecord(person, in: store)
            }
            for unit in Set(conflicts.filter { $0.kind == "duplicate" }.flatMap { $0.sides.compactMap(\.commune) }) {
                let named = try await store.values(table: "units", row: unit, columns: ["name", "code"])
                if let name = named["name"]?.textValue { names.unitsByID[unit] = "\(name) (\(named["code"]?.textValue ?? unit))" }
            }
            for code in Set(conflicts.filter { $0.kind == "holding" || $0.kind == "quota" }.flatMap { $0.sides.compactMap(\.title) }) {
                if let id = try await store.rowIDs(table: "titles", where: "code", is: code, limit: 1).first,
                    let name = try await store.values(table: "titles", row: id, columns: ["name_vi"])["name_vi"]?.textValue {
                    names.titles[code] = name
                }
            }
            for item in conflicts where item.kind == "seat" || item.kind == "quota" {
                if item.kind == "quota" {
                    let unit = try await store.values(table: "units", row: item.row, columns: ["name", "code"])
                    let category = String(item.column.dropFirst(HoldingCheck.quotaPrefix.count))
                    names.headings[item.id] = "\(unit["name"]?.textValue ?? item.row) (\(unit["code"]?.textValue ?? "?")): vượt định biên "
                        + "\(RegisterLabels.value(category, of: "category") ?? category) (over quota)"
                } else {
                    let seat = try await store.values(table: "positions", row: item.row, columns: ["title_id", "commune_id", "seat_no"])
                    var title = seat["title_id"]?.textValue ?? "?"
                    if let id = seat["title_id"]?.textValue, let named = try await store.values(table: "titles", row: id, columns: ["name_vi"])["name_vi"]?.textValue {
                        title = named
                    }
                    var commune: String?
                    if let unit = seat["commune_id"]?.textValue {
                        commune = try await store.values(table: "units", row: unit, columns: ["name"])["name"]?.textValue
                    }
                    names.headings[item.id] = "Vị trí \(title)\(commune.map { " — \($0)" } ?? "") (\(item.row)): "
                        + "nhiều người giữ hơn số chỗ (seat held by more people than it has places)"
                }
            }
            for change in names.histories.values.joined() where names.units[change.dot.replica.rawValue] == nil {
                names.units[change.dot.replica.rawValue] = try await store.unitName(code: change.dot.replica.rawValue)
            }
            return names
        }
    }
}
