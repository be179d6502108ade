import ArgumentParser

/// `syncbench NAME`: benchmarks. Each prints what it measured for people and, as its last
/// line, one JSON object of its figures. Run in release mode:
/// `swift run -c release syncbench capture`.
@main
struct SyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syncbench",
        abstract: "CommuneSync benchmarks (figures as ratios against a baseline measured in the same run).",
        subcommands: [CaptureBenchmark.self, SyncBenchmark.self, LoadBenchmark.self, RegisterBenchmark.self, ReorganiseBenchmark.self, GrowthBenchmark.self,
                      DuplicatesBenchmark.self, TrickleBenchmark.self, ResendBenchmark.self, IdleBenchmark.self, FixtureCommand.self])
}
