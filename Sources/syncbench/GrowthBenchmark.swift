import ArgumentParser
import Foundation
import HubCore
import Register
import Replica
import SyncClient
import SyncCore
import Synchronization

/// Years of one commune's ordinary edits, synced every day through a real synchub process by
/// two offices of the commune (the second one pulls what the first writes, and writes some
/// itself): then how large the office files and the hub have become, by part (the register
/// tables themselves, their merge state, the office's log of its writes, the hub's feed, the
/// rest), each against the register tables' own size. With `--compact`, each office drops
/// the part of its log the hub has made redundant (`Replica.compactLog`) at the end of every
/// simulated day, with the horizon given, and the hub its superseded feed entries and the
/// deleted rows every office is past (`HubStore.compactFeed`), which the offices then take at
/// their weekly content check. Figures, not a pass or fail.
struct GrowthBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "growth",
        abstract: "Sizes of an office file and a hub after simulated years of one commune's edits, by part.")

    @Option(help: "Simulated years.")
    var years = 1

    @Option(help: "People on the commune's register at the start.")
    var persons = 200

    @Option(help: "Compact the office logs daily with this horizon in days (omit: never compact).")
    var compact: Int?

    @Option(help: "Seed of the simulated edits.")
    var seed: UInt64 = 1

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncbench-growth-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let hubFile = directory.appendingPathComponent("hub.db").path
        let codes = (ReplicaID(rawValue: "G00001")!, ReplicaID(rawValue: "G00001b")!)
        let store = try HubStore(path: hubFile, district: "200")
        let credentials = (try await store.issueCredential(for: codes.0, scope: "unit-G"), try await store.issueCredential(for: codes.1, scope: "unit-G"))
        let late = (code: ReplicaID(rawValue: "G00001c")!, credential: try await store.issueCredential(for: ReplicaID(rawValue: "G00001c")!, scope: "unit-G"))
        // The offices compact on the simulated calendar here, not on the hub's word and this computer's.
        let hub = try HubProcess(directory: directory, name: "hub", store: "database = \"\(hubFile)\"", limits: "office_log_days = 0")
        defer { hub.stop() }
        let paths = (directory.appendingPathComponent("office.db").path, directory.appendingPathComponent("second.db").path)
        let (years, persons, seed, horizon, hubURL) = (years, persons, seed, compact, hub.url)
        let figures = try await onThread {
            let replicas = [try Replica.create(at: paths.0, id: codes.0, role: .commune), try Replica.create(at: paths.1, id: codes.1, role: .commune)]
            let offices = [
                try SyncSession(replica: replicas[0], hubURL: hubURL, credential: credentials.0),
                try SyncSession(replica: replicas[1], hubURL: hubURL, credential: credentials.1),
            ]
            var register = CommuneYear(persons: persons, seed: seed)
            var writes = 0
            try replicas[0].database.execute(register.start())
            for day in 0..<(365 * years) {
                for (index, office) in offices.enumerated() {
                    let edits = register.day(day, office: index)
                    writes += edits.count
                    if !edits.isEmpty { try replicas[index].database.execute(edits.joined(separator: "\n")) }
                    _ = try office.round()
                    if let horizon { try replicas[index].compactLog(keepingDays: horizon, now: CommuneYear.date(of: day)) }
                    // Weekly here (every 15 minutes by default in syncd): takes what the hub forgot.
                    if day % 7 == 6 { try office.checkDigest() }
                }
                if let horizon { try blocking { try await store.compactFeed(keepingDays: horizon, now: CommuneYear.date(of: day)) } }
            }
            for office in offices { _ = try office.round() }
            // A third office of the commune that pulls the whole feed from its start, as it
            // stands after compaction: it must end with the same merge state as the others.
            let latePath = paths.0 + ".late"
            let lateReplica = try Replica.create(at: latePath, id: late.code, role: .commune)
            try lateReplica.setMeta("pull_checkpoint", .integer(0))
            let pulling = try SyncSession(replica: lateReplica, hubURL: hubURL, credential: late.credential)
            try pulling.pull()
            let converged = try replicas[0].digest(scope: "unit-G") == replicas[1].digest(scope: "unit-G")
                && lateReplica.digest(scope: "unit-G") == replicas[0].digest(scope: "unit-G")
            return (writes: writes, office: try FileParts.measure(paths.0), second: try FileParts.measure(paths.1), converged: converged,
                    latePulled: pulling.lastReport.pulled)
        }
        hub.stop()
        let hubParts = try FileParts.measure(hubFile)
        print("growth: \(years) simulated year(s), \(persons) people at the start, \(figures.writes) row writes (inserts, updates, deletes), "
              + "synced daily by two offices of the commune; office logs and hub feed " + (horizon.map { "compacted daily, horizon \($0) days" } ?? "never compacted"))
        print("  part            office file   second office   hub")
        for part in FileParts.Part.allCases {
            let cells = [figures.office, figures.second, hubParts].map { parts in
                let bytes = parts.bytes[part] ?? 0
                let ratio = Double(bytes) / Double(max(1, parts.bytes[.register] ?? 1))
                return "\(FileParts.kib(bytes)) (\(String(format: "%.2f", ratio)))".padding(toLength: 16, withPad: " ", startingAt: 0)
            }
            print("  " + part.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0) + cells.joined())
        }
        for (name, parts) in [("office file", figures.office), ("second office", figures.second), ("hub", hubParts)] {
            print("  \(name): \(FileParts.kib(parts.total)) in all, \(String(format: "%.2f", Double(parts.total) / Double(max(1, parts.bytes[.register] ?? 1)))) x its register tables; "
                  + "log rows \(parts.logRows), feed entries \(parts.feedEntries), merge-state fields \(parts.stateRows), "
                  + "rows with a delete \(parts.deletedRows) (forgotten \(parts.forgottenRows))")
        }
        print("  (in parentheses: bytes against the register tables' own bytes in the same file; pages as SQLite's dbstat counts them)")
        print("  an office pulling the whole feed from its start got \(figures.latePulled) changes and "
              + (figures.converged ? "holds the same merge state as both offices (equal digests)" : "DIFFERS from the offices (digests differ)"))
        guard figures.converged else { throw ValidationError("the offices did not converge") }
    }
}

/// What a file's pages hold, by part (SQLite's `dbstat`, tables with their indexes).
struct FileParts {
    enum Part: String, CaseIterable {
        case register = "register"
        case state = "merge state"
        case log = "office log"
        case feed = "hub feed"
        case other = "other"
    }

    var bytes: [Part: Int] = [:]
    var total = 0
    var logRows = 0
    var feedEntries = 0
    var stateRows = 0
    /// Rows with a delete in their merge state (re-created ones included), and of those, how
    /// many are kept only in the forgotten form (clock, deletes, commune).
    var deletedRows = 0
    var forgottenRows = 0

    static func measure(_ path: String) throws -> FileParts {
        let database = try SQLiteDatabase(path: path)
        try database.execute("PRAGMA wal_checkpoint(TRUNCATE); VACUUM")
        var parts = FileParts()
        let tables = Set(RegisterSchema.current.tables.map(\.name))
        for row in try database.query(
            "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY 1") {
            let name = row[0].textValue ?? ""
            let size = Int(row[1].integerValue ?? 0)
            let part: Part = tables.contains(name) ? .register
                : ["_sync_rows", "_sync_fields"].contains(name) ? .state
                : name == "_sync_log" ? .log
                : name.hasPrefix("_sync_hub_feed") ? .feed : .other
            parts.bytes[part, default: 0] += size
            parts.total += size
        }
        func count(_ table: String) throws -> Int {
            guard try database.scalar("SELECT count(*) FROM sqlite_master WHERE name = ?", [.text(table)])?.integerValue == 1 else { return 0 }
            return Int(try database.scalar("SELECT count(*) FROM \(table)")?.integerValue ?? 0)
        }
        parts.logRows = try count("_sync_log")
        parts.feedEntries = try count("_sync_hub_feed")
        parts.stateRows = try count("_sync_fields")
        if try count("_sync_rows") > 0 {
            parts.deletedRows = Int(try database.scalar("SELECT count(*) FROM _sync_rows WHERE deletes <> ''")?.integerValue ?? 0)
            parts.forgottenRows = Int(try database.scalar(
                """
                SELECT count(*) FROM _sync_rows r WHERE deletes <> ''
                  AND NOT EXISTS (SELECT 1 FROM _sync_fields f WHERE f.tbl = r.tbl AND f.pk = r.pk AND f.col <> 'commune_id')
                """)?.integerValue ?? 0)
        }
        return parts
    }

    static func kib(_ bytes: Int) -> String { "\((bytes + 512) / 1024) KiB" }
}

/// One commune's register over simulated years: people joining and leaving, contact details
/// and notes corrected, titles ended and given, yearly ratings (proposed in December, decided
/// in January), courses, and entries deleted and typed again. Rates are per year for about
/// 200 people (what a commune of class II keeps, hamlets included).
struct CommuneYear {
    var generator: SplitMix
    var people: [String] = []
    var trainings: [String] = []
    var assignments: [String] = []
    var next = 0
    let scope = "unit-G"

    init(persons: Int, seed: UInt64) {
        generator = SplitMix(seed: seed)
        next = persons
        people = (0..<persons).map { "p\($0)" }
    }

    static func date(of day: Int) -> Date { Date(timeIntervalSince1970: 1_767_225_600 + Double(day) * 86_400) }  // from 2026-01-01

    static func iso(_ day: Int) -> String { date(of: day).formatted(.iso8601.year().month().day()) }

    mutating func start() -> String {
        var sql = ""
        for (index, person) in people.enumerated() {
            sql += personSQL(person, index)
            sql += "INSERT INTO positions(id, commune_id, unit_id, title_id, seat_no, capacity) VALUES ('s\(index)', '\(scope)', '\(scope)', 't\(index % 40)', \(index / 40 + 1), 1);\n"
            sql += assignmentSQL("a\(index)", person: person, seat: "s\(index)", day: 0)
            assignments.append("a\(index)")
        }
        return sql
    }

    func personSQL(_ id: String, _ index: Int) -> String {
        """
        INSERT INTO persons(id, commune_id, full_name, birth_date, gender, ethnicity, citizen_id, phone, party_member, general_education, degree, major, political_theory, status)
        VALUES ('\(id)', '\(scope)', 'Nguyễn Văn \(index)', '198\(index % 10)-0\(index % 9 + 1)-1\(index % 9)', '\(index % 2 == 0 ? "male" : "female")', 'Kinh',
                '0012\(String(format: "%08d", index))', '09\(String(format: "%08d", index))', 1, '12/12', 'university', 'Luật', 'intermediate', 'active');

        """
    }

    func assignmentSQL(_ id: String, person: String, seat: String, day: Int) -> String {
        "INSERT INTO assignments(id, commune_id, person_id, position_id, kind, decision_no, decision_date, decided_by, start_date) "
            + "VALUES ('\(id)', '\(scope)', '\(person)', '\(seat)', 'primary', '\(id)/QĐ-UBND', '\(Self.iso(day))', 'UBND huyện', '\(Self.iso(day))');\n"
    }

    /// Whether an event at `perYear` times a year happens on a given day.
    mutating func happens(_ perYear: Double) -> Bool { Double(generator.next() % 1_000_000) / 1_000_000 < perYear / 365 }

    mutating func pick(_ list: [String]) -> String { list[Int(generator.next() % UInt64(list.count))] }

    /// The day's edits at `office` (0 writes four fifths of them, 1 the rest).
    mutating func day(_ day: Int, office: Int) -> [String] {
        var edits: [String] = []
        let share = office == 0 ? 0.8 : 0.2
        let dayOfYear = day % 365
        for _ in 0..<3 where happens(200 * share / 3) {
            edits.append("UPDATE persons SET phone = '09\(generator.next() % 100_000_000)' WHERE id = '\(pick(people))';")
        }
        for _ in 0..<4 where happens(400 * share / 4) {
            edits.append("UPDATE persons SET note = 'ghi chú \(generator.next() % 1000)' WHERE id = '\(pick(people))';")
        }
        if happens(20 * share) {
            let id = "p\(next)"
            next += 1
            people.append(id)
            edits.append(personSQL(id, next))
        }
        if happens(20 * share) {
            edits.append("UPDATE persons SET status = 'retired' WHERE id = '\(pick(people))';")
        }
        if happens(30 * share), !assignments.isEmpty {
            let ended = pick(assignments)
            let id = "a\(next)-\(day)"
            next += 1
            edits.append("UPDATE assignments SET end_date = '\(Self.iso(day))', end_reason = 'rotation' WHERE id = '\(ended)';")
            edits.append(assignmentSQL(id, person: pick(people), seat: "s\(generator.next() % 200)", day: day))
            assignments.append(id)
        }
        if happens(100 * share) {
            let id = "tr\(next)"
            next += 1
            trainings.append(id)
            edits.append("INSERT INTO trainings(id, commune_id, person_id, field, course, institution, start_date, end_date, certificate) VALUES "
                         + "('\(id)', '\(scope)', '\(pick(people))', 'state_management', 'Bồi dưỡng QLNN', 'Trường Chính trị tỉnh', '\(Self.iso(day))', '\(Self.iso(day + 30))', 'Chứng chỉ');")
        }
        // An entry deleted by mistake and typed again under its id.
        if happens(10 * share), !trainings.isEmpty {
            let id = pick(trainings)
            edits.append("DELETE FROM trainings WHERE id = '\(id)';")
            edits.append("INSERT INTO trainings(id, commune_id, person_id, field, course, start_date) VALUES ('\(id)', '\(scope)', '\(pick(people))', 'it', 'Tin học', '\(Self.iso(day))');")
        }
        // An entry typed twice: the second deleted for good (what forgetting deleted rows is for).
        if happens(20 * share), !trainings.isEmpty {
            let index = Int(generator.next() % UInt64(trainings.count))
            edits.append("DELETE FROM trainings WHERE id = '\(trainings[index])';")
            trainings.remove(at: index)
        }
        // Ratings: proposed for everyone in mid-December, decided in mid-January.
        let year = 2026 + day / 365
        if office == 0, dayOfYear == 345 {
            for person in people {
                edits.append("INSERT INTO evaluations(id, commune_id, person_id, year, proposed_rating) VALUES ('e\(person)-\(year)', '\(scope)', '\(person)', \(year), 'good');")
            }
        }
        if office == 0, dayOfYear == 15, day > 0 {
            edits.append("UPDATE evaluations SET rating = proposed_rating, decided_by = 'UBND huyện', decision_no = '\(year)/QĐ' WHERE year = \(year - 1);")
        }
        return edits
    }
}

/// A small, seeded generator (SplitMix64), so that a run can be repeated.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Runs async work to its end from a thread that is not the pool's (`onThread`), and gives its result.
func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let outcome: Result<T, any Error>
        do { outcome = .success(try await work()) } catch { outcome = .failure(error) }
        result.withLock { $0 = outcome }
        done.signal()
    }
    done.wait()
    return try result.withLock { $0! }.get()
}
