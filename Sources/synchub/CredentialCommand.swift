import ArgumentParser
import Hub
import SyncConfig
import SyncCore

struct CredentialCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credential", abstract: "Manage the credentials communes sync with.",
        subcommands: [Issue.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue",
            abstract: "Issue (or replace) a commune's credential and print it once; only its hash is kept.")

        @OptionGroup var location: HubConfigLocation

        @Option(help: "The commune's replica id (its official code), or the reviewer's name with --reviewer.")
        var replica: String

        @Option(help: "units.id of the commune's unit, if it cannot be found by its code in the units table.")
        var scope: String?

        @Flag(help: "A credential for district review staff (the review desk), not for a commune.")
        var reviewer = false

        func run() async throws {
            let settings = try HubSettings.load(location.config)
            guard let district = ReplicaID(rawValue: settings.replica), let commune = ReplicaID(rawValue: replica) else {
                throw ValidationError("replica ids are official codes: letters, digits, '-', '_', '.'")
            }
            let store = try HubStore(path: settings.database, district: district)
            print(try await store.issueCredential(for: commune, scope: scope, reviewer: reviewer))
        }
    }
}
