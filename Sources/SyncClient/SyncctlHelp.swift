import Foundation
import SyncConfig

/// `syncctl --help` in the technician's language: every abstract, discussion and option help
/// of every subcommand. Both languages are built with the memberwise initialiser, so a text
/// missing from one does not compile. Help is printed before the command line is parsed, so
/// the language comes from `--lang` as typed, the locale, or the configuration file the
/// command line names (or the default one) — `SyncctlHelp.chosen`.
public struct SyncctlHelp: Sendable {
    public let syncctl: String
    public let configPath: String
    public let language: String
    public let database: String
    public let status: String
    public let statusJSON: String
    public let sync: String
    public let doctor: String
    public let conflicts: String
    public let conflictsAll: String
    public let log: String
    public let logConfig: String
    public let logDatabase: String
    public let logToday: String
    public let logTable: String
    public let logRow: String
    public let logLimit: String
    public let logAfter: String
    public let logJSON: String
    public let refused: String
    public let refusedDiscussion: String
    public let refusedList: String
    public let refusedAll: String
    public let refusedRetry: String
    public let refusedClear: String
    public let refusedRow: String
    public let initialise: String
    public let initReplica: String
    public let initRole: String
    public let initConfig: String
    public let initDiscussion: String
    public let schema: String
    public let report: String
    public let reportDiscussion: String
    public let reportAsOf: String
    public let reportJSON: String
    public let review: String
    public let reviewHub: String
    public let reviewCredential: String
    public let reviewCAFile: String
    public let reviewInsecure: String
    public let reviewList: String
    public let reviewState: String
    public let reviewListJSON: String
    public let reviewShow: String
    public let reviewItem: String
    public let reviewResolve: String
    public let reviewPick: String
    public let reviewValue: String
    public let reviewWhy: String
    public let reviewRevert: String
    public let reviewDecision: String
    public let reviewRevertWhy: String

    /// Every text, in declaration order (the tests read them all).
    public var all: [String] { Mirror(reflecting: self).children.compactMap { $0.value as? String } }

    public static func texts(_ language: OfficeLanguage) -> SyncctlHelp {
        switch language {
        case .vi: return vietnamese
        case .en: return english
        }
    }

    /// The help of this run of syncctl: `--lang` as typed, then the locale, then the `language`
    /// of the configuration file named by `--config` (or the default one, when readable).
    public static func chosen(
        arguments: [String] = CommandLine.arguments, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> SyncctlHelp {
        func value(of option: String) -> String? {
            for (index, argument) in arguments.enumerated() {
                if argument == option, index + 1 < arguments.count { return arguments[index + 1] }
                if argument.hasPrefix(option + "=") { return String(argument.dropFirst(option.count + 1)) }
            }
            return nil
        }
        let flag = value(of: "--lang").flatMap(OfficeLanguage.init(rawValue:))
        // The parser builds every help text on each run; the configuration is read only when
        // one is printed (syncctl alone, --help, -h, help), not on every command.
        let printsHelp = arguments.count <= 1 || arguments.dropFirst().contains { ["--help", "-h", "help"].contains($0) }
        let configured = printsHelp ? (try? CommuneSettings.load(value(of: "--config") ?? "/etc/communesync/commune.toml"))?.language : nil
        return texts(OfficeLanguage.chosen(flag: flag, configured: configured, environment: environment))
    }

    /// The help this process prints.
    public static let current = chosen()
}
