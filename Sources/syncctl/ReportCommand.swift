import ArgumentParser
import Foundation
import MergeEngine
import Register
import Replica
import SyncClient

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: SyncctlHelp.current.report,
        discussion: SyncctlHelp.current.reportDiscussion)

    @OptionGroup var location: ReplicaLocation

    @Option(name: .customLong("as-of"), help: ArgumentHelp(SyncctlHelp.current.reportAsOf))
    var asOf: String?

    @Flag(help: ArgumentHelp(SyncctlHelp.current.reportJSON))
    var json = false

    @OptionGroup var language: LanguageChoice

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
        let words = language.catalogue(nil)
        let shown = { (day: String) in RegisterDate.shown(day) }
        print(words.holdersHeading(date: shown(date), units: report.units.count))
        for unit in report.units {
            print(words.holdersUnit(code: unit.code ?? "?", name: unit.name ?? unit.id, until: unit.effectiveTo.map(shown), holdings: unit.holders.count))
            for holder in unit.holders {
                print(words.holding(title: holder.title ?? "?", seat: holder.seat.map { "\($0)" }, place: holder.seatUnit,
                                    person: holder.person ?? holder.personID, kind: holder.kind, from: holder.startDate.map(shown) ?? "?"))
            }
        }
    }
}
