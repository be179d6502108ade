import ArgumentParser
import Foundation
import MergeEngine
import Register
import Replica
import SyncClient
import SyncConfig

/// `syncctl refused`: changes made here that the hub would not take, and what to do with them.
struct RefusedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refused",
        abstract: SyncctlHelp.current.refused,
        discussion: SyncctlHelp.current.refusedDiscussion,
        subcommands: [List.self, Retry.self, Clear.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: SyncctlHelp.current.refusedList)

        @Option(help: ArgumentHelp(SyncctlHelp.current.configPath))
        var config: String = "/etc/communesync/commune.toml"

        @Flag(help: ArgumentHelp(SyncctlHelp.current.refusedAll))
        var all = false

        @OptionGroup var language: LanguageChoice

        func run() throws {
            let settings = try CommuneSettings.load(config)
            let words = language.catalogue(settings)
            let replica = try Replica(openingExisting: settings.database, access: .readOnly)
            let refused = try replica.refusedChanges(all: all)
            if refused.isEmpty { print(words.noRefused) }
            let names = RegisterNames(replica.database)
            // One entry per row and state: a row's changes are refused together.
            var order: [String] = []
            var byRow: [String: [RefusedChange]] = [:]
            for change in refused {
                let key = "\(change.table)/\(change.row) \(change.state.rawValue)"
                if byRow[key] == nil { order.append(key) }
                byRow[key, default: []].append(change)
            }
            let width = RefusedChange.State.allCases.map { words.refusedState($0).count }.max() ?? 0
            let indent = String(repeating: " ", count: width + 2)
            for key in order {
                let changes = byRow[key]!
                let first = changes[0]
                let named = names.row(first.table, first.row)
                let name = named == first.row ? "" : " (\(named))"
                let at = (try? Date(first.at, strategy: .iso8601)).map(OfficeText.local) ?? first.at
                print(words.refusedState(first.state).padding(toLength: width, withPad: " ", startingAt: 0)
                      + "  \(first.table)/\(first.row)\(name)  \(at): \(words.refusal(code: first.code))")
                print(indent + words.refusedFields(changes.compactMap(\.column).reversed()))
                for message in Set(changes.map(\.message)).sorted() { print(indent + words.hubExplained(message)) }
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry", abstract: SyncctlHelp.current.refusedRetry)

        @OptionGroup var target: RefusedRows

        func run() throws {
            let sent = try target.replica().retryRefused(table: target.table, row: target.id)
            print(target.words().refusedHandled(rows: sent, retried: true))
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "clear", abstract: SyncctlHelp.current.refusedClear)

        @OptionGroup var target: RefusedRows

        func run() throws {
            let marked = try target.replica().clearRefused(table: target.table, row: target.id)
            print(target.words().refusedHandled(rows: marked, retried: false))
        }
    }
}

/// Which refused rows `retry` and `clear` act on, and the replica they are in.
struct RefusedRows: ParsableArguments {
    @Option(help: ArgumentHelp(SyncctlHelp.current.configPath))
    var config: String = "/etc/communesync/commune.toml"

    @Argument(help: ArgumentHelp(SyncctlHelp.current.refusedRow))
    var row: String?

    @OptionGroup var language: LanguageChoice

    var table: String? { named?.table }
    var id: String? { named?.id }

    private var named: (table: String, id: String)? {
        guard let row, let slash = row.firstIndex(of: "/") else { return nil }
        return (String(row[..<slash]), String(row[row.index(after: slash)...]))
    }

    func validate() throws {
        if row != nil && (named?.table ?? "").isEmpty {
            throw ValidationError("name the row as table/id, e.g. persons/p-17")
        }
    }

    func words() -> any OfficeCatalogue { language.catalogue(try? CommuneSettings.load(config)) }

    /// The replica, opened to write but never to migrate (only syncd and 'syncctl init' do).
    func replica() throws -> Replica {
        try Replica(openingExisting: try CommuneSettings.load(config).database, access: .sameSchema)
    }
}
