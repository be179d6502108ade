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
        var figures: [(kind: StoreKind, timed: Timed)] = []
        for kind in StoreKind.allCases {
            var options = try BenchStoreOptions.parse([])
            options.store = kind
            options.postgresURL = postgresURL
            let bench = try await options.open(in: directory.appendingPathComponent(kind.rawValue))
            defer { bench.close() }
            let timed = try await time(on: try await bench.hubStore())
            figures.append((kind, timed))
            print(kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                + String(format: "%d changes: fresh %7.1f ms, re-sent %7.1f ms, re-sent/fresh %.2f; another office's one-row push "
                             + "%.1f ms alone, %.1f ms beside a re-sent batch (medians of %d)",
                         timed.changes, timed.fresh * 1000, timed.resent * 1000, timed.resent / timed.fresh, timed.alone * 1000,
                         timed.beside * 1000, rounds))
        }
        print("target: re-sent <= 2x fresh on postgresql")
        let keys = figures.map { kind, timed in
            let name = kind.rawValue
            return "\"\(name)_fresh_ms\": " + String(format: "%.1f", timed.fresh * 1000) + ", \"\(name)_resent_ms\": "
                + String(format: "%.1f", timed.resent * 1000) + ", \"\(name)_ratio\": " + String(format: "%.2f", timed.resent / timed.fresh)
                + ", \"\(name)_other_push_alone_ms\": " + String(format: "%.1f", timed.alone * 1000)
                + ", \"\(name)_other_push_beside_ms\": " + String(format: "%.1f", timed.beside * 1000)
        }
        print("{\"changes\": \(figures.first?.timed.changes ?? 0), " + keys.joined(separator: ", ") + "}")
    }

    struct Timed {
        var changes = 0
        var fresh = 0.0, resent = 0.0
        /// Another office's one-row push, alone and started just after a re-sent batch.
        var alone = 0.0, beside = 0.0
    }

    /// Medians of: a fresh push of new person records (`changes` changes), the same batch
    /// again, and another office's one-row push alone and beside that batch sent once more.
    private func time(on hub: HubStore) async throws -> Timed {
        let office: ReplicaID = "22499", other: ReplicaID = "22500"
        let caller = try await hub.authenticate("Bearer " + (try await hub.issueCredential(for: office, scope: "unit-22499")))
        let otherCaller = try await hub.authenticate("Bearer " + (try await hub.issueCredential(for: other, scope: "unit-22500")))
        let columns = RegisterSchema.current.table(named: "persons")!.columns.count
        let people = (changes + columns - 1) / columns
        var fresh: [Double] = [], resent: [Double] = [], alone: [Double] = [], beside: [Double] = []
        var count = 0
        for round in 0..<rounds {
            let batch = Self.persons(of: office, people, from: round * people)
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
            start = ContinuousClock.now
            _ = try await hub.push(Self.persons(of: other, 1, from: 2 * round), from: otherCaller)
            alone.append(seconds(since: start))
            async let thirdTime = hub.push(batch, from: caller)
            try await Task.sleep(for: .milliseconds(1))
            start = ContinuousClock.now
            _ = try await hub.push(Self.persons(of: other, 1, from: 2 * round + 1), from: otherCaller)
            beside.append(seconds(since: start))
            _ = try await thirdTime
        }
        return Timed(changes: count, fresh: median(fresh), resent: median(resent), alone: median(alone), beside: median(beside))
    }

    /// `people` new person records of `office`'s unit as its log numbers them: the n-th
    /// record's columns take the counters of block `first + n + 1`.
    static func persons(of office: ReplicaID, _ people: Int, from first: Int) -> [Change] {
        let columns = RegisterSchema.current.table(named: "persons")!.columns.map(\.name)
        let stamp = HybridTimestamp(wallMillis: UInt64(Date().timeIntervalSince1970 * 1000) - 60_000)
        return (0..<people).flatMap { person -> [Change] in
            var values = PersonFixture(index: first + person, round: Int(office.rawValue) ?? 0).values
            values[1] = .text("unit-\(office.rawValue)")
            let block = UInt64(first + person + 1) * DotBlock.size
            return zip(columns, values.dropFirst()).enumerated().map { index, field in
                Change(table: "persons", row: values[0].textValue!, operation: .set(column: field.0, value: field.1),
                       dot: Dot(replica: office, counter: block + UInt64(index)), context: VersionVector(), timestamp: stamp)
            }
        }
    }
}
