import ArgumentParser
import Foundation
import MergeEngine
import Register
import Replica

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Who held which title on a date, by the communes in force that day (across mergers and splits).",
        discussion: """
            Reads a replica file: an office's (its own records) or the hub's SQLite file (the whole district). A date \
            before a reorganisation shows the old units and who held what there; a later date shows the same seats under \
            the successor.
            """)

    @OptionGroup var location: ReplicaLocation

    @Option(name: .customLong("as-of"), help: "The date (YYYY-MM-DD); today when left out.")
    var asOf: String?

    @Flag(help: "One JSON object instead of text.")
    var json = false

    func run() throws {
        let date = asOf ?? RegisterDate.today()
        guard RegisterDate.isDate(date) else {
            throw ValidationError("'\(date)' is not a date: give it as YYYY-MM-DD")
        }
        // Read-only: a report never changes the file, and needs no write permission.
        let replica = try Replica(openingExisting: location.database, access: .readOnly)
        let report = try HoldersReport.read(replica.database, asOf: date)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("As of \(date): \(report.units.count) commune-level units")
        for unit in report.units {
            let until = unit.effectiveTo.map { " (in force until \($0))" } ?? ""
            print("\(unit.code ?? "?") \(unit.name ?? unit.id)\(until): \(unit.holders.count) holding(s)")
            for holder in unit.holders {
                let seat = holder.seat.map { " seat \($0)" } ?? ""
                let place = holder.seatUnit.map { ", in \($0)" } ?? ""
                print("  \(holder.title ?? "?")\(seat)\(place): \(holder.person ?? holder.personID) (\(holder.kind ?? "?"), from \(holder.startDate ?? "?"))")
            }
        }
    }
}
