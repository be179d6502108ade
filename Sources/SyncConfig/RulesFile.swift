import SyncCore
import TOMLKit

/// `rules.toml`: the district's conflict rules. `Config/rules.toml` documents every setting.
public enum RulesFile {
    public static func load(_ path: String) throws -> RuleSet {
        try RulesDocument.load(path).rules
    }

    public static func parse(_ text: String, file: String = RulesDocument.fileName) throws -> RuleSet {
        try RulesDocument.parse(text, file: file).rules
    }
}

public struct RulesDocument: SettingsDocument {
    public static let fileName = "rules.toml"
    let rules: RuleSet

    enum Keys: String, CodingKey { case version, fields, seats, holding, deletes }
    enum SeatKeys: String, CodingKey { case rule }
    enum HoldingKeys: String, CodingKey {
        case maxTitles = "max_titles"
        case allowedPairs = "allowed_pairs"
        case maxHamletTitles = "max_hamlet_titles"
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: Keys.self)
        let version = try keys.decode(Int.self, forKey: .version)
        var defaultRule = FieldRule.lastWriterWins
        var columns: [String: [String: FieldRule]] = [:]
        if keys.contains(.fields) {
            let fields = try keys.decode([String: FieldTable].self, forKey: .fields)
            for (name, entry) in fields {
                switch entry {
                case .rule(let rule) where name == "default": defaultRule = rule
                case .table(let table): columns[name] = table
                default:
                    throw DecodingError.dataCorrupted(.init(codingPath: keys.codingPath + [Keys.fields], debugDescription: "'\(name)' must be a table of column = rule"))
                }
            }
        }
        var seats = SeatRule.review
        if keys.contains(.seats) {
            seats = try keys.nestedContainer(keyedBy: SeatKeys.self, forKey: .seats).decode(SeatRule.self, forKey: .rule)
        }
        var holding = HoldingRules()
        if keys.contains(.holding) {
            let table = try keys.nestedContainer(keyedBy: HoldingKeys.self, forKey: .holding)
            holding = HoldingRules(
                maxTitles: try table.decodeIfPresent(Int.self, forKey: .maxTitles) ?? 2,
                allowedPairs: try table.decodeIfPresent([[String]].self, forKey: .allowedPairs) ?? [],
                maxHamletTitles: try table.decodeIfPresent(Int.self, forKey: .maxHamletTitles) ?? 3)
        }
        var deletes = DeleteRule.updateWins
        if keys.contains(.deletes) {
            deletes = try keys.nestedContainer(keyedBy: SeatKeys.self, forKey: .deletes).decode(DeleteRule.self, forKey: .rule)
        }
        rules = RuleSet(version: version, defaultRule: defaultRule, columns: columns, seats: seats, holding: holding, deletes: deletes)
    }
}

/// `[fields]` holds `default = "rule"` and one table per register table.
enum FieldTable: Decodable {
    case rule(FieldRule)
    case table([String: FieldRule])

    init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if let rule = try? single.decode(FieldRule.self) {
            self = .rule(rule)
        } else {
            self = .table(try single.decode([String: FieldRule].self))
        }
    }
}
