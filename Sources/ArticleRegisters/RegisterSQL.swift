import Foundation

/// Rows of the register, table by table, written out as the plain SQL INSERT statements
/// district staff type at the hub (the same text runs on SQLite and on PostgreSQL).
struct RegisterSQL {
    enum Cell: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
        case text(String)
        case integer(Int)
        case null

        init(stringLiteral value: String) { self = .text(value) }
        init(integerLiteral value: Int) { self = .integer(value) }
        init(nilLiteral: ()) { self = .null }
        init(_ value: String?) { self = value.map(Cell.text) ?? .null }

        var sql: String {
            switch self {
            case .text(let text): "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
            case .integer(let number): String(number)
            case .null: "NULL"
            }
        }
    }

    private var order: [String] = []
    private var columns: [String: [String]] = [:]
    private var rows: [String: [[Cell]]] = [:]

    /// Adds a row to `table`; the first row of a table names its columns.
    mutating func add(_ table: String, _ values: KeyValuePairs<String, Cell>) {
        if columns[table] == nil {
            order.append(table)
            columns[table] = values.map(\.key)
        }
        precondition(columns[table] == values.map(\.key), "every row of \(table) names the same columns in the same order")
        rows[table, default: []].append(values.map(\.value))
    }

    func count(_ table: String) -> Int { rows[table]?.count ?? 0 }

    /// The statements, tables in the order first added, a few hundred rows a statement.
    var text: String {
        var out = ""
        for table in order {
            let rows = rows[table] ?? []
            for start in stride(from: 0, to: rows.count, by: 250) {
                out += "INSERT INTO \(table)(\(columns[table]!.joined(separator: ", "))) VALUES\n"
                out += rows[start..<min(start + 250, rows.count)].map { "  (" + $0.map(\.sql).joined(separator: ", ") + ")" }
                    .joined(separator: ",\n") + ";\n"
            }
        }
        return out
    }
}

/// Spreads exactly `count` of `total` items over the whole range (item `index` is chosen
/// when its place in a fixed permutation falls below `count`), so a share comes out exact
/// and the chosen items are not bunched in the first communes.
func chosen(_ index: Int, _ count: Int, of total: Int, stride: Int) -> Bool {
    precondition(gcd(stride, total) == 1, "the stride must be prime to the total to give a permutation")
    return (index * stride) % total < count
}

private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

/// Vietnamese full names, deterministic by number: family name, middle name, given name.
func fullName(_ number: Int, female: Bool) -> String {
    let families = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Lý", "Hồ", "Ngô", "Dương", "Chíu", "Tằng"]
    let middle = female ? ["Thị", "Thu", "Ngọc", "Thanh", "Minh"] : ["Văn", "Đức", "Quốc", "Minh", "Hữu"]
    let given = female ? ["Hoa", "Lan", "Mai", "Hằng", "Hương", "Thảo", "Nga", "Yến", "Dung", "Phương", "Linh"]
        : ["Hùng", "Dũng", "Tuấn", "Long", "Sơn", "Hải", "Thắng", "Quang", "Bình", "Cường", "Nam", "Toàn", "Kiên"]
    return "\(families[number % families.count]) \(middle[(number / 3) % middle.count]) \(given[(number / 7) % given.count])"
}
