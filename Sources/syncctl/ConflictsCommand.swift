import ArgumentParser
import Foundation
import MergeEngine
import Register
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
        let every = try replica.conflicts()
        let records = every.filter { all || $0.state != .closed }
        // The district's decisions on items naming this office's records, told with pulls:
        // the latest on each item says who decided what, when and why.
        let decisions = try replica.decisions()
        let latest = Dictionary(decisions.map { ($0.conflict, $0) }, uniquingKeysWith: { $0.id > $1.id ? $0 : $1 })
        // An office whose assignment the hub ended may never have seen the seat conflict
        // itself (the other holder and the end arrive together): the ended assignment says so.
        let ended = all ? try EndedAssignments.read(replica.database) : []
        let held = Set(every.map(\.id))
        let told = latest.values.filter { !held.contains($0.conflict) }.sorted { $0.id < $1.id }
        if records.isEmpty && ended.isEmpty && told.isEmpty { print("no conflicts") }
        for record in records {
            let what: String
            switch record.kind {
            case .seat: what = "\(record.seatSides.count) active holders: " + record.seatSides.map { "\($0.assignment) (\($0.origin))" }.joined(separator: ", ")
            case .holding, .quota:
                let problem = if case .problem(let text) = record.decision { text } else { "" }
                what = problem + ": " + record.holdings.map { "\($0.assignment) \($0.title ?? "?")" }.joined(separator: ", ")
            case .field: what = record.fieldSides.map { "\($0.value) (\($0.dot.replica))" }.joined(separator: " vs ")
            // Opened by the hub for its reviewers; an office's replica holds none of its own.
            case .duplicate, .placement, .deletion: what = "\(record.kind.rawValue) item of the district's review desk"
            }
            // One vocabulary: open (awaiting district review), settled (by a rule), decided (by
            // the district's reviewers), closed (the data no longer conflicts).
            let decision = record.state == .closed ? latest[record.id] : nil
            let state = decision == nil ? record.state.rawValue : "decided"
            print("\(state.padding(toLength: 8, withPad: " ", startingAt: 0)) \(record.id)  rule \(record.rule): \(what)")
            if let decision { print("         " + Self.told(decision, record: record)) }
        }
        // Items the district decided that this replica never held itself (a duplicate person
        // the hub found across offices, a seat another office also filled).
        for decision in told {
            print("decided  \(decision.conflict)  " + Self.told(decision, record: nil))
        }
        for assignment in ended {
            print("ended    assignments/\(assignment.id)  on \(assignment.endDate): \(assignment.reason)")
        }
    }

    /// A decision in the technician's words: the outcome, who decided, when (local time) and why.
    static func told(_ decision: KeptDecision, record: ConflictRecord?) -> String {
        let item = decision.conflict
        var outcome: String
        if let undone = decision.reverts {
            outcome = "decision #\(undone) undone: the values before it written back"
        } else if let value = decision.value {
            outcome = "kept the value \(value)"
        } else if item.hasSuffix("/" + ConflictRecord.seatColumn) {
            outcome = "assignment \(decision.pick ?? "?") keeps the seat; the other holders end"
        } else if item.hasSuffix("/" + ConflictRecord.duplicateColumn) {
            outcome = "record \(decision.pick ?? "?") is kept; the others are merged into it"
        } else if item.hasSuffix("/" + ConflictRecord.deletionColumn) {
            outcome = decision.pick == "delete" ? "the record is deleted everywhere" : "the record is kept"
        } else if item.contains("/*") && !item.hasSuffix("/" + ConflictRecord.placementColumn) {
            outcome = "assignment(s) \(decision.pick ?? "?") end"
        } else if item.hasSuffix("/" + ConflictRecord.placementColumn) {
            outcome = "placement in \(decision.pick ?? "?") confirmed"
        } else if let pick = decision.pick, let side = record?.fieldSides.first(where: { $0.dot.description == pick }) {
            outcome = "kept the value \(side.value) (written at \(side.dot.replica))"
        } else {
            outcome = "kept the side \(decision.pick ?? "?")"
        }
        return "decision #\(decision.id): \(outcome); decided by \(decision.reviewer) on \(localTime(decision.at)); why: \(decision.reason)"
    }

    static func localTime(_ iso: String) -> String { RegisterDate.localTime(iso) }
}
