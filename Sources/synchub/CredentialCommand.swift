import ArgumentParser
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import SyncConfig
import SyncCore

struct CredentialCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credential", abstract: "Manage the credentials communes sync with.",
        subcommands: [Issue.self, List.self, Revoke.self])

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
            guard let commune = ReplicaID(rawValue: replica) else {
                throw ValidationError("replica ids are official codes: letters, digits, '-', '_', '.'")
            }
            let store = try await location.openStore()
            do {
                print(try await store.issueCredential(for: commune, scope: scope, reviewer: reviewer))
            } catch let refusal as HubError {
                throw ValidationError(refusal.message)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the credentials the hub holds: who, which role and scope, issued when.")

        @OptionGroup var location: HubConfigLocation

        func run() async throws {
            let store = try await location.openStore()
            let issued = try await store.credentials()
            print("replica".padding(toLength: 16, withPad: " ", startingAt: 0) + "role".padding(toLength: 10, withPad: " ", startingAt: 0)
                + "scope".padding(toLength: 16, withPad: " ", startingAt: 0) + "issued")
            for credential in issued {
                print(credential.replica.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + credential.role.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + credential.scope.padding(toLength: 16, withPad: " ", startingAt: 0) + credential.issuedAt
                    + (credential.acceptedUntil.map { "  (unit ended: accepted until \($0))" } ?? ""))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract: "Revoke a credential: the hub refuses it from the next request on. What that office sent stays.")

        @OptionGroup var location: HubConfigLocation

        @Option(help: "The replica id (commune code) or reviewer name whose credential to revoke.")
        var replica: String

        func run() async throws {
            guard let holder = ReplicaID(rawValue: replica) else {
                throw ValidationError("replica ids are official codes: letters, digits, '-', '_', '.'")
            }
            guard try await location.openStore().revokeCredential(of: holder) else {
                throw ValidationError("the hub holds no credential for \(holder): 'synchub credential list' shows those it holds")
            }
            print("revoked the credential of \(holder); its requests are refused from now on")
        }
    }
}

extension HubConfigLocation {
    func openStore() async throws -> HubStore {
        let settings = try HubSettings.load(config)
        guard let district = ReplicaID(rawValue: settings.replica) else {
            throw ValidationError("\(config): 'replica' must be the district's official code, not '\(settings.replica)'")
        }
        return try await settings.openStore(district: district, rules: nil)
    }
}
