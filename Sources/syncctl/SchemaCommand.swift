import ArgumentParser
import MergeEngine
import Register
import Replica

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the register schema this release uses (the source of Config/schema.sql).")

    func run() throws {
        print(RegisterSchema.current.document, terminator: "")
    }
}
