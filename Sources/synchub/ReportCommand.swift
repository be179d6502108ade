import ArgumentParser
import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import MergeEngine
import Register
import Replica
import SyncConfig
import Workbook

/// `synchub report`: the figures district staff read off the register, as of any date, for
/// the whole hub or one commune; computed the same on SQLite and PostgreSQL.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Figures off the register as of a date: staffing against quotas, concurrent holding (kiêm nhiệm), qualifications, ratings of a year, trainings since a date.")

    @OptionGroup var location: HubConfigLocation

    @Argument(help: "staffing, concurrent, qualifications, ratings or trainings.")
    var kind: String

    @Option(help: "ratings: the year rated; the year before --as-of when not given.")
    var year: Int?

    @Option(help: "trainings: counted from this date (YYYY-MM-DD); 5 years before --as-of when not given.")
    var since: String?

    @Option(name: .customLong("as-of"), help: "The date (YYYY-MM-DD); today when not given.")
    var asOf: String?

    @Option(help: "Only this commune (its official code) and its hamlets.")
    var unit: String?

    @Option(help: "table (for people), json, csv, or xlsx (every report in one Excel workbook, a sheet each; needs --output).")
    var format = "table"

    @Option(help: "xlsx: the file to write the workbook to.")
    var output: String?

    func run() async throws {
        guard ["staffing", "concurrent", "qualifications", "ratings", "trainings"].contains(kind) else {
            throw ValidationError("the reports are staffing, concurrent, qualifications, ratings and trainings, not '\(kind)'")
        }
        guard ["table", "json", "csv", "xlsx"].contains(format) else { throw ValidationError("--format is table, json, csv or xlsx, not '\(format)'") }
        let day = asOf ?? RegisterDate.today()
        guard day.count == 10, (try? Date(day + "T00:00:00Z", strategy: .iso8601)) != nil else {
            throw ValidationError("--as-of is a date as YYYY-MM-DD, not '\(day)'")
        }
        guard format != "xlsx" || output != nil else {
            throw ValidationError("--format xlsx writes a file: name it with --output, e.g. --output bao-cao-\(day).xlsx")
        }
        let rows = try await location.openStore().registerRows(for: format == "xlsx" ? nil : kind, asOf: day)
        if format == "xlsx", let output {
            // The workbook holds every report, whichever KIND was named.
            let rated = year ?? (Int(day.prefix(4)) ?? 2025) - 1
            let from = since ?? "\((Int(day.prefix(4)) ?? 2025) - 5)\(day.dropFirst(4))"
            try Workbook.reports(rows, asOf: day, unit: unit, year: rated, since: from).data().write(to: URL(fileURLWithPath: output))
            print("wrote \(output): staffing, concurrent holding, qualifications, ratings of \(rated), trainings since \(from), as of \(day)")
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        if ["qualifications", "ratings", "trainings"].contains(kind) {
            // Per group (RegisterReports.groups): the figures as JSON, a line per count in CSV and the table.
            let rated = year ?? (Int(day.prefix(4)) ?? 2025) - 1
            let from = since ?? "\((Int(day.prefix(4)) ?? 2025) - 5)\(day.dropFirst(4))"
            let data: Data
            var flat: [(level: String, group: String, key: String, value: String)] = []
            switch kind {
            case "qualifications":
                let figures = RegisterReports.qualifications(rows, asOf: day, unit: unit)
                data = try encoder.encode(figures)
                for figure in figures {
                    flat.append((figure.level, figure.group, "people", String(figure.degree.people)))
                    flat.append((figure.level, figure.group, "university_or_above_percent", String(format: "%.2f", figure.universityOrAbove)))
                    flat.append((figure.level, figure.group, "intermediate_or_above_percent", String(format: "%.2f", figure.intermediateOrAbove)))
                    flat.append((figure.level, figure.group, "political_theory_trained_percent", String(format: "%.2f", figure.politicalTheoryTrained)))
                    flat.append((figure.level, figure.group, "state_management_trained_percent", String(format: "%.2f", figure.stateManagementTrained)))
                    flat.append((figure.level, figure.group, "open_review_items", String(figure.openItems)))
                    for (degree, count) in figure.degree.counts.sorted(by: { $0.key < $1.key }) { flat.append((figure.level, figure.group, "degree:" + degree, String(count))) }
                    for (level, count) in figure.politicalTheory.counts.sorted(by: { $0.key < $1.key }) {
                        flat.append((figure.level, figure.group, "political_theory:" + level, String(count)))
                    }
                }
            case "ratings":
                let figures = RegisterReports.ratings(rows, year: rated, unit: unit)
                data = try encoder.encode(figures)
                for figure in figures {
                    flat.append((figure.level, figure.group, "rated \(rated)", String(figure.rated)))
                    flat.append((figure.level, figure.group, "meeting_or_better", String(figure.meetingOrBetter)))
                    flat.append((figure.level, figure.group, "open_review_items", String(figure.openItems)))
                    for (rating, count) in figure.ratings.counts.sorted(by: { $0.key < $1.key }) { flat.append((figure.level, figure.group, "rating:" + rating, String(count))) }
                }
            default:
                let figures = RegisterReports.trainings(rows, since: from, asOf: day, unit: unit)
                data = try encoder.encode(figures)
                for figure in figures {
                    flat.append((figure.level, figure.group, "people trained since \(from)", String(figure.people)))
                    flat.append((figure.level, figure.group, "attendances", String(figure.attendances)))
                    flat.append((figure.level, figure.group, "open_review_items", String(figure.openItems)))
                    for (field, count) in figure.byField.sorted(by: { $0.key < $1.key }) { flat.append((figure.level, figure.group, "field:" + field, String(count))) }
                }
            }
            switch format {
            case "json": print(String(decoding: data, as: UTF8.self))
            case "csv":
                print("level,group,figure,value")
                for line in flat { print([line.level, line.group, line.key, line.value].map(RegisterReports.csvField).joined(separator: ",")) }
            default:
                switch kind {
                case "qualifications": print("Trình độ ngày \(RegisterDate.shown(day)) — qualifications as of \(day)")
                case "ratings": print("Đánh giá, xếp loại năm \(rated) — ratings of \(rated), people at work on \(rated)-12-31")
                default: print("Bồi dưỡng từ \(RegisterDate.shown(from)) đến ngày \(RegisterDate.shown(day)) — trainings since \(from), as of \(day)")
                }
                for line in flat {
                    let label = RegisterReports.groupLabel(level: line.level, group: line.group).vi
                    print("  \(Self.column(label, 42)) \(Self.column(line.key, 36)) \(line.value)")
                }
            }
            return
        }
        if kind == "staffing" {
            let lines = RegisterReports.staffing(rows, asOf: day, unit: unit)
            switch format {
            case "json": print(String(decoding: try encoder.encode(lines), as: UTF8.self))
            case "csv":
                print(RegisterReports.csv(lines), terminator: "")
            default:
                print("Biên chế so với định biên ngày \(day) — staffing against quotas as of \(day)")
                for line in lines {
                    // Filled against the quota, in posts or people, then where the quota comes from.
                    let measure = line.measure == "posts" ? " chức danh (posts), \(line.people) người" : " người"
                    let figure = line.quota.map { "\(line.filled) / \($0)\(measure)" + (line.legalBasis.map { " (\($0))" } ?? "") }
                        ?? "\(line.filled)\(measure), chưa có định biên (no quota recorded)"
                    print("  \(Self.column(line.communeCode, 6)) \(Self.column(line.commune, 24)) "
                        + "\(Self.column(line.categoryVi, 40)) \(figure)\(Self.open(line.openItems))")
                }
            }
        } else {
            let figures = RegisterReports.concurrent(rows, asOf: day, unit: unit)
            switch format {
            case "json": print(String(decoding: try encoder.encode(figures), as: UTF8.self))
            case "csv":
                print("titles,people")
                for pair in figures.pairs { print("\(RegisterReports.csvField(pair.titles.joined(separator: "+"))),\(pair.people)") }
            default:
                print("Kiêm nhiệm ngày \(day) — concurrent holding as of \(day)")
                print("  bí thư đảng ủy kiêm chủ tịch UBND: \(figures.secretaryChairsCommittee) / \(figures.communes) xã")
                print("  bí thư đảng ủy kiêm chủ tịch HĐND: \(figures.secretaryChairsCouncil) / \(figures.communes) xã")
                print("  bí thư chi bộ kiêm trưởng thôn: \(figures.cellSecretaryIsHamletHead) / \(figures.hamlets) thôn")
                print("  bí thư chi bộ kiêm trưởng ban công tác Mặt trận: \(figures.cellSecretaryHeadsFront) / \(figures.hamlets) thôn")
                for pair in figures.pairs { print("  \(pair.titles.joined(separator: " + ")): \(pair.people) người") }
                if figures.openItems > 0 { print(" " + Self.open(figures.openItems)) }
            }
        }
    }

    /// After a figure that open review items touch: how many, so nobody reads it as final.
    /// `text` cut or filled with spaces to `width` characters (a table column): the national
    /// staffing table is ten thousand lines, which Foundation's padding takes a tenth of a second over.
    static func column(_ text: String, _ width: Int) -> String {
        let count = text.count
        return count >= width ? String(text.prefix(width)) : text + String(repeating: " ", count: width - count)
    }

    static func open(_ items: Int) -> String {
        items == 0 ? "" : "  ⚠ \(items) mục chờ huyện xem xét liên quan (open review items touch this figure)"
    }

}
