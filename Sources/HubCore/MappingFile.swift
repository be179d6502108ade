import Foundation

/// The national mapping of old communes to the units after a reorganisation
/// (`commune_mapping_2025.csv`): one line per old unit and successor, with `relation`
/// (whole or split) and `is_default_target` (the main successor of a split).
public enum MappingFile {
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// One line: a succession, with the old unit's province and name.
    public struct Line: Sendable, Equatable {
        public let oldProvince: String
        public let oldName: String
        public let succession: Succession
    }

    /// The successions the file lists, in file order.
    public static func successions(at path: String) throws -> [Succession] {
        try lines(at: path).map(\.succession)
    }

    /// The lines of the file, in file order.
    public static func lines(at path: String) throws -> [Line] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Problem(description: "\(path) cannot be read (\(error.localizedDescription)): give the mapping file's path")
        }
        var lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first else { throw Problem(description: "\(path) is empty") }
        lines.removeFirst()
        let wanted = [
            "old_commune_code", "new_commune_code", "new_commune_name", "new_commune_type", "is_default_target",
            "old_province_code", "old_commune_name",
        ]
        let columns = try wanted.map { name in
            guard let index = header.firstIndex(of: name) else {
                throw Problem(description: "\(path) has no column '\(name)': it must be a mapping file like commune_mapping_2025.csv "
                    + "(columns \(wanted.joined(separator: ", ")))")
            }
            return index
        }
        return try lines.enumerated().map { number, fields in
            guard fields.count == header.count else {
                throw Problem(description: "\(path), line \(number + 2): \(fields.count) fields where the header has \(header.count)")
            }
            return Line(
                oldProvince: fields[columns[5]], oldName: fields[columns[6]],
                succession: Succession(
                    oldCode: fields[columns[0]], newCode: fields[columns[1]], newName: fields[columns[2]],
                    newKind: kind(fields[columns[3]]), isDefault: fields[columns[4]] == "1"))
        }
    }

    /// units.kind for the mapping's unit types: Phường is a ward; Xã and Đặc khu (special
    /// zone, commune-level) are communes.
    static func kind(_ type: String) -> String {
        type == "Phường" ? "ward" : "commune"
    }
}
