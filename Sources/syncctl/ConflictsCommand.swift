import ArgumentParser
import Foundation
import MergeEngine
import Register
import Replica
import SyncClient
import SyncConfig
import SyncCore

/// `syncctl conflicts`: what this office's replica holds in conflict, and its review state.
struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: SyncctlHelp.current.conflicts)

    @Option(help: ArgumentHelp(SyncctlHelp.current.configPath))
    var config: String = "/etc/communesync/commune.toml"

    @Flag(help: ArgumentHelp(SyncctlHelp.current.conflictsAll))
    var all = false

    @OptionGroup var language: LanguageChoice

    func run() throws {
        let settings = try CommuneSettings.load(config)
        let words = language.catalogue(settings)
        let replica = try Replica(openingExisting: settings.database, access: .readOnly)
        let names = RegisterNames(replica.database)
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
        if records.isEmpty && ended.isEmpty && told.isEmpty { print(words.noConflicts) }
        let width = ConflictState.allCases.map { words.conflictState($0).count }.max()! + 2
        func line(_ state: ConflictState, _ text: String) {
            print(words.conflictState(state).padding(toLength: width, withPad: " ", startingAt: 0) + text)
        }
        let said = ConflictWords(words: words, names: names, here: replica.id.description)
        for record in records {
            // One vocabulary: open (awaiting district review), settled (by a rule), decided (by
            // the district's reviewers), closed (the data no longer conflicts).
            let decision = record.state == .closed ? latest[record.id] : nil
            let state: ConflictState = decision != nil ? .decided : record.state == .open ? .open : record.state == .settled ? .settled : .closed
            line(state, words.conflict(said.conflict(record)))
            if let decision { print(String(repeating: " ", count: width) + said.told(decision, record: record)) }
        }
        // Items the district decided that this replica never held itself (a duplicate person
        // the hub found across offices, a seat another office also filled).
        for decision in told {
            line(.decided, said.item(decision.conflict))
            print(String(repeating: " ", count: width) + said.told(decision, record: ConflictRecord?.none))
        }
        for assignment in ended {
            line(.ended, words.conflict(.ended(
                assignment: names.assignment(assignment.id), on: RegisterDate.shown(assignment.endDate), why: assignment.reason)))
        }
    }
}

/// Conflicts and decisions in the technician's words: people, titles and communes by name,
/// coded values by their labels, each side with the office that wrote it.
struct ConflictWords {
    let words: any OfficeCatalogue
    let names: RegisterNames
    /// This office's replica id: its own writes are "here".
    let here: String

    func value(_ value: Value, of column: String) -> String {
        guard let text = value.textValue else { return value.description }
        return names.reference(text, in: column) ?? (words.language == .vi ? RegisterLabels.value(text, of: column) : nil) ?? text
    }

    func holding(_ holding: Holding) -> String {
        names.person(holding.person) + (holding.title.map { " – " + names.title($0) } ?? "")
    }

    func conflict(_ record: ConflictRecord) -> ConflictSaid {
        switch record.subject {
        case .field(let table, let row, let column):
            return .field(record: names.row(table, row), column: words.column(column), sides: record.fieldSides.map {
                words.side(value($0.value, of: column), origin: names.office($0.dot.replica.description), here: $0.dot.replica.description == here)
            })
        case .seat(let position):
            return .seat(seat: names.seat(position), holders: record.seatSides.map {
                words.side(names.person($0.person), origin: names.office($0.origin.description), here: $0.origin.description == here)
            })
        case .titles(let person): return .titles(person: names.person(person), holdings: record.holdings.map { $0.title.map(names.title) ?? "?" })
        case .hamletTitles(let unit): return .hamletTitles(unit: names.unit(unit), holdings: record.holdings.map(holding))
        case .quota(let unit, let category): return .quota(unit: names.unit(unit), category: category, holdings: record.holdings.map(holding))
        case .duplicate(let person): return .duplicate(person: names.person(person))
        case .placement(let table, let row): return .placement(record: names.row(table, row))
        case .deletion(let table, let row): return .deletion(record: names.row(table, row))
        }
    }

    /// An item known only by its id (`table/row/column`): its row by name, and the column
    /// when it is one of the register's.
    func item(_ id: String) -> String {
        let parts = id.split(separator: "/", maxSplits: 2).map(String.init)
        guard parts.count == 3 else { return id }
        if parts[2] == ConflictRecord.seatColumn { return names.seat(parts[1]) }
        if parts[2] == ConflictRecord.duplicateColumn { return names.person(citizenID: parts[1]) }
        return names.row(parts[0], parts[1]) + (parts[2].hasPrefix("*") ? "" : ": " + words.column(parts[2]))
    }

    /// A decision: the outcome, who decided, when (local time) and why.
    func told(_ decision: KeptDecision, record: ConflictRecord?) -> String {
        let item = decision.conflict
        let column = String(item.split(separator: "/").last ?? "")
        let pick = decision.pick ?? "?"
        let outcome: DecisionSaid
        if let undone = decision.reverts {
            outcome = .undone(decision: undone)
        } else if let kept = decision.value {
            outcome = .value(value(kept, of: column))
        } else if column == ConflictRecord.seatColumn {
            outcome = .keepsSeat(names.assignment(pick))
        } else if column == ConflictRecord.duplicateColumn {
            outcome = .recordKept(names.personRecord(pick))
        } else if column == ConflictRecord.deletionColumn {
            outcome = pick == "delete" ? .deletedEverywhere : .kept
        } else if column == ConflictRecord.placementColumn {
            outcome = .placement(names.unit(pick))
        } else if column.hasPrefix("*") {
            outcome = .assignmentsEnd(pick.split(separator: ",").map { names.assignment(String($0)) })
        } else if let side = record?.fieldSides.first(where: { $0.dot.description == pick }) {
            outcome = .side(words.side(value(side.value, of: column), origin: names.office(side.dot.replica.description), here: side.dot.replica.description == here))
        } else {
            outcome = .side(pick)
        }
        return words.decided(
            number: decision.id, outcome: words.outcome(outcome), by: decision.reviewer, at: RegisterDate.localTime(decision.at),
            why: decision.reason)
    }
}
