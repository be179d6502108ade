import ArgumentParser
import Foundation
import Replica
import SyncConfig

/// `syncctl conflicts`: what this office's replica holds in conflict, and its review state.
struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: "Conflicts affecting this commune and their state (open = awaiting district review).")

    @Option(help: "Path of commune.toml.")
    var config: String = "/etc/communesync/commune.toml"

    @Flag(help: "Include closed ones.")
    var all = false

    func run() throws {
        let settings = try CommuneSettings.load(config)
        let replica = try Replica(openingExisting: settings.database, access: .readOnly)
        let records = try replica.conflicts().filter { all || $0.state != .closed }
        // An office whose assignment the hub ended may never have seen the seat conflict
        // itself (the other holder and the end arrive together): the ended assignment says so.
        let ended = all ? try EndedAssignments.read(replica.database) : []
        if records.isEmpty && ended.isEmpty { print("no conflicts") }
        for record in records {
            let what: String
            switch record.kind {
            case .seat: what = "\(record.seatSides.count) active holders: " + record.seatSides.map { "\($0.assignment) (\($0.origin))" }.joined(separator: ", ")
            case .holding, .quota: what = record.chosen + ": " + record.holdings.map { "\($0.assignment) \($0.title ?? "?")" }.joined(separator: ", ")
            case .field: what = record.fieldSides.map { "\($0.value) (\($0.dot.replica))" }.joined(separator: " vs ")
            // Opened by the hub for its reviewers; an office's replica holds none of its own.
            case .duplicate, .placement, .deletion: what = "\(record.kind.rawValue) item of the district's review desk"
            }
            print("\(record.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(record.id)  rule \(record.rule): \(what)")
        }
        for assignment in ended {
            print("ended    assignments/\(assignment.id)  on \(assignment.endDate): \(assignment.reason)")
        }
    }
}
