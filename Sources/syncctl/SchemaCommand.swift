import ArgumentParser
import MergeEngine
import Register
import Replica
import SyncClient

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: SyncctlHelp.current.schema)

    func run() throws {
        print(RegisterSchema.current.document, terminator: "")
    }
}
