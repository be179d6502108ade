import ArgumentParser
import SyncClient
import SyncConfig

/// `syncctl`: what technicians and reviewers type. One small type per subcommand.
@main
struct SyncCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syncctl",
        abstract: SyncctlHelp.current.syncctl,
        subcommands: [StatusCommand.self, SyncCommand.self, DoctorCommand.self, ConflictsCommand.self, RefusedCommand.self, ReviewCommand.self, InitCommand.self, LogCommand.self, SchemaCommand.self, ReportCommand.self])
}

/// Where the replica file is: every subcommand that reads one takes this.
struct ReplicaLocation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(SyncctlHelp.current.database))
    var database: String = "/var/lib/communesync/replica.db"
}

/// `--lang`: the language of a subcommand's text output.
struct LanguageChoice: ParsableArguments {
    @Option(name: .customLong("lang"), help: ArgumentHelp(SyncctlHelp.current.language))
    var language: OfficeLanguage?

    /// The catalogue to speak with, once the configuration (if any could be read) is known.
    func catalogue(_ settings: CommuneSettings?) -> any OfficeCatalogue {
        OfficeText.catalogue(OfficeLanguage.chosen(flag: language, configured: settings?.language))
    }
}

extension OfficeLanguage: ExpressibleByArgument {}
