import ArgumentParser
import Foundation
import MergeEngine
import Register
import Replica
import SyncClient
import SyncConfig
import SyncCore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: SyncctlHelp.current.initialise,
        discussion: SyncctlHelp.current.initDiscussion)

    @OptionGroup var location: ReplicaLocation

    @Option(help: ArgumentHelp(SyncctlHelp.current.initReplica))
    var replica: String?

    @Option(help: ArgumentHelp(SyncctlHelp.current.initRole))
    var role: String = "commune"

    @Option(help: ArgumentHelp(SyncctlHelp.current.initConfig))
    var config: String?

    @OptionGroup var language: LanguageChoice

    func validate() throws {
        if config == nil && replica == nil { throw ValidationError("give --config (an office's new computer) or --replica (an empty file)") }
        if config != nil && replica != nil { throw ValidationError("--config takes the replica from commune.toml: leave --replica out") }
    }

    func run() throws {
        if let config { return try fillFromHub(config) }
        guard let replica, let id = ReplicaID(rawValue: replica) else { throw ValidationError(ReplicaError.invalidReplicaID(replica ?? "").description) }
        guard let role = ReplicaRole(rawValue: role) else { throw ValidationError("--role must be 'commune' or 'district'") }
        let created = try Replica.create(at: location.database, id: id, role: role)
        print(language.catalogue(nil).created(district: role == .district, replica: id.rawValue, path: location.database,
                                              schema: try created.schemaVersion))
    }

    /// An office's new computer: its data file made and filled from the hub, then what the
    /// hub last heard from the computer it replaces, so the technician knows what was lost.
    private func fillFromHub(_ path: String) throws {
        let settings = try CommuneSettings.load(path)
        let words = language.catalogue(settings)
        guard !FileManager.default.fileExists(atPath: settings.database) else {
            print(words.initRefused(path: settings.database))
            throw ExitCode(1)
        }
        let replica = try CommuneReplica.open(settings)
        let round: RoundReport
        do {
            round = try SyncSession(replica: replica, settings: settings).round()
        } catch let error as SyncError {
            handOver(settings.database)
            print(words.sync(.failed(why: SyncCommand.why(RoundFailure(error), "\(error)", in: words))))
            throw ExitCode(error.isTransient ? 2 : 1)
        }
        handOver(settings.database)
        print(words.filledNewComputer(path: settings.database, rows: round.snapshotRows))
        print(round.previousComputer.map { SyncCommand.previous($0, in: words) } ?? words.noPreviousComputer)
    }

    /// Made by root for syncd: the file and its companions belong to the data directory's
    /// owner and group (the service and the office writers), read-write for both, as syncd
    /// would have made them.
    private func handOver(_ database: String) {
        guard geteuid() == 0 else { return }
        let directory = (database as NSString).deletingLastPathComponent
        var info = stat()
        guard stat(directory.isEmpty ? "." : directory, &info) == 0 else { return }
        for file in [database, database + "-wal", database + "-shm"] where FileManager.default.fileExists(atPath: file) {
            _ = chown(file, info.st_uid, info.st_gid)
            _ = chmod(file, 0o660)
        }
    }
}
