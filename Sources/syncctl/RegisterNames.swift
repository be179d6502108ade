import Replica
import SyncCore

/// The names people know the register's rows by, read from the office's own file: a unit's
/// and a title's name, a person's full name, a seat as its title and unit. Each looked up once;
/// a row this office does not hold is shown by its id.
final class RegisterNames {
    let database: SQLiteDatabase
    private var known: [String: String?] = [:]

    init(_ database: SQLiteDatabase) { self.database = database }

    private func lookup(_ sql: String, _ id: String) -> String? {
        let key = sql + "\u{0}" + id
        if let name = known[key] { return name }
        let name = (try? database.scalar(sql, [.text(id)]))??.textValue
        known[key] = name
        return name
    }

    func unit(_ id: String) -> String { lookup("SELECT name FROM units WHERE id = ?", id) ?? id }
    func person(_ id: String) -> String { lookup("SELECT full_name FROM persons WHERE id = ?", id) ?? id }
    /// The office a replica id names: the unit of that official code (the district's hub
    /// included), or the id itself. A code the hub renumbered after a reuse is CODE-N.
    func office(_ replica: String) -> String {
        let code = replica.split(separator: "-").first.map(String.init) ?? replica
        return lookup("SELECT name FROM units WHERE code = ? ORDER BY effective_to IS NOT NULL LIMIT 1", code) ?? replica
    }

    /// A person's record, with the commune that keeps it (one person may be recorded twice).
    func personRecord(_ id: String) -> String {
        guard let name = lookup("SELECT full_name FROM persons WHERE id = ?", id) else { return id }
        return name + (lookup("SELECT commune_id FROM persons WHERE id = ?", id).map { " (" + unit($0) + ")" } ?? "")
    }

    /// The person a citizen id (CCCD) is recorded for here.
    func person(citizenID: String) -> String { lookup("SELECT full_name FROM persons WHERE citizen_id = ? ORDER BY id LIMIT 1", citizenID) ?? citizenID }
    func title(_ id: String) -> String { lookup("SELECT coalesce(name_vi, name_en, code) FROM titles WHERE id = ?", id) ?? id }

    /// A seat: "Chủ tịch UBND – Xã Quảng Tân".
    func seat(_ id: String) -> String {
        lookup("""
            SELECT coalesce(t.name_vi, t.name_en, t.code, p.title_id) || ' – ' || coalesce(u.name, p.unit_id)
            FROM positions p LEFT JOIN titles t ON t.id = p.title_id LEFT JOIN units u ON u.id = p.unit_id WHERE p.id = ?
            """, id) ?? id
    }

    /// An assignment: its holder and seat.
    func assignment(_ id: String) -> String {
        guard let person = lookup("SELECT person_id FROM assignments WHERE id = ?", id),
              let position = lookup("SELECT position_id FROM assignments WHERE id = ?", id) else { return id }
        return self.person(person) + " (" + seat(position) + ")"
    }

    /// Any row by what people call it: a person's records (ratings, trainings) by the person.
    func row(_ table: String, _ id: String) -> String {
        switch table {
        case "units": return unit(id)
        case "titles": return title(id)
        case "persons": return person(id)
        case "positions": return seat(id)
        case "assignments": return assignment(id)
        case "evaluations", "trainings":
            return lookup("SELECT person_id FROM \(table) WHERE id = ?", id).map { person($0) } ?? id
        default: return id
        }
    }

    /// The name of the row a column's value points at (a commune, a person, a title), if it
    /// is such a column and the row is here.
    func reference(_ value: String, in column: String) -> String? {
        switch column {
        case "commune_id", "unit_id", "parent_id", "successor_id": return lookup("SELECT name FROM units WHERE id = ?", value)
        case "person_id": return lookup("SELECT full_name FROM persons WHERE id = ?", value)
        case "title_id": return lookup("SELECT coalesce(name_vi, name_en, code) FROM titles WHERE id = ?", value)
        case "position_id": return seat(value) == value ? nil : seat(value)
        default: return nil
        }
    }
}
