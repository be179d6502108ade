import ArgumentParser
import Foundation
import MergeEngine
import Register
import Replica
import SyncCore

/// Captured writes against plain SQLite writes of the same rows, on the same machine, in the
/// same run: inserts of person records in transactions of `--batch` rows, into a replica
/// (triggers capture every column) and into a file with the same tables and no triggers.
struct CaptureBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Captured write rate vs plain SQLite write rate for the same rows.")

    @Option(help: "Rows inserted per measurement.")
    var rows = 20_000

    @Option(help: "Rows per transaction (an office import writes in batches).")
    var batch = 500

    @Option(help: "Measurements of each kind; the best of each is reported.")
    var rounds = 3

    func run() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncbench-capture-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let columns = RegisterSchema.current.table(named: "persons")!.columns.map(\.name)
        let insert = "INSERT INTO persons(id, \(columns.joined(separator: ", "))) VALUES (?\(String(repeating: ", ?", count: columns.count)))"

        var plain = Rates()
        var captured = Rates()
        var capturedRows = 0
        var foldedPerSecond = 0.0
        // Alternate the two kinds so that machine noise hits both alike.
        for round in 0..<rounds {
            let plainPath = directory.appendingPathComponent("plain-\(round).db").path
            let plainFile = try SQLiteDatabase(path: plainPath)
            try plainFile.execute("PRAGMA journal_mode = WAL")
            try plainFile.execute(RegisterSchema.current.registerTablesSQL)
            plain.keepBest(try measure(plainFile, insert: insert, round: round))

            let replicaPath = directory.appendingPathComponent("replica-\(round).db").path
            let replica = try Replica.create(at: replicaPath, id: "22499", role: .commune)
            captured.keepBest(try measure(replica.database, insert: insert, round: round))
            capturedRows = Int(try replica.database.scalar("SELECT count(*) FROM _sync_log")?.integerValue ?? 0)
            // What syncd does later, off the writers' path: settle values, dots and stamps.
            let start = ContinuousClock.now
            try replica.fold()
            foldedPerSecond = max(foldedPerSecond, Double(capturedRows) / seconds(since: start))
        }
        guard capturedRows == 2 * rows else {
            throw ValidationError("expected \(2 * rows) captured row writes, found \(capturedRows)")
        }
        let insertRatio = captured.inserts / plain.inserts
        let updateRatio = captured.updates / plain.updates
        let ratio = captured.overall / plain.overall
        print("\(rows) person rows (\(columns.count) columns) inserted, then each updated once (2 columns),")
        print("in transactions of \(batch); best of \(rounds) rounds; every captured column is one change")
        print("                   plain rows/s   captured rows/s   ratio")
        print(String(format: "inserts          %14.0f %17.0f   %5.2f", plain.inserts, captured.inserts, insertRatio))
        print(String(format: "updates          %14.0f %17.0f   %5.2f", plain.updates, captured.updates, updateRatio))
        print(String(format: "all writes       %14.0f %17.0f   %5.2f   (target >= 0.5)", plain.overall, captured.overall, ratio))
        print(String(format: "syncd folds the captured writes afterwards at %.0f rows/s", foldedPerSecond))
        print(String(format: #"{"captured_per_s": %.0f, "plain_per_s": %.0f, "ratio": %.3f, "insert_ratio": %.3f, "update_ratio": %.3f, "folded_per_s": %.0f}"#,
                     captured.overall, plain.overall, ratio, insertRatio, updateRatio, foldedPerSecond))
    }

    struct Rates {
        var inserts = 0.0
        var updates = 0.0
        var overall = 0.0

        mutating func keepBest(_ other: Rates) {
            inserts = max(inserts, other.inserts)
            updates = max(updates, other.updates)
            overall = max(overall, other.overall)
        }
    }

    /// Rows per second for `rows` inserts of realistic person records, then one update of two
    /// columns of each (an office correcting a phone number and a status).
    private func measure(_ database: SQLiteDatabase, insert: String, round: Int) throws -> Rates {
        let people = (0..<rows).map { PersonFixture(index: $0, round: round).values }
        let insertSeconds = try timed(people, in: database) { try database.run(insert, $0) }
        let updateSeconds = try timed(people, in: database) { person in
            try database.run(
                "UPDATE persons SET phone = ?, status = ? WHERE id = ?",
                [.text("0912\(person[7].description.suffix(6))"), .text("transferred"), person[0]])
        }
        return Rates(
            inserts: Double(rows) / insertSeconds, updates: Double(rows) / updateSeconds,
            overall: Double(2 * rows) / (insertSeconds + updateSeconds))
    }

    /// Seconds to run `write` on every row, in transactions of `batch` rows.
    private func timed(_ people: [[Value]], in database: SQLiteDatabase, _ write: ([Value]) throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        var index = 0
        while index < people.count {
            try database.transaction {
                for person in people[index..<min(index + batch, people.count)] { try write(person) }
            }
            index += batch
        }
        return seconds(since: start)
    }

    private func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// A plausible person record, deterministic from its index.
struct PersonFixture {
    let index: Int
    let round: Int

    var values: [Value] {
        let family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"][index % 8]
        let given = ["Văn An", "Thị Bình", "Minh Châu", "Quốc Dũng", "Thu Hà", "Đức Long"][index % 6]
        return [
            .text(String(format: "%08x-%04x-4000-8000-%012x", round, index % 65_536, index)),
            .text("c-22499"), .text("\(family) \(given)"),
            .text(String(format: "19%02d-%02d-%02d", 60 + index % 40, 1 + index % 12, 1 + index % 28)),
            .text(index % 2 == 0 ? "male" : "female"), .text(index % 5 == 0 ? "Dao" : "Kinh"),
            // One citizen id per person (index and round): the hub would take two as one person created twice.
            .text(String(format: "02%02d%08d", round % 100, index % 100_000_000)), .text(String(format: "09%08d", index)), .null,
            .integer(Int64(index % 3 == 0 ? 1 : 0)), .null, .text("12/12"), .text("university"),
            .text("Luật"), .text("intermediate"), .text("chuyên viên"), .text("basic"), .null,
            .text("active"), .null, .null,
        ]
    }
}
