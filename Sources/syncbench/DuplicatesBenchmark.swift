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

/// What duplicate detection costs a push: an office pushes `--people` new persons with
/// distinct citizen ids (the baseline), another as many persons all sharing one citizen id,
/// in one push each, rounds alternating; the medians and their ratio are printed, with how
/// many review items the shared citizen ids opened (one per round is right).
struct DuplicatesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplicates",
        abstract: "Time a push of persons sharing one citizen id against a push of as many ordinary persons.")

    @Option(help: "Persons per push (two changes each: commune_id and citizen_id).")
    var people = 1000

    @Option(help: "Rounds of both pushes; medians are printed.")
    var rounds = 5

    @OptionGroup var store: BenchStoreOptions

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncbench-duplicates-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bench = try await store.open(in: directory.appendingPathComponent("hub"))
        defer { bench.close() }
        let hub = try await bench.hubStore()
        let codes: [ReplicaID] = ["06913", "06916"]
        try await hub.insertDistrictRows("units", codes.map { code in
            (id: "unit-\(code.rawValue)", values: ["code": .text(code.rawValue), "name": .text("Xã \(code.rawValue)"), "kind": .text("commune"),
                                                   "effective_from": .text("2008-01-01")])
        })
        let ordinaryOffice = try await hub.authenticate("Bearer " + (try await hub.issueCredential(for: codes[0], scope: "unit-06913")))
        let sharingOffice = try await hub.authenticate("Bearer " + (try await hub.issueCredential(for: codes[1], scope: "unit-06916")))
        let reviewer = try await hub.authenticate("Bearer " + (try await hub.issueCredential(for: "90001", scope: nil, reviewer: true)))

        let stamp = HybridTimestamp(wallMillis: UInt64(Date().timeIntervalSince1970 * 1000) - 60_000)
        func batch(of office: Caller, round: Int, citizenID: (Int) -> String) -> [Change] {
            (0..<people).flatMap { person -> [Change] in
                let row = "p-\(office.replica.rawValue)-\(round)-\(person)"
                let block = UInt64(round * people + person + 1) * DotBlock.size
                return [("commune_id", Value.text(office.scope)), ("citizen_id", Value.text(citizenID(person)))].enumerated().map { index, field in
                    Change(table: "persons", row: row, operation: .set(column: field.0, value: field.1),
                           dot: Dot(replica: office.replica, counter: block + UInt64(index)), context: VersionVector(), timestamp: stamp)
                }
            }
        }
        func timed(_ changes: [Change], from office: Caller) async throws -> Double {
            let start = ContinuousClock.now
            let response = try await hub.push(changes, from: office)
            guard response.refused.isEmpty else { throw ValidationError("the hub refused \(response.refused.count) changes") }
            return seconds(since: start)
        }
        var ordinary: [Double] = []
        var sharing: [Double] = []
        for round in 0..<rounds {
            let plain = batch(of: ordinaryOffice, round: round) { String(format: "0%02d%09d", round, $0) }
            let shared = batch(of: sharingOffice, round: round) { _ in String(format: "1%02d000000000", round) }
            if round.isMultiple(of: 2) {
                ordinary.append(try await timed(plain, from: ordinaryOffice))
                sharing.append(try await timed(shared, from: sharingOffice))
            } else {
                sharing.append(try await timed(shared, from: sharingOffice))
                ordinary.append(try await timed(plain, from: ordinaryOffice))
            }
        }
        var items = 0
        var after = ""
        while true {
            let page = try await hub.conflicts(state: "all", after: after, limit: 1000, for: reviewer)
            items += page.filter { $0.kind == "duplicate" }.count
            guard page.count == 1000, let last = page.last else { break }
            after = last.id
        }
        let ratio = median(sharing) / median(ordinary)
        print("hub (\(store.store.rawValue)): \(rounds) rounds of one \(people * 2)-change push each")
        print(String(format: "push of %d ordinary persons (distinct citizen ids): median %.3f s", people, median(ordinary)))
        print(String(format: "push of %d persons sharing one citizen id:          median %.3f s; ratio %.2f", people, median(sharing), ratio))
        print("review items opened: \(items) for \(rounds) shared citizen ids")
        print(String(format: #"{"store": "%@", "people": %d, "ordinary_s": %.4f, "sharing_s": %.4f, "ratio": %.3f, "items": %d, "rounds": %d}"#,
                     store.store.rawValue, people, median(ordinary), median(sharing), ratio, items, rounds))
    }
}
