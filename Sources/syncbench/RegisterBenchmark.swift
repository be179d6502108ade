import ArgumentParser
import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import Logging
import MergeEngine
import Register
import Replica
import SyncClient
import SyncCore
import SyncProtocol

/// A national register on one hub: every unit of the 2025 list (3,321 communes and wards)
/// with `--people` person records each, pushed through the hub's own push path (the bulk
/// load); then one office's bootstrap (snapshot) and pull are timed over HTTP, beside the same
/// on a hub holding only the first 10 units. A hub that serves one office in time of its own
/// scope, not of the whole register, shows the same latency on both.
struct RegisterBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "One office's snapshot and pull latency on a national hub vs a hub of 10 communes.")

    @Option(help: "CSV of units (province_code,province_name,commune_code,commune_name,commune_type).")
    var units = "Deploy/data/communes_national_2025_two_level.csv"

    @Option(help: "Person records per unit.")
    var people = 200

    @Option(help: "Only the first N units of the file (0: all).")
    var limit = 0

    @Option(help: "Timed bootstraps and pulls on each hub; the median is reported.")
    var repeats = 5

    @OptionGroup var store: BenchStoreOptions

    @Flag(help: "Keep the hubs' files (their directory is printed) to look into them afterwards.")
    var keep = false

    @Flag(help: "A register the reports can read: the units, titles and quotas by district write, and a seat and an assignment per person pushed with it; then the staffing report is timed on both hubs.")
    var seats = false

    func run() async throws {
        let codes = try Self.unitCodes(units).prefix(limit > 0 ? limit : Int.max)
        guard codes.count > 10 else { throw ValidationError("\(units) names \(codes.count) units; the comparison needs more than 10") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncbench-register-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer {
            if !keep {
                try? FileManager.default.removeItem(at: directory)
            } else if store.store == .postgresql {
                print("PostgreSQL clusters kept (stopped) in \(directory.path)/national/postgres and small/postgres: 'Deploy/postgres-test.sh resume DIR' starts one and prints its URL for hub.toml's [store]")
            } else {
                print("files kept in \(directory.path)")
            }
        }
        // The office timed: a unit from the middle of the list, inside the first 10 too.
        let probe = Array(codes)[5]

        // Two stores of the same kind: two files, or two throw-away PostgreSQL clusters.
        guard store.postgresURL == nil else {
            throw ValidationError("register compares two hubs, each on an empty store of its own: leave out --postgres-url and it starts two")
        }
        let smallStore = try await store.open(in: directory.appendingPathComponent("small"))
        defer { smallStore.close(keep: keep) }
        let largeStore = try await store.open(in: directory.appendingPathComponent("national"))
        defer { largeStore.close(keep: keep) }
        let small = try await Hub(store: try await smallStore.hubStore())
        _ = try await small.load(Array(codes.prefix(10)), people: people, seats: seats)
        let large = try await Hub(store: try await largeStore.hubStore())
        let loaded = try await large.load(Array(codes), people: people, seats: seats)
        print(String(format: "bulk load: %d units x %d people%@ = %d field changes in %.0f s (%.0f changes/s, through HubStore.push)",
                     codes.count, people, seats ? " with a seat and an assignment each" : "", loaded.changes, loaded.seconds,
                     Double(loaded.changes) / loaded.seconds))
        if seats {
            // What `synchub report staffing` does after opening the store: read the register, count.
            var times: [String: Double] = [:]
            for (name, hub) in [("10 units", small), ("\(codes.count) units", large)] {
                var rounds: [Double] = []
                var lines = 0
                for _ in 0..<repeats {
                    let start = ContinuousClock.now
                    let rows = try await hub.store.registerRows(for: "staffing", asOf: RegisterDate.today())
                    lines = RegisterReports.staffing(rows, asOf: RegisterDate.today()).count
                    rounds.append(seconds(since: start))
                }
                times[name] = median(rounds)
                print(String(format: "staffing report, %@: %.0f ms (median of %d; %d lines)", name, median(rounds) * 1000, repeats, lines))
            }
            print(String(format: #"{"staffing_ms_small": %.1f, "staffing_ms_national": %.1f}"#, times["10 units"]! * 1000,
                         times["\(codes.count) units"]! * 1000))
        }

        var figures: [String: (snapshot: Double, pull: Double)] = [:]
        for (name, hub) in [("10 units", small), ("\(codes.count) units", large)] {
            var snapshots: [Double] = []
            var pulls: [Double] = []
            for round in 0..<repeats {
                let expected = people * (seats ? 3 : 1) + (await hub.referenceRows)
                let (snapshot, pull) = try await hub.timeOffice(of: probe, round: round, expectingRows: expected, in: directory)
                snapshots.append(snapshot)
                pulls.append(pull)
            }
            figures[name] = (median(snapshots), median(pulls))
            await hub.stop()
        }
        let few = figures["10 units"]!, all = figures["\(codes.count) units"]!
        print("one office of unit \(probe) (\(people) people), median of \(repeats), over HTTP on loopback, hub store \(store.store.rawValue):")
        print("                      10 units   \(codes.count) units   ratio")
        print(String(format: "snapshot (bootstrap) %8.1f ms %10.1f ms %7.2f", few.snapshot * 1000, all.snapshot * 1000, all.snapshot / few.snapshot))
        print(String(format: "pull from the start  %8.1f ms %10.1f ms %7.2f", few.pull * 1000, all.pull * 1000, all.pull / few.pull))
        print(String(format: #"{"units": %d, "people": %d, "load_changes_per_s": %.0f, "snapshot_ms_small": %.1f, "snapshot_ms_national": %.1f, "pull_ms_small": %.1f, "pull_ms_national": %.1f, "snapshot_ratio": %.2f, "pull_ratio": %.2f}"#,
                     codes.count, people, Double(loaded.changes) / loaded.seconds, few.snapshot * 1000, all.snapshot * 1000,
                     few.pull * 1000, all.pull * 1000, all.snapshot / few.snapshot, all.pull / few.pull))
    }

    static func unitCodes(_ path: String) throws -> [ReplicaID] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return fields.count >= 3 ? ReplicaID(rawValue: String(fields[2])) : nil
        }
    }

    /// A hub in this process, serving HTTP on a free port of loopback.
    actor Hub {
        let store: HubStore
        let port: Int
        let server: Task<Void, any Error>
        /// Rows of the district's reference tables, which every office's snapshot holds.
        var referenceRows = 0

        init(store: HubStore) async throws {
            var logger = Logger(label: "synchub")
            logger.logLevel = .critical
            self.store = store
            let ports = AsyncStream.makeStream(of: Int.self)
            let app = try HubServer.application(store: store, host: "127.0.0.1", port: 0, logger: logger) { ports.continuation.yield($0) }
            server = Task { try await app.runService() }
            var iterator = ports.stream.makeAsyncIterator()
            guard let port = await iterator.next() else { throw ValidationError("the hub did not start") }
            self.port = port
        }

        func stop() { server.cancel() }

        /// Pushes `people` person records of each unit as that unit's office would, in pushes
        /// of whole 64-counter blocks; with `seats`, first the units, titles and quotas by
        /// district write, and with each person a seat of one of four titles and its assignment.
        func load(_ codes: [ReplicaID], people: Int, seats: Bool = false) async throws -> (changes: Int, seconds: Double) {
            let columns = RegisterSchema.current.table(named: "persons")!.columns.map(\.name)
            let start = ContinuousClock.now
            var total = 0
            let stamp = HybridTimestamp(wallMillis: UInt64(Date().timeIntervalSince1970 * 1000) - 60_000)
            let titles = [("t-ct", "chu_tich_ubnd", "cadre"), ("t-vp", "van_phong_thong_ke", "civil_servant"),
                          ("t-tv", "thu_y", "nonspecialised_commune"), ("t-kn", "khuyen_nong", "nonspecialised_commune")]
            if seats {
                try await store.insertDistrictRows("titles", titles.map { id, code, category in
                    (id, ["code": .text(code), "name_vi": .text(code), "category": .text(category), "level": .text("commune")])
                })
                try await store.insertDistrictRows("units", codes.map { code in
                    ("unit-\(code.rawValue)", ["code": .text(code.rawValue), "name": .text("Xã \(code.rawValue)"), "kind": .text("commune")])
                })
                try await store.insertDistrictRows("quotas", codes.flatMap { code in
                    ["cadre_civil_servant", "nonspecialised_commune"].map { category in
                        ("q-\(code.rawValue)-\(category)", ["unit_id": .text("unit-\(code.rawValue)"), "category": .text(category),
                                                        "max_headcount": .integer(Int64(people)), "legal_basis": .text("NĐ 33/2023/NĐ-CP")])
                    }
                })
                referenceRows = titles.count + codes.count * 3
            }
            for (unitIndex, code) in codes.enumerated() {
                let token = try await store.issueCredential(for: code, scope: "unit-\(code.rawValue)")
                let caller = try await store.authenticate("Bearer \(token)")
                let unit = Value.text("unit-\(code.rawValue)")
                func row(_ table: String, _ id: String, block: Int, _ fields: [(String, Value)]) -> [Change] {
                    fields.enumerated().map { index, field in
                        Change(
                            table: table, row: id, operation: .set(column: field.0, value: field.1),
                            dot: Dot(replica: code, counter: UInt64(block) * DotBlock.size + UInt64(index)), context: VersionVector(), timestamp: stamp)
                    }
                }
                // As an office's log numbers them, counters rising: row n's columns take counters
                // of block n; the persons, then their seats, then their assignments.
                var changes: [Change] = []
                for person in 0..<people {
                    var values = PersonFixture(index: unitIndex * 10_000 + person, round: 1).values
                    values[1] = unit
                    changes += row("persons", values[0].textValue!, block: person + 1, Array(zip(columns, values.dropFirst())))
                }
                if seats {
                    for person in 0..<people {
                        let id = PersonFixture(index: unitIndex * 10_000 + person, round: 1).values[0].textValue!
                        changes += row("positions", "seat-\(id)", block: people + person + 1, [
                            ("commune_id", unit), ("unit_id", unit), ("title_id", .text(titles[person % titles.count].0)),
                            ("seat_no", .integer(Int64(person + 1))), ("capacity", .integer(1)),
                        ])
                    }
                    for person in 0..<people {
                        let id = PersonFixture(index: unitIndex * 10_000 + person, round: 1).values[0].textValue!
                        changes += row("assignments", "a-\(id)", block: 2 * people + person + 1, [
                            ("commune_id", unit), ("person_id", .text(id)), ("position_id", .text("seat-\(id)")), ("kind", .text("primary")),
                            ("start_date", .text("2021-07-01")),
                        ])
                    }
                }
                let perPush = 100 * columns.count
                for chunk in stride(from: 0, to: changes.count, by: perPush) {
                    let response = try await store.push(changes[chunk..<min(chunk + perPush, changes.count)], from: caller)
                    guard response.refused.isEmpty else { throw ValidationError("the hub refused \(response.refused.count) changes") }
                }
                total += changes.count
            }
            return (total, seconds(since: start))
        }

        /// A new office of `code`'s unit bootstraps (snapshot), and another pulls the feed from
        /// its start; returns both times in seconds.
        func timeOffice(of code: ReplicaID, round: Int, expectingRows rows: Int, in directory: URL) async throws -> (Double, Double) {
            let offices = try await NewOffices(
                (ReplicaID(rawValue: "9\(round)\(port % 1000)1")!, ReplicaID(rawValue: "9\(round)\(port % 1000)2")!),
                scope: "unit-\(code.rawValue)", store: store, in: directory)
            return try await offices.time(from: "http://127.0.0.1:\(port)", expectingRows: rows, changes: nil)
        }
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}
