import ArgumentParser
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite

struct UnitsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "units", abstract: "Administrative change: merge and split communes, move a person to another commune.",
        subcommands: [Reorganise.self, MovePerson.self])

    struct Reorganise: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reorganise",
            abstract: "End old communes and move every record to their successors, from a mapping file or one merger at a time.",
            discussion: """
                With --mapping, every line whose old commune is in force at this hub is done (other districts' lines are \
                skipped). A successor with the same code and name as a unit in force goes on with its own history; any \
                other successor is a new unit, also when it takes over an old unit's code. Records of a split commune go to \
                its default successor unless --place names another for a hamlet (its code or units.id) or a person \
                (persons.id); a review item lists each split for district staff. All in one transaction.
                """)

        @OptionGroup var location: HubConfigLocation

        @Option(help: "Mapping file (columns of commune_mapping_2025.csv).")
        var mapping: String?

        @Option(help: "Old commune codes to merge, comma-separated (instead of --mapping).")
        var from: String?

        @Option(help: "Code of the commune they merge into (with --from).")
        var into: String?

        @Option(help: "Name of the commune they merge into, when it is a new unit (with --from).")
        var name: String?

        @Option(help: "units.kind of a new unit (with --from): commune or ward.")
        var kind: String = "commune"

        @Option(help: "The date the old units end and the new ones start (YYYY-MM-DD).")
        var on: String

        @Option(help: "HAMLET_OR_PERSON=CODE: put a hamlet (code or units.id) or a person (persons.id) of a split commune in successor CODE. Repeatable.")
        var place: [String] = []

        func run() async throws {
            let successions: [Succession]
            switch (mapping, from, into) {
            case (let mapping?, nil, nil):
                do { successions = try MappingFile.successions(at: mapping) } catch let problem as MappingFile.Problem {
                    throw ValidationError(problem.description)
                }
            case (nil, let from?, let into?):
                successions = from.split(separator: ",").map {
                    Succession(oldCode: String($0).trimmingCharacters(in: .whitespaces), newCode: into, newName: name ?? "",
                               newKind: kind, isDefault: true)
                }
            default:
                throw ValidationError("give either --mapping FILE, or --from CODES with --into CODE")
            }
            var placing: [String: String] = [:]
            for pair in place {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--place takes HAMLET_OR_PERSON=CODE, not '\(pair)'") }
                placing[parts[0]] = parts[1]
            }
            let store = try await location.openStore()
            let report: ReorganisationReport
            do {
                report = try await store.reorganise(successions, on: on, placing: placing)
            } catch let refusal as HubError {
                throw ValidationError(refusal.message)
            }
            for (unit, successor) in report.ended {
                print("ended    \(unit.code) \(unit.name) -> \(successor.code) \(successor.name)")
            }
            for unit in report.created { print("created  \(unit.code) \(unit.name) (units.id \(unit.id))") }
            for unit in report.kept { print("goes on  \(unit.code) \(unit.name)") }
            print("moved    " + report.moved.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
            if !report.splitsToReview.isEmpty {
                print("review   split communes \(report.splitsToReview.joined(separator: ", ")): records went to the default successor; "
                    + "the review desk lists them")
            }
            print("Offices of ended communes are refused from now on, with the successor's name; what they typed before is still taken. "
                + "Issue each new unit's office its credential: synchub credential issue --replica CODE")
        }
    }

    struct MovePerson: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "move-person",
            abstract: "Rotate a person to another commune: their record and history move; active assignments end on the date.")

        @OptionGroup var location: HubConfigLocation

        @Option(help: "persons.id of the person.")
        var person: String

        @Option(help: "Code of the commune in force the person moves to.")
        var to: String

        @Option(help: "The date of the move (YYYY-MM-DD); active assignments in the old commune end then.")
        var on: String

        func run() async throws {
            let store = try await location.openStore()
            do {
                let moved = try await store.rotate(person: person, toCode: to, on: on)
                print("moved " + moved.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + " to \(to)")
            } catch let refusal as HubError {
                throw ValidationError(refusal.message)
            }
        }
    }
}
