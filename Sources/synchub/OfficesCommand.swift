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
import SyncCore
import SyncProtocol

/// `synchub offices`: the district's offices at a glance, those in trouble first.
struct OfficesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offices",
        abstract: "Every office with a credential: when it last synced, what waits to be sent, what was refused, its clock, disk and release; trouble first.")

    @OptionGroup var location: HubConfigLocation

    @Option(help: "table (for people) or json (for scripts).")
    var format = "table"

    func run() async throws {
        guard ["table", "json"].contains(format) else { throw ValidationError("--format is table or json, not '\(format)'") }
        let store = try await location.openStore()
        let offices = try await store.offices()
        if format == "json" {
            let rows: [[String: Any]] = offices.map { office in
                var row: [String: Any] = ["office": office.replica.rawValue, "scope": office.scope, "trouble": office.trouble,
                                          "settled_counter": office.settled]
                if let pulled = office.pulledThrough { row["pulled_through"] = pulled }
                if let commune = office.commune { row["commune"] = commune }
                if let seen = office.seenAt { row["seen_at"] = seen }
                if let until = office.acceptedUntil { row["accepted_until"] = until }
                if let facts = office.facts {
                    row["version"] = facts.version
                    row["unsent"] = facts.unsent
                    row["refused_rows"] = facts.refusedRows
                    if let oldest = facts.oldestUnsentS { row["oldest_unsent_s"] = oldest }
                    if let offset = facts.clockOffsetS { row["clock_offset_s"] = offset }
                    if let free = facts.freeDiskBytes { row["free_disk_bytes"] = free }
                    if let rules = facts.rulesVersion { row["rules_version"] = rules }
                    if let error = facts.lastError { row["last_error"] = error }
                }
                return row
            }
            let data = try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        if offices.isEmpty { print("no office holds a credential yet ('synchub credential issue --replica CODE')") }
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0) }
        print(pad("office", 10) + pad("commune", 26) + pad("last synced", 18) + pad("unsent", 8) + pad("refused", 9) + pad("clock", 8)
              + pad("disk free", 11) + pad("release", 9) + "trouble")
        for office in offices {
            let facts = office.facts
            print(pad(office.replica.rawValue, 10) + pad(office.commune ?? office.scope, 26) + pad(office.seenAt.map(Self.local) ?? "never", 18)
                  + pad(facts.map { String($0.unsent) } ?? "-", 8) + pad(facts.map { String($0.refusedRows) } ?? "-", 9)
                  + pad(facts?.clockOffsetS.map { String(format: "%+.0f s", $0) } ?? "-", 8)
                  + pad(facts?.freeDiskBytes.map { String(format: "%.1f GB", Double($0) / 1e9) } ?? "-", 11)
                  + pad(facts?.version ?? "-", 9) + (office.trouble.isEmpty ? "ok" : office.trouble.joined(separator: "; ")))
        }
    }

    static func local(_ iso: String) -> String { RegisterDate.localTime(iso) }
}
