import ArgumentParser
import Foundation
import MergeEngine
import Register
import Replica
import SyncClient
import SyncConfig
import SyncCore

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: SyncctlHelp.current.log)

    @Option(help: ArgumentHelp(SyncctlHelp.current.logConfig))
    var config: String = "/etc/communesync/commune.toml"

    @Option(name: .long, help: ArgumentHelp(SyncctlHelp.current.logDatabase))
    var database: String?

    @Flag(help: ArgumentHelp(SyncctlHelp.current.logToday))
    var today = false

    @Option(help: ArgumentHelp(SyncctlHelp.current.logTable))
    var table: String?

    @Option(help: ArgumentHelp(SyncctlHelp.current.logRow))
    var row: String?

    @Option(help: ArgumentHelp(SyncctlHelp.current.logLimit))
    var limit: Int = 50

    @Option(help: ArgumentHelp(SyncctlHelp.current.logAfter))
    var after: UInt64 = 0

    @Flag(help: ArgumentHelp(SyncctlHelp.current.logJSON))
    var json = false

    @OptionGroup var language: LanguageChoice

    func run() throws {
        let settings = try? CommuneSettings.load(config)
        let path = database ?? settings?.database ?? "/var/lib/communesync/replica.db"
        // Read-only: reading the log needs no write permission and never changes the file.
        let replica = try Replica(openingExisting: path, access: .readOnly)
        if json { return try printChanges(replica) }
        let words = language.catalogue(settings)
        let since = today ? Calendar.current.startOfDay(for: Date()) : nil
        let rows = try replica.writtenRows(limit: limit, table: table, row: row, since: since)
        if rows.isEmpty { print(words.nothingWritten) }
        let names = RegisterNames(replica.database)
        let operations = Set(rows.map(\.operation.rawValue)).map(words.operation)
        let width = operations.map(\.count).max() ?? 0
        for written in rows {
            let what = words.operation(written.operation.rawValue).padding(toLength: width, withPad: " ", startingAt: 0)
            let fields = (written.changed ?? []).map { field in
                let value = field.value.textValue.flatMap { text in
                    names.reference(text, in: field.column) ?? (words.language == .vi ? RegisterLabels.value(text, of: field.column) : nil)
                } ?? field.value.description
                return "\(words.column(field.column)) = \(value)"
            }
            print("\(OfficeText.local(written.writtenAt))  \(what)  \(words.table(written.table)) \(written.row)  [\(words.atHub(written.changed == nil ? nil : written.atHub))]"
                + (fields.isEmpty ? "" : "  " + fields.joined(separator: "; ")))
        }
    }

    /// `--json`: every captured change as it travels, oldest first.
    private func printChanges(_ replica: Replica) throws {
        let unfolded = try replica.database.scalar("SELECT count(*) FROM _sync_log WHERE op <> 'reserve' AND seq > coalesce((SELECT value FROM _sync_meta WHERE key = 'folded_seq'), 0)")?.integerValue ?? 0
        if unfolded > 0 {
            FileHandle.standardError.write(Data("\(unfolded) write(s) made since syncd's last round are not shown yet: syncd turns them into changes at its next round\n".utf8))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for change in try replica.capturedChanges(after: after, limit: limit).prefix(limit) {
            let stamp = Date(timeIntervalSince1970: Double(change.timestamp.wallMillis) / 1000)
            let line = LogLine(
                dot: change.dot.description, table: change.table, row: change.row, column: change.column,
                value: change.operation == .delete ? nil : value(change), delete: change.operation == .delete,
                context: change.context.description, hlc: change.timestamp.rawValue,
                time: stamp.formatted(.iso8601))
            print(String(decoding: try encoder.encode(line), as: UTF8.self))
        }
    }

    private func value(_ change: Change) -> Value {
        if case .set(_, let value) = change.operation { return value }
        return .null
    }
}

private struct LogLine: Encodable {
    let dot: String
    let table: String
    let row: String
    let column: String?
    let value: Value?
    let delete: Bool
    let context: String
    let hlc: UInt64
    let time: String
}
