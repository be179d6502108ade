import Crypto
import Foundation
import MergeEngine
import Register
import Replica
import SyncClient
import SyncCore
import Testing
import TestSupport

/// The whole pipeline under random office histories: capture → fold → push → hub screening and
/// dedup → feed → pull → apply, with real replica files, real libcurl sessions and a real
/// synchub process. Each history gives two communes and the district random actions — inserts,
/// updates, deletes (insert then delete, delete then insert again, within one fold), rows
/// typed into another commune, edits while offline, restarts of syncd and of the hub, a
/// replica restored from an earlier copy of itself — then syncs to quiescence and checks:
///
/// - every replica equals the hub for its scope, and its digest matches the hub's;
/// - no write is lost unless a write that had seen it (or a delete that had) superseded it:
///   a reference model tracks which writes each side had seen (contexts by knowledge, not by
///   dots), and each register cell shows one of its maximal writes, the only one if it has one;
/// - no round ever fails (nothing is stuck), and refused rows can be dropped;
/// - `ReplicaHealth` never says "nothing unsent" while the model holds a write of that office
///   the hub has not seen.
///
/// 200 histories per `swift test` run (seeded; the seed is in every failure message),
/// `COMMUNESYNC_LONG=1` for 2,000.
@Suite(.serialized) struct PipelineProperties {
    static let histories = ProcessInfo.processInfo.environment["COMMUNESYNC_LONG"] == nil ? 200 : 2_000

    @Test func everyOfficeHistoryConvergesWithNothingLostOrStuck() throws {
        let seed = ProcessInfo.processInfo.environment["COMMUNESYNC_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        let cluster = try SyncCluster(label: "pipeline")
        let hubDatabase = try SQLiteDatabase(path: cluster.hub.database, create: false)
        var stats = Stats()
        for index in 0..<Self.histories {
            var random = SeededGenerator(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
            let history = History(index: index, seed: seed, cluster: cluster, hub: hubDatabase)
            try history.run(&random, stats: &stats)
            if history.failed { break }
        }
        print("pipeline properties: seed \(seed), \(Self.histories) histories, \(stats)")
        #expect(stats.restores > 0 && stats.refusals > 0 && stats.hubRestarts > 0 && stats.voidDeletes > 0,
                "seed \(seed): the generator did not reach every action: \(stats)")
    }
}

struct Stats: CustomStringConvertible {
    var steps = 0, writes = 0, rounds = 0, restores = 0, rebases = 0, refusals = 0, hubRestarts = 0, voidDeletes = 0, digestRepairs = 0
    var description: String {
        "\(steps) steps, \(writes) writes, \(rounds) rounds, \(restores) restores (\(rebases) rebases), \(refusals) refused rows, "
            + "\(hubRestarts) hub restarts, \(voidDeletes) rows typed and deleted before a fold, \(digestRepairs) rows repaired by digest"
    }
}

/// One random history and its reference model.
final class History {
    /// A write as the model knows it: which cell, and the writes its author had seen.
    struct Write {
        let row: String
        /// nil: a delete of the row.
        let column: String?
        let value: String
        let context: Set<Int>
    }

    final class Office {
        let code: String
        let path: String
        let token: String
        var replica: Replica?
        var session: SyncSession?
        /// A copy of the file, with what the office knew and had written when it was taken.
        var backup: (path: String, knowledge: Set<Int>, step: Int, created: Set<String>)?
        var syncedSinceBackup = false
        var knowledge: Set<Int> = []
        var own: Set<Int> = []
        var writtenAt: [Int: Int] = [:]
        /// Rows created and deleted since the last fold: nothing of them is sent.
        var createdSinceSync: Set<String> = []
        /// Writes not folded yet (the test folds only when it syncs).
        var sinceFold: Set<Int> = []
        var refusedRows: Set<String> = []

        init(code: String, path: String, token: String) {
            (self.code, self.path, self.token) = (code, path, token)
        }

        var unit: String { "unit-\(code)" }
    }

    let index: Int
    let seed: UInt64
    let cluster: SyncCluster
    let hub: SQLiteDatabase
    var offices: [Office] = []
    var writes: [Write] = []
    var hubKnowledge: Set<Int> = []
    var destroyed: Set<Int> = []
    var step = 0
    var failed = false
    var nextValue = 0

    init(index: Int, seed: UInt64, cluster: SyncCluster, hub: SQLiteDatabase) {
        (self.index, self.seed, self.cluster, self.hub) = (index, seed, cluster, hub)
    }

    func fail(_ message: String) {
        failed = true
        Issue.record("seed \(seed), history \(index), step \(step): \(message)")
    }

    func run(_ random: inout SeededGenerator, stats: inout Stats) throws {
        for letter in ["a", "b"] {
            let code = "h\(index)\(letter)"
            let token = try issueCredential(code)
            let office = Office(code: code, path: cluster.directory.path("\(code).db"), token: token)
            try open(office)
            offices.append(office)
        }
        let steps = Int.random(in: 8...20, using: &random)
        // Half the histories put a copy of an office's file back late in the history, the copy
        // taken early: the case where a file re-uses counters the hub already holds.
        var planned: [Int: (Office, Int)] = [:]
        if Bool.random(using: &random) {
            let office = offices.randomElement(using: &random)!
            planned[Int.random(in: 1...steps / 3, using: &random)] = (office, 85)
            planned[Int.random(in: steps * 2 / 3...steps, using: &random)] = (office, 90)
        }
        for _ in 0..<steps where !failed {
            step += 1
            stats.steps += 1
            var office = offices.randomElement(using: &random)!
            var action = Int.random(in: 0..<100, using: &random)
            if let (plannedOffice, plannedAction) = planned[step] { (office, action) = (plannedOffice, plannedAction) }
            if ProcessInfo.processInfo.environment["COMMUNESYNC_TRACE"] != nil { print("history \(index) step \(step): \(office.code) action \(action)") }
            switch action {
            case 0..<20: try insert(office, &random); stats.writes += 1
            case 20..<34: try update(office, &random); stats.writes += 1
            case 34..<41: try delete(office, &random)
            case 41..<45: try typeAndDelete(office); stats.voidDeletes += 1
            case 45..<49: try deleteAndInsertAgain(office, &random)
            case 49..<52: try typeIntoOtherCommune(office); stats.refusals += 1
            case 52..<61: try districtEdit(&random)
            case 61..<79: try sync(office, &stats)
            case 79..<83: try close(office); try open(office)
            case 83..<88: try keepCopy(office)
            case 88..<95:
                // A copy put back after the office synced more work: the case that re-uses counters.
                if office.backup != nil && (office.syncedSinceBackup || planned[step] != nil) {
                    try restore(office)
                    stats.restores += 1
                } else {
                    try sync(office, &stats)
                }
            default:
                if Int.random(in: 0..<5, using: &random) == 0 {
                    cluster.hub.kill()
                    try cluster.hub.start()
                    stats.hubRestarts += 1
                }
            }
            try checkHealthTellsTheTruth(office)
        }
        guard !failed else { return }
        try quiesce(&stats)
        if !failed { try check(&stats) }
        for office in offices { try close(office) }
    }

    // MARK: Actions

    func issueCredential(_ code: String) throws -> String {
        let token = "\(code).\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
        let digest = SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
        try hub.run("INSERT INTO _sync_hub_credentials(replica, scope, role, sha256, issued_at) VALUES (?, ?, 'commune', ?, '2026-01-01')",
                    [.text(code), .text("unit-\(code)"), .text(digest)])
        return token
    }

    func open(_ office: Office) throws {
        let replica = try Replica.openOrCreate(at: office.path, id: ReplicaID(rawValue: office.code)!, role: .commune)
        office.replica = replica
        office.session = try SyncSession(replica: replica, hubURL: cluster.hub.url, credential: office.token,
                                         connectTimeoutSeconds: 2, requestTimeoutSeconds: 10, batchChanges: 50)
    }

    func close(_ office: Office) throws {
        office.session = nil
        office.replica = nil
    }

    func value() -> String {
        nextValue += 1
        return "v\(index)-\(nextValue)"
    }

    /// Records a write of `office` in the model: it has seen what the office knew and every
    /// earlier write of its own.
    @discardableResult
    func record(_ office: Office, row: String, column: String?, value: String) -> Int {
        let id = writes.count
        writes.append(Write(row: row, column: column, value: value, context: office.knowledge.union(office.own)))
        office.own.insert(id)
        office.knowledge.insert(id)
        office.writtenAt[id] = step
        office.sinceFold.insert(id)
        return id
    }

    func liveRows(_ office: Office) throws -> [String] {
        try office.replica!.database.query("SELECT id FROM persons WHERE commune_id = ? ORDER BY id", [.text(office.unit)])
            .compactMap { $0.first?.textValue }.filter { !office.refusedRows.contains($0) }
    }

    func insert(_ office: Office, _ random: inout SeededGenerator, id: String? = nil) throws {
        let row = id ?? "r\(index)-\(office.code)-\(writes.count)"
        let (name, phone) = (value(), value())
        try office.replica!.database.run("INSERT INTO persons(id, commune_id, full_name, phone) VALUES (?, ?, ?, ?)",
                                         [.text(row), .text(office.unit), .text(name), .text(phone)])
        record(office, row: row, column: "full_name", value: name)
        record(office, row: row, column: "phone", value: phone)
        if id == nil { office.createdSinceSync.insert(row) }
    }

    func update(_ office: Office, _ random: inout SeededGenerator) throws {
        guard let row = try liveRows(office).randomElement(using: &random) else { return try insert(office, &random) }
        let column = Bool.random(using: &random) ? "full_name" : "phone"
        let new = value()
        try office.replica!.database.run("UPDATE persons SET \(column) = ? WHERE id = ?", [.text(new), .text(row)])
        record(office, row: row, column: column, value: new)
    }

    func delete(_ office: Office, _ random: inout SeededGenerator) throws {
        guard let row = try liveRows(office).randomElement(using: &random) else { return }
        try office.replica!.database.run("DELETE FROM persons WHERE id = ?", [.text(row)])
        dropUnfoldedWrites(office, row: row)
        record(office, row: row, column: nil, value: "")
    }

    func typeAndDelete(_ office: Office) throws {
        let row = "typo\(index)-\(writes.count)"
        try office.replica!.database.execute(
            "INSERT INTO persons(id, commune_id, full_name) VALUES ('\(row)', '\(office.unit)', 'x'); DELETE FROM persons WHERE id = '\(row)'")
        record(office, row: row, column: "full_name", value: "x")
        office.createdSinceSync.insert(row)
        dropUnfoldedWrites(office, row: row)
        record(office, row: row, column: nil, value: "")
    }

    func deleteAndInsertAgain(_ office: Office, _ random: inout SeededGenerator) throws {
        guard let row = try liveRows(office).randomElement(using: &random) else { return }
        try office.replica!.database.run("DELETE FROM persons WHERE id = ?", [.text(row)])
        dropUnfoldedWrites(office, row: row)
        record(office, row: row, column: nil, value: "")
        try insert(office, &random, id: row)
    }

    func typeIntoOtherCommune(_ office: Office) throws {
        let other = offices.first { $0 !== office }!
        let row = "wrong\(index)-\(value())"
        try office.replica!.database.run("INSERT INTO persons(id, commune_id, full_name) VALUES (?, ?, 'sai')",
                                         [.text(row), .text(other.unit)])
        office.refusedRows.insert(row)
    }

    func districtEdit(_ random: inout SeededGenerator) throws {
        let units = offices.map { "'\($0.unit)'" }.joined(separator: ", ")
        let rows = try hub.query("SELECT id FROM persons WHERE commune_id IN (\(units)) ORDER BY id").compactMap { $0.first?.textValue }
        guard let row = rows.randomElement(using: &random) else { return }
        let column = Bool.random(using: &random) ? "full_name" : "phone"
        let new = value()
        try hub.run("UPDATE persons SET \(column) = ? WHERE id = ?", [.text(new), .text(row)])
        let id = writes.count
        writes.append(Write(row: row, column: column, value: new, context: hubKnowledge))
        hubKnowledge.insert(id)
    }

    func sync(_ office: Office, _ stats: inout Stats) throws {
        do {
            let report = try office.session!.round()
            stats.rounds += 1
            if report.rebase != nil { stats.rebases += 1 }
        } catch {
            return fail("\(office.code)'s round failed: \(error)")
        }
        // Everything the office wrote reached the hub, and the office has what the hub has.
        hubKnowledge.formUnion(office.own)
        office.knowledge.formUnion(hubKnowledge)
        office.createdSinceSync = []
        office.sinceFold = []
        office.syncedSinceBackup = true
    }

    /// A delete of `row` at `office`: its writes of the row not folded yet are not sent (values
    /// are read when folded, and the row is gone by then; README, "What is guaranteed").
    func dropUnfoldedWrites(_ office: Office, row: String) {
        for id in office.sinceFold where writes[id].row == row && writes[id].column != nil {
            destroyed.insert(id)
            office.own.remove(id)
            office.knowledge.remove(id)
        }
    }

    /// A copy as an office takes it with syncd stopped: syncd folds what waits before it stops.
    func keepCopy(_ office: Office) throws {
        try office.replica!.fold()
        office.sinceFold = []
        try close(office)
        let copy = office.path + ".copy"
        for suffix in ["", "-wal"] {
            try? FileManager.default.removeItem(atPath: copy + suffix)
            if FileManager.default.fileExists(atPath: office.path + suffix) {
                try FileManager.default.copyItem(atPath: office.path + suffix, toPath: copy + suffix)
            }
        }
        office.backup = (copy, office.knowledge, step, office.createdSinceSync)
        office.syncedSinceBackup = false
        try open(office)
    }

    func restore(_ office: Office) throws {
        guard let backup = office.backup else { return }
        try close(office)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: office.path + suffix) }
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: backup.path + suffix) {
            try FileManager.default.copyItem(atPath: backup.path + suffix, toPath: office.path + suffix)
        }
        // Writes made after the copy that never reached the hub are gone with the file.
        for id in office.own where (office.writtenAt[id] ?? 0) > backup.step && !hubKnowledge.contains(id) {
            destroyed.insert(id)
            office.own.remove(id)
        }
        office.knowledge = backup.knowledge.subtracting(destroyed)
        office.createdSinceSync = backup.created
        office.sinceFold = []
        office.syncedSinceBackup = false
        try open(office)
    }

    // MARK: Checks

    /// "Nothing waits to be sent" must be true of the model too.
    func checkHealthTellsTheTruth(_ office: Office) throws {
        guard office.replica != nil else { return }
        let health = try ReplicaHealth.read(path: office.path)
        guard health.unackedChanges == 0 else { return }
        let pending = office.own.filter { id in
            !hubKnowledge.contains(id) && !office.createdSinceSync.contains(writes[id].row) && !office.refusedRows.contains(writes[id].row)
        }
        // A write superseded at the office before it was sent is not sent (values are read at
        // fold time); only those still standing must be counted.
        let standing = pending.filter { id in !pending.contains { other in other != id && writes[other].row == writes[id].row
            && writes[other].context.contains(id) && (writes[other].column == nil || writes[other].column == writes[id].column) } }
        if !standing.isEmpty, ProcessInfo.processInfo.environment["COMMUNESYNC_TRACE"] != nil {
            print(try office.replica!.database.query("SELECT seq, tbl, pk, op, cols, vals FROM _sync_log ORDER BY seq").map { "\($0)" }.joined(separator: "\n"))
            print("push_acked", try office.replica!.meta("push_acked") ?? .null)
        }
        if !standing.isEmpty {
            fail("\(office.code): status would say nothing waits to be sent, but \(standing.count) write(s) never reached the hub: "
                + standing.prefix(3).map { "\(writes[$0].row).\(writes[$0].column ?? "delete")=\(writes[$0].value)" }.joined(separator: ", "))
        }
    }

    func quiesce(_ stats: inout Stats) throws {
        for office in offices where office.replica == nil { try open(office) }
        for _ in 0..<2 {
            for office in offices { try sync(office, &stats) }
        }
        for office in offices where !failed {
            try office.replica!.clearRefused()
            try sync(office, &stats)
            do {
                let check = try office.session!.checkDigest()
                stats.digestRepairs += check.rowsRepaired
                // Nothing here corrupts the hub: whatever the digest had to repair, push and pull lost.
                if check.rowsRepaired > 0 { fail("\(office.code): \(check.rowsRepaired) row(s) were repaired by digest: push and pull missed them") }
                if !check.matched { fail("\(office.code) differs from the hub by content: \(check.rowsStillDiffering.prefix(5))") }
            } catch {
                fail("\(office.code)'s digest check failed: \(error)")
            }
        }
    }

    func check(_ stats: inout Stats) throws {
        func persons(_ database: SQLiteDatabase, _ unit: String) throws -> [String: [String]] {
            var rows: [String: [String]] = [:]
            try database.forEachRow("SELECT id, full_name, phone FROM persons WHERE commune_id = ?", [.text(unit)]) { row in
                rows[row[0].textValue ?? "?"] = [row[1].description, row[2].description]
            }
            return rows
        }
        for office in offices {
            let here = try persons(office.replica!.database, office.unit)
            let there = try persons(hub, office.unit)
            if here != there {
                let differing = Set(here.keys).union(there.keys).filter { here[$0] != there[$0] }.sorted().prefix(3)
                fail("\(office.code) differs from the hub: " + differing.map { "\($0): \(here[$0] ?? []) vs hub \(there[$0] ?? [])" }.joined(separator: "; "))
            }
            let health = try ReplicaHealth.read(path: office.path)
            if health.unackedChanges != 0 || health.refusedChanges != 0 || health.digestDifferingRows != 0 {
                fail("\(office.code) is quiet but its health says \(health.unackedChanges) unsent, \(health.refusedChanges) refused, "
                    + "\(health.digestDifferingRows) differing")
            }
            if try office.replica!.database.scalar("SELECT count(*) FROM persons WHERE id LIKE 'wrong%'")?.integerValue != 0 {
                fail("\(office.code): a dropped refused row is still in its register")
            }
            // The model: each row's cells show one of their maximal writes; a row lives while a
            // maximal write escaped every delete.
            let rows = Set(writes.indices.filter { !destroyed.contains($0) && writes[$0].row.contains("-\(office.code)-") }.map { writes[$0].row })
            for row in rows {
                let all = writes.indices.filter { writes[$0].row == row && !destroyed.contains($0) }
                // Per column, as fields merge: a write survives unless a later write of the same
                // column had seen it. Deletes do not remove field writes; they decide whether the
                // row lives (update wins: some surviving write escaped every delete).
                let maximal = all.filter { id in
                    writes[id].column != nil && !all.contains { writes[$0].column == writes[id].column && writes[$0].context.contains(id) }
                }
                let deletes = all.filter { writes[$0].column == nil }
                let escaped = maximal.filter { id in !deletes.contains { writes[$0].context.contains(id) } }
                let live = !escaped.isEmpty
                guard live == (there[row] != nil) else {
                    fail("row \(row): the model says \(live ? "live" : "deleted"), the hub \(there[row] == nil ? "has no row" : "has \(there[row]!)")")
                    continue
                }
                guard live, let shown = there[row] else { continue }
                for (slot, column) in ["full_name", "phone"].enumerated() {
                    let candidates = maximal.filter { writes[$0].column == column }
                    guard !candidates.isEmpty else { continue }
                    let values = Set(candidates.map { writes[$0].value })
                    if !values.contains(shown[slot]) || (candidates.count == 1 && shown[slot] != writes[candidates[0]].value) {
                        fail("row \(row).\(column): the hub shows \(shown[slot]), but the writes nothing superseded are \(values.sorted())")
                    }
                }
            }
        }
    }
}
