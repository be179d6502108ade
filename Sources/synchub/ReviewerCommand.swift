import ArgumentParser
import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import SyncConfig
import SyncCore

/// `synchub reviewer`: accounts district reviewers log in to the desk with, by name and
/// password (scripts keep using tokens: 'synchub credential issue --reviewer').
struct ReviewerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reviewer", abstract: "Manage the accounts reviewers log in to the review desk with (name and password).",
        subcommands: [Add.self, Passwd.self, Remove.self])

    /// The password: the first line of --password-file, or of standard input (so it never
    /// appears in a command line or the shell's history).
    struct Password: ParsableArguments {
        @Option(name: .customLong("password-file"), help: "File whose first line is the password; without it, the first line of standard input.")
        var passwordFile: String?

        func read() throws -> String {
            let text: String
            if let passwordFile {
                do { text = try String(contentsOfFile: passwordFile, encoding: .utf8) } catch {
                    throw ValidationError("cannot read \(passwordFile): \(error.localizedDescription)")
                }
            } else {
                if isatty(STDIN_FILENO) != 0 { FileHandle.standardError.write(Data("Mật khẩu / password: ".utf8)) }
                text = readLine(strippingNewline: true) ?? ""
            }
            return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
    }

    static func account(_ name: String) throws -> ReplicaID {
        guard let account = ReplicaID(rawValue: name) else {
            throw ValidationError("a reviewer's name is letters, digits, '-', '_' or '.', without spaces (e.g. nguyen.lan)")
        }
        return account
    }

    static func set(_ name: String, _ password: Password, location: HubConfigLocation, verb: String) async throws {
        let account = try account(name)
        let store = try await location.openStore()
        do {
            try await store.setReviewerPassword(account, password: try password.read())
        } catch let refusal as HubError {
            throw ValidationError(refusal.message)
        }
        print("\(verb) \(account): logs in to /review with this name and password")
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a reviewer account with a password (at least 10 characters).")
        @OptionGroup var location: HubConfigLocation
        @Argument(help: "The reviewer's name, e.g. nguyen.lan.") var name: String
        @OptionGroup var password: Password

        func run() async throws { try await ReviewerCommand.set(name, password, location: location, verb: "added") }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a new password; the account's open sessions end.")
        @OptionGroup var location: HubConfigLocation
        @Argument(help: "The reviewer's name.") var name: String
        @OptionGroup var password: Password

        func run() async throws { try await ReviewerCommand.set(name, password, location: location, verb: "new password for") }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a reviewer account; its open sessions end at their next page.")
        @OptionGroup var location: HubConfigLocation
        @Argument(help: "The reviewer's name.") var name: String

        func run() async throws {
            let account = try ReviewerCommand.account(name)
            let store = try await location.openStore()
            guard try await store.credentials().contains(where: { $0.replica == account && $0.role == .reviewer }),
                try await store.revokeCredential(of: account)
            else { throw ValidationError("there is no reviewer \(account) at this hub ('synchub credential list' shows who there is)") }
            print("removed \(account)")
        }
    }
}
