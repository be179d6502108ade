import ArgumentParser
import Foundation
import SyncClient
import SyncCore
import SyncProtocol

/// `syncctl review`: the review desk from a terminal, for district staff with a reviewer
/// credential (`synchub credential issue --reviewer --replica NAME`).
struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "List and decide conflicts on the district hub's review desk.",
        subcommands: [List.self, Show.self, Resolve.self, Revert.self])

    struct Desk: ParsableArguments {
        @Option(help: "The hub's URL.")
        var hub: String = "http://127.0.0.1:8470"

        @Option(name: .customLong("credential-file"), help: "File holding the reviewer's credential.")
        var credentialFile: String

        @Option(name: .customLong("ca-file"), help: "CA bundle to check the hub's certificate with, if not the system's.")
        var caFile: String?

        @Flag(name: .customLong("allow-insecure-http"),
              help: "Send the credential over plain http to a hub on another computer (only on a link the district trusts).")
        var allowInsecureHTTP = false

        func client() throws -> ReviewClient {
            let credential = try String(contentsOfFile: credentialFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return try ReviewClient(hubURL: hub, credential: credential, caFile: caFile, allowInsecureHTTP: allowInsecureHTTP)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Conflicts in a state (open by default), or the decisions made.")
        @OptionGroup var desk: Desk
        @Option(help: "open, settled, closed or all; or decided: the district's decisions, newest first, with their numbers for 'revert'.")
        var state = "open"
        @Flag(help: "The JSON array the hub serves at /v1/conflicts (/v1/reviews with --state decided).") var json = false

        func run() throws {
            if state == "decided" {
                let (raw, decisions) = try desk.client().decisions()
                if json {
                    print(String(decoding: raw, as: UTF8.self))
                    return
                }
                if decisions.isEmpty { print("no decisions yet") }
                for decision in decisions {
                    var line = "#\(decision.id)  \(decision.at)  \(decision.reviewer)  \(decision.conflict)"
                    if let undone = decision.reverts { line += "  reverts #\(undone)" }
                    if let pick = decision.pick { line += "  pick \(pick)" }
                    if let value = decision.value { line += "  value \(value)" }
                    line += "  \(decision.wrote) write(s)"
                    if let by = decision.revertedBy { line += "  (reverted by #\(by))" }
                    print(line)
                    print("    why: \(decision.reason)")
                }
                return
            }
            let (raw, conflicts) = try desk.client().conflicts(state: state)
            if json {
                print(String(decoding: raw, as: UTF8.self))
                return
            }
            if conflicts.isEmpty { print("no \(state) conflicts") }
            for conflict in conflicts {
                print("\(conflict.id)  \(conflict.kind)  rule \(conflict.rule)  \(conflict.state)  \(conflict.count ?? conflict.sides.count) sides")
                if conflict.kind == "duplicate" {
                    // Which records: the reviewer picks one of these ids to keep.
                    let records = conflict.sides.map { "\($0.person ?? "?") \($0.fullName ?? "?") (\($0.commune ?? "?"))" }
                    let more = (conflict.count ?? records.count) - records.count
                    print("    citizen id \(conflict.sides.compactMap(\.citizenID).first ?? "?"): \(records.joined(separator: " / "))"
                        + (more > 0 ? " / ... and \(more) more" : ""))
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One conflict with both sides.")
        @OptionGroup var desk: Desk
        @Argument(help: "The conflict id (table/row/column).") var id: String

        func run() throws {
            guard let conflict = try desk.client().conflicts(state: "all").conflicts.first(where: { $0.id == id }) else {
                throw ValidationError("no conflict \(id) at the hub")
            }
            print("\(conflict.id): \(conflict.kind) conflict, rule \(conflict.rule), \(conflict.state)")
            for side in conflict.sides {
                if conflict.kind == "duplicate" {
                    print("  record \(side.person ?? "?")  \(side.fullName ?? "?")  born \(side.birthDate ?? "?")  citizen id \(side.citizenID ?? "?")  "
                        + "kept by \(side.commune ?? "?")  recorded at \(side.origin ?? "?")")
                } else if conflict.kind == "seat" {
                    print("  assignment \(side.assignment ?? "?")  person \(side.person ?? "?")  decision \(side.decisionNo ?? "?") of \(side.decisionDate ?? "?")  recorded at \(side.origin ?? "?")")
                } else {
                    let when = side.hlc.map { Date(timeIntervalSince1970: Double($0 >> 16) / 1000).formatted(.iso8601) } ?? "?"
                    print("  \(side.dot ?? "?")  written at \(side.origin ?? "?") \(when)  value: \(side.value?.description ?? "NULL")")
                }
            }
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide a conflict: keep one side (--pick), or write a merged value (--value); always say why.")
        @OptionGroup var desk: Desk
        @Argument(help: "The conflict id (table/row/column).") var id: String
        @Option(help: "Field: the dot of the side to keep. Seat: the assignment that keeps the seat. Holding, quota: the assignment(s) to end, separated by commas (the hub refuses a pick that would not settle the item, and says why). Duplicate: the persons.id to keep. Deletion: keep or delete.")
        var pick: String?
        @Option(help: "Field: a merged value to write instead.") var value: String?
        @Option(help: "Why; kept with the decision.") var reason: String

        func run() throws {
            let response = try desk.client().resolve(ResolveRequest(id: id, pick: pick, value: value.map(Value.text), reason: reason))
            print("decided \(response.id) (review #\(response.review), \(response.wrote) write(s)); it reaches every commune on its next sync")
        }
    }

    struct Revert: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Undo a decision: write back the values it overwrote.")
        @OptionGroup var desk: Desk
        @Argument(help: "The decision's number (printed by resolve).") var review: Int64
        @Option(help: "Why; kept with the revert.") var reason: String

        func run() throws {
            let response = try desk.client().revert(RevertRequest(review: review, reason: reason))
            print("reverted decision #\(review) on \(response.id) (recorded as #\(response.review), \(response.wrote) write(s))")
        }
    }
}
