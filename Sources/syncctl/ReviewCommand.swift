import ArgumentParser
import Foundation
import Register
import SyncClient
import SyncCore
import SyncProtocol

/// `syncctl review`: the review desk from a terminal, for district staff with a reviewer
/// credential (`synchub credential issue --reviewer --replica NAME`).
struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: SyncctlHelp.current.review,
        subcommands: [List.self, Show.self, Resolve.self, Revert.self])

    struct Desk: ParsableArguments {
        @Option(help: ArgumentHelp(SyncctlHelp.current.reviewHub))
        var hub: String = "http://127.0.0.1:8470"

        @Option(name: .customLong("credential-file"), help: ArgumentHelp(SyncctlHelp.current.reviewCredential))
        var credentialFile: String

        @Option(name: .customLong("ca-file"), help: ArgumentHelp(SyncctlHelp.current.reviewCAFile))
        var caFile: String?

        @Flag(name: .customLong("allow-insecure-http"),
              help: ArgumentHelp(SyncctlHelp.current.reviewInsecure))
        var allowInsecureHTTP = false

        @OptionGroup var language: LanguageChoice

        var words: any OfficeCatalogue { language.catalogue(nil) }

        func client() throws -> ReviewClient {
            let credential = try String(contentsOfFile: credentialFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return try ReviewClient(hubURL: hub, credential: credential, caFile: caFile, allowInsecureHTTP: allowInsecureHTTP)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: SyncctlHelp.current.reviewList)
        @OptionGroup var desk: Desk
        @Option(help: ArgumentHelp(SyncctlHelp.current.reviewState))
        var state = "open"
        @Flag(help: ArgumentHelp(SyncctlHelp.current.reviewListJSON)) var json = false

        func run() throws {
            if state == "decided" {
                let (raw, decisions) = try desk.client().decisions()
                if json {
                    print(String(decoding: raw, as: UTF8.self))
                    return
                }
                let words = desk.words
                if decisions.isEmpty { print(words.noDecisions) }
                for decision in decisions {
                    print(words.decision(number: decision.id, at: RegisterDate.localTime(decision.at), reviewer: decision.reviewer,
                                         item: decision.conflict, reverts: decision.reverts, pick: decision.pick, value: decision.value.map { "\($0)" },
                                         wrote: decision.wrote, revertedBy: decision.revertedBy))
                    print(words.why(decision.reason))
                }
                return
            }
            let (raw, conflicts) = try desk.client().conflicts(state: state)
            if json {
                print(String(decoding: raw, as: UTF8.self))
                return
            }
            let words = desk.words
            if conflicts.isEmpty { print(words.noItems(state: state)) }
            for conflict in conflicts {
                print(words.reviewItem(id: conflict.id, kind: conflict.kind, rule: conflict.rule, state: conflict.state,
                                       sides: conflict.count ?? conflict.sides.count))
                if conflict.kind == "duplicate" {
                    // Which records: the reviewer picks one of these ids to keep.
                    let records = conflict.sides.map { "\($0.person ?? "?") \($0.fullName ?? "?") (\($0.commune ?? "?"))" }
                    print(words.duplicateRecords(citizenID: conflict.sides.compactMap(\.citizenID).first ?? "?", records: records,
                                                 more: (conflict.count ?? records.count) - records.count))
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: SyncctlHelp.current.reviewShow)
        @OptionGroup var desk: Desk
        @Argument(help: ArgumentHelp(SyncctlHelp.current.reviewItem)) var id: String

        func run() throws {
            guard let conflict = try desk.client().conflicts(state: "all").conflicts.first(where: { $0.id == id }) else {
                throw ValidationError("no conflict \(id) at the hub")
            }
            let words = desk.words
            print(words.itemHeading(id: conflict.id, kind: conflict.kind, rule: conflict.rule, state: conflict.state))
            for side in conflict.sides {
                if conflict.kind == "duplicate" {
                    print(words.duplicateSide(person: side.person ?? "?", name: side.fullName ?? "?", born: RegisterDate.shown(side.birthDate),
                                              citizenID: side.citizenID ?? "?", keptBy: side.commune ?? "?", origin: side.origin ?? "?"))
                } else if conflict.kind == "seat" {
                    print(words.seatSide(assignment: side.assignment ?? "?", person: side.person ?? "?", decision: side.decisionNo ?? "?",
                                         of: RegisterDate.shown(side.decisionDate), origin: side.origin ?? "?"))
                } else {
                    let when = side.hlc.map { OfficeText.local(Date(timeIntervalSince1970: Double($0 >> 16) / 1000)) } ?? "?"
                    print(words.fieldSide(pick: side.dot ?? "?", origin: side.origin ?? "?", at: when, value: side.value?.description ?? "NULL"))
                }
            }
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: SyncctlHelp.current.reviewResolve)
        @OptionGroup var desk: Desk
        @Argument(help: ArgumentHelp(SyncctlHelp.current.reviewItem)) var id: String
        @Option(help: ArgumentHelp(SyncctlHelp.current.reviewPick))
        var pick: String?
        @Option(help: ArgumentHelp(SyncctlHelp.current.reviewValue)) var value: String?
        @Option(help: ArgumentHelp(SyncctlHelp.current.reviewWhy)) var reason: String

        func run() throws {
            let response = try desk.client().resolve(ResolveRequest(id: id, pick: pick, value: value.map(Value.text), reason: reason))
            print(desk.words.resolved(item: response.id, number: response.review, wrote: response.wrote))
        }
    }

    struct Revert: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: SyncctlHelp.current.reviewRevert)
        @OptionGroup var desk: Desk
        @Argument(help: ArgumentHelp(SyncctlHelp.current.reviewDecision)) var review: Int64
        @Option(help: ArgumentHelp(SyncctlHelp.current.reviewRevertWhy)) var reason: String

        func run() throws {
            let response = try desk.client().revert(RevertRequest(review: review, reason: reason))
            print(desk.words.reverted(number: review, item: response.id, recordedAs: response.review, wrote: response.wrote))
        }
    }
}
