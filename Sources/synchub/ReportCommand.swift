import ArgumentParser
import Foundation
import Hub
import Replica
import SyncConfig

/// `synchub report`: the figures district staff read off the register, as of any date, for
/// the whole hub or one commune; computed the same on SQLite and PostgreSQL.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Figures off the register: staffing against quotas, or concurrent holding (kiêm nhiệm), as of a date.")

    @OptionGroup var location: HubConfigLocation

    @Argument(help: "staffing or concurrent.")
    var kind: String

    @Option(name: .customLong("as-of"), help: "The date (YYYY-MM-DD); today when not given.")
    var asOf: String?

    @Option(help: "Only this commune (its official code) and its hamlets.")
    var unit: String?

    @Option(help: "table (for people), json or csv.")
    var format = "table"

    func run() async throws {
        guard ["staffing", "concurrent"].contains(kind) else {
            throw ValidationError("the reports are staffing and concurrent (qualifications, ratings and trainings are not built yet), not '\(kind)'")
        }
        guard ["table", "json", "csv"].contains(format) else { throw ValidationError("--format is table, json or csv, not '\(format)'") }
        let day = asOf ?? RegisterDate.today()
        guard day.count == 10, (try? Date(day + "T00:00:00Z", strategy: .iso8601)) != nil else {
            throw ValidationError("--as-of is a date as YYYY-MM-DD, not '\(day)'")
        }
        let rows = try await location.openStore().registerRows()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        if kind == "staffing" {
            let lines = RegisterReports.staffing(rows, asOf: day, unit: unit)
            switch format {
            case "json": print(String(decoding: try encoder.encode(lines), as: UTF8.self))
            case "csv":
                print("commune_code,commune,category,people,quota,legal_basis,assignments")
                for line in lines {
                    print([line.communeCode, line.commune, line.category, String(line.people), line.quota.map(String.init) ?? "",
                           line.legalBasis ?? "", String(line.assignments)].map(Self.csv).joined(separator: ","))
                }
            default:
                print("Biên chế so với định biên ngày \(day) — staffing against quotas as of \(day)")
                for line in lines {
                    let quota = line.quota.map { " / \($0)" + (line.legalBasis.map { " (\($0))" } ?? "") } ?? " / chưa có định biên (no quota recorded)"
                    print("  \(line.communeCode.padding(toLength: 6, withPad: " ", startingAt: 0)) \(line.commune.padding(toLength: 24, withPad: " ", startingAt: 0)) "
                        + "\(line.categoryVi.padding(toLength: 40, withPad: " ", startingAt: 0)) \(line.people)\(quota)")
                }
            }
        } else {
            let figures = RegisterReports.concurrent(rows, asOf: day, unit: unit)
            switch format {
            case "json": print(String(decoding: try encoder.encode(figures), as: UTF8.self))
            case "csv":
                print("titles,people")
                for pair in figures.pairs { print("\(Self.csv(pair.titles.joined(separator: "+"))),\(pair.people)") }
            default:
                print("Kiêm nhiệm ngày \(day) — concurrent holding as of \(day)")
                print("  bí thư đảng ủy kiêm chủ tịch UBND: \(figures.secretaryChairsCommittee) / \(figures.communes) xã")
                print("  bí thư đảng ủy kiêm chủ tịch HĐND: \(figures.secretaryChairsCouncil) / \(figures.communes) xã")
                print("  bí thư chi bộ kiêm trưởng thôn: \(figures.cellSecretaryIsHamletHead) / \(figures.hamlets) thôn")
                print("  bí thư chi bộ kiêm trưởng ban công tác Mặt trận: \(figures.cellSecretaryHeadsFront) / \(figures.hamlets) thôn")
                for pair in figures.pairs { print("  \(pair.titles.joined(separator: " + ")): \(pair.people) người") }
            }
        }
    }

    static func csv(_ field: String) -> String {
        field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }
}
