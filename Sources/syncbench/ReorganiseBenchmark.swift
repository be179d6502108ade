import ArgumentParser
import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import MergeEngine
import Register
import Replica
import SyncCore

/// A province's 2025 reorganisation on a loaded hub: every old commune of the province with
/// `--people` person records, then `HubStore.reorganise` from the national mapping, timed.
/// The baseline, measured in the same run, is what moving the same rows costs with plain
/// SQL: one `UPDATE ... SET commune_id` per old commune on an indexed SQLite table without
/// triggers, in one transaction.
struct ReorganiseBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reorganise",
        abstract: "Time a province's reorganisation (moving every record to its successor) against plain SQL updates.")

    @Option(help: "The national mapping file.")
    var mapping = "Deploy/data/commune_mapping_2025.csv"

    @Option(help: "Province code (2 digits) whose old communes the hub holds.")
    var province = "22"

    @Option(help: "Person records per old commune.")
    var people = 100

    @OptionGroup var store: BenchStoreOptions

    func run() async throws {
        let lines = try MappingFile.lines(at: mapping).filter { $0.oldProvince == province }
        guard !lines.isEmpty else { throw ValidationError("no line of \(mapping) has old_province_code \(province)") }
        var names: [String: String] = [:]
        for line in lines { names[line.succession.oldCode] = line.oldName }
        let oldCodes = names.keys.sorted()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncbench-reorganise-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bench = try await store.open(in: directory.appendingPathComponent("hub"))
        defer { bench.close() }
        let hub = try await bench.hubStore()
        try await hub.insertDistrictRows("units", oldCodes.map { code in
            let name = names[code]!
            let kind = name.hasPrefix("Phường") ? "ward" : name.hasPrefix("Thị trấn") ? "township" : "commune"
            return (id: "unit-\(code)", values: ["code": .text(code), "name": .text(name), "kind": .text(kind), "effective_from": .text("2008-01-01")])
        })
        let server = try await RegisterBenchmark.Hub(store: hub)
        let loaded = try await server.load(oldCodes.compactMap { ReplicaID(rawValue: $0) }, people: people)
        await server.stop()
        print("hub (\(store.store.rawValue)): \(oldCodes.count) old communes of province \(province) x \(people) people, "
            + "\(loaded.changes) field changes loaded")

        let start = ContinuousClock.now
        let report = try await hub.reorganise(lines.map(\.succession), on: "2025-07-01")
        let elapsed = seconds(since: start)
        let moved = report.moved.values.reduce(0, +)
        let baseline = try Self.plainUpdates(oldCodes: oldCodes, people: people, in: directory.appendingPathComponent("plain.db").path)
        let rate = Double(moved) / elapsed
        print(String(format: "reorganise: %d ended, %d created, %d kept; %d records moved in %.2f s (%.0f records/s)",
                     report.ended.count, report.created.count, report.kept.count, moved, elapsed, rate))
        print(String(format: "plain SQLite UPDATE of commune_id, same rows: %.3f s (%.0f rows/s); ratio %.3f",
                     baseline, Double(moved) / baseline, rate / (Double(moved) / baseline)))
        print(String(format: #"{"store": "%@", "old_units": %d, "records_moved": %d, "seconds": %.3f, "records_per_s": %.0f, "plain_update_per_s": %.0f, "ratio": %.4f}"#,
                     store.store.rawValue, oldCodes.count, moved, elapsed, rate, Double(moved) / baseline, rate / (Double(moved) / baseline)))
    }

    /// Seconds to move the same rows with plain SQL on a table without triggers.
    static func plainUpdates(oldCodes: [String], people: Int, in path: String) throws -> Double {
        let database = try SQLiteDatabase(path: path)
        let columns = RegisterSchema.current.table(named: "persons")!.columns.map(\.name)
        try database.execute("CREATE TABLE persons(id TEXT PRIMARY KEY, \(columns.joined(separator: ", "))); CREATE INDEX persons_by_commune ON persons(commune_id)")
        try database.transaction {
            for (unitIndex, code) in oldCodes.enumerated() {
                for person in 0..<people {
                    var values = PersonFixture(index: unitIndex * 10_000 + person, round: 1).values
                    values[1] = .text("unit-\(code)")
                    try database.run(
                        "INSERT INTO persons(id, \(columns.joined(separator: ", "))) VALUES (?\(String(repeating: ", ?", count: columns.count)))",
                        Array(values.prefix(columns.count + 1)))
                }
            }
        }
        let start = ContinuousClock.now
        try database.transaction {
            for code in oldCodes {
                try database.run("UPDATE persons SET commune_id = ? WHERE commune_id = ?", [.text("unit-new-\(code)"), .text("unit-\(code)")])
            }
        }
        return seconds(since: start)
    }
}
