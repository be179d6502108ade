import ArgumentParser

/// `synchub`: the district hub.
@main
struct SyncHub: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synchub",
        abstract: "CommuneSync district hub: the sync API commune offices reconcile with.",
        subcommands: [ServeCommand.self, CredentialCommand.self, ReviewerCommand.self, OfficesCommand.self, ReportCommand.self, UnitsCommand.self, BackupCommand.self],
        defaultSubcommand: ServeCommand.self)
}

/// Where hub.toml is.
struct HubConfigLocation: ParsableArguments {
    @Option(name: .long, help: "Path of hub.toml.")
    var config: String = "/etc/communesync/hub.toml"
}
