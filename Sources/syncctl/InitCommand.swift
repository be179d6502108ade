import ArgumentParser
import MergeEngine
import Register
import Replica
import SyncCore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new, empty replica file with the register tables and capture triggers.")

    @OptionGroup var location: ReplicaLocation

    @Option(help: "Replica id: the official code of the commune (e.g. 22499) or of the district for the hub.")
    var replica: String

    @Option(help: "commune (an office) or district (the hub).")
    var role: String = "commune"

    func run() throws {
        guard let id = ReplicaID(rawValue: replica) else { throw ValidationError(ReplicaError.invalidReplicaID(replica).description) }
        guard let role = ReplicaRole(rawValue: role) else { throw ValidationError("--role must be 'commune' or 'district'") }
        let created = try Replica.create(at: location.database, id: id, role: role)
        print("created \(role.rawValue) replica \(id) at \(location.database) (register schema \(try created.schemaVersion))")
    }
}
