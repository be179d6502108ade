import ArgumentParser
import ArticleRegisters

/// `syncbench fixture NAME`: the SQL of a register built from a source article's figures,
/// for `Deploy/fixtures/load.sh` to type at a hub.
struct FixtureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixture",
        abstract: "Print the SQL of a register built from a source article's figures (dam-ha-2017, long-bien-2023).")

    @Argument(help: "dam-ha-2017 or long-bien-2023; --list names them with the day their figures are read on.")
    var name: String?

    @Flag(help: "List the registers: name, as-of date, year rated, trainings counted from, summary.")
    var list = false

    func run() throws {
        if list || name == nil {
            for register in ArticleRegister.all {
                print("\(register.name)\tas of \(register.asOf)\tratings \(register.ratingYear)\ttrainings since \(register.trainingsSince)\t\(register.summary)")
            }
            return
        }
        guard let name, let register = ArticleRegister.named(name) else {
            throw ValidationError("no register named '\(name ?? "")': the registers are \(ArticleRegister.all.map(\.name).joined(separator: ", "))")
        }
        print(register.sql, terminator: "")
    }
}
