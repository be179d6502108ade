import ArgumentParser
import MergeEngine
import Register
import Replica
import SyncClient
import SyncCore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: SyncctlHelp.current.initialise)

    @OptionGroup var location: ReplicaLocation

    @Option(help: ArgumentHelp(SyncctlHelp.current.initReplica))
    var replica: String

    @Option(help: ArgumentHelp(SyncctlHelp.current.initRole))
    var role: String = "commune"

    @OptionGroup var language: LanguageChoice

    func run() throws {
        guard let id = ReplicaID(rawValue: replica) else { throw ValidationError(ReplicaError.invalidReplicaID(replica).description) }
        guard let role = ReplicaRole(rawValue: role) else { throw ValidationError("--role must be 'commune' or 'district'") }
        let created = try Replica.create(at: location.database, id: id, role: role)
        print(language.catalogue(nil).created(district: role == .district, replica: id.rawValue, path: location.database,
                                              schema: try created.schemaVersion))
    }
}
