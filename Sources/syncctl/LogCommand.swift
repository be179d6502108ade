import ArgumentParser
import Foundation
import MergeEngine
import Register
import Replica
import SyncCore

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show the changes this replica captured: dot, table, row, column, value, context.")

    @OptionGroup var location: ReplicaLocation

    @Option(help: "Show only changes with a counter above this one.")
    var after: UInt64 = 0

    @Option(help: "Show at most this many changes.")
    var limit: Int = 100

    @Flag(help: "One JSON object per line instead of a table.")
    var json = false

    func run() throws {
        // Read-only: reading the log needs no write permission and never changes the file.
        let replica = try Replica(openingExisting: location.database, access: .readOnly)
        let unfolded = try replica.database.scalar("SELECT count(*) FROM _sync_log WHERE op <> 'reserve' AND seq > coalesce((SELECT value FROM _sync_meta WHERE key = 'folded_seq'), 0)")?.integerValue ?? 0
        if unfolded > 0 {
            FileHandle.standardError.write(Data("\(unfolded) write(s) made since syncd's last round are not shown yet: syncd turns them into changes at its next round\n".utf8))
        }
        let changes = try replica.capturedChanges(after: after, limit: limit).prefix(limit)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for change in changes {
            let stamp = Date(timeIntervalSince1970: Double(change.timestamp.wallMillis) / 1000)
            if json {
                let line = LogLine(
                    dot: change.dot.description, table: change.table, row: change.row, column: change.column,
                    value: change.operation == .delete ? nil : value(change), delete: change.operation == .delete,
                    context: change.context.description, hlc: change.timestamp.rawValue,
                    time: stamp.formatted(.iso8601))
                print(String(decoding: try encoder.encode(line), as: UTF8.self))
            } else {
                let what = change.column.map { "\($0) = \(value(change))" } ?? "DELETE"
                print("\(change.dot)  \(stamp.formatted(.iso8601))  \(change.table)/\(change.row)  \(what)  seen {\(change.context)}")
            }
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
