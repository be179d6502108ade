import ArgumentParser
import Foundation
import Hub
import Replica
import SyncCore

/// A batch the hub already holds, pushed again (an office killed or cut off before the
/// acknowledgement arrived sends it again): timed against the same batch pushed fresh, on
/// SQLite and on PostgreSQL. The hub runs in this process and is called directly (no HTTP),
/// so the figures are the store's work, write lock and all. Target: re-sent <= 2x fresh on
/// PostgreSQL (issue 28; it was 5-6x, one query per change under the write lock).
struct ResendBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resend",
        abstract: "Time a re-sent push (a batch the hub holds) against the same push fresh, on SQLite and on PostgreSQL.")

    @Option(help: "Changes per batch, in whole person records (one change per column of persons).")
    var changes = 2100

    @Option(help: "Batches timed per store (the median is reported).")
    var rounds = 7

    @Option(help: "PostgreSQL to use (an empty database); without it, a throw-away cluster is started with Deploy/postgres-test.sh.")
    var postgresURL: String?

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncbench-resend-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var figures: [(StoreKind, fresh: Double, resent: Double)] = []
        var count = 0
        for kind in StoreKind.allCases {
            var options = try BenchStoreOptions.parse([])
            options.store = kind
            options.postgresURL = postgresURL
            let bench = try await options.open(in: directory.appendingPathComponent(kind.rawValue))
            defer { bench.close() }
            let timed = try await time(on: try await bench.hubStore())
            count = timed.changes
            figures.append((kind, timed.fresh, timed.resent))
            print(kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                + String(format: "%d changes: fresh %7.1f ms, re-sent %7.1f ms, re-sent/fresh %.2f (median of %d)",
                         count, timed.fresh * 1000, timed.resent * 1000, timed.resent / timed.fresh, rounds))
        }
        print("target: re-sent <= 2x fresh on postgresql")
        let keys = figures.map { kind, fresh, resent in
            let name = kind.rawValue
            return "\"\(name)_fresh_ms\": " + String(format: "%.1f", fresh * 1000) + ", \"\(name)_resent_ms\": "
                + String(format: "%.1f", resent * 1000) + ", \"\(name)_ratio\": " + String(format: "%.2f", resent / fresh)
        }
        print("{\"changes\": \(count), " + keys.joined(separator: ", ") + "}")
    }

    /// Median times of a fresh push of new person records (`changes` changes) and of the same batch again.
    private func time(on hub: HubStore) async throws -> (changes: Int, fresh: Double, resent: Double) {
        let office: ReplicaID = "22499"
        let caller = try await hub.authenticate("Bearer " + (try await hub.issueCredential(for: office, scope: "unit-22499")))
        let columns = RegisterSchema.current.table(named: "persons")!.columns.map(\.name)
        let people = (changes + columns.count - 1) / columns.count
        let stamp = HybridTimestamp(wallMillis: UInt64(Date().timeIntervalSince1970 * 1000) - 60_000)
        var fresh: [Double] = [], resent: [Double] = []
        var count = 0
        for round in 0..<rounds {
            // As an office's log numbers them: row n's columns take counters of block n.
            let batch = (0..<people).flatMap { person -> [Change] in
                var values = PersonFixture(index: person, round: round + 1).values
                values[1] = .text("unit-22499")
                let block = UInt64(round * people + person + 1) * DotBlock.size
                return zip(columns, values.dropFirst()).enumerated().map { index, field in
                    Change(table: "persons", row: values[0].textValue!, operation: .set(column: field.0, value: field.1),
                           dot: Dot(replica: office, counter: block + UInt64(index)), context: VersionVector(), timestamp: stamp)
                }
            }
            count = batch.count
            var start = ContinuousClock.now
            let first = try await hub.push(batch, from: caller)
            fresh.append(seconds(since: start))
            start = ContinuousClock.now
            let again = try await hub.push(batch, from: caller)
            resent.append(seconds(since: start))
            guard first.applied == batch.count, again.duplicates == batch.count else {
                throw ValidationError("the hub applied \(first.applied) and then counted \(again.duplicates) as held, of \(batch.count)")
            }
        }
        return (count, median(fresh), median(resent))
    }
}
