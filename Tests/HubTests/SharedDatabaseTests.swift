import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import MergeEngine
import Register
import Replica
import SyncCore
import Synchronization
import SyncProtocol
import Testing
import TestSupport

/// Two hubs on one PostgreSQL database, as two synchub processes would run: offices push and
/// pull through either, all at once, and still each ends with every entry of its scope, each
/// dot is in the feed once, and every seat keeps its capacity. (Without the write lock of
/// `PostgresHubStorage` this fails: two hubs feed the same district edits, or hand out one
/// feed position twice.)
@Suite struct SharedDatabaseTests {
    @Test func twoHubsOnOneDatabaseServeEveryOfficeWhole() async throws {
        let url = try PostgresTestServer.newDatabase()
        let rules = RuleSet(version: 2, seats: .laterDecisionWins)
        let hubs = [
            HubStore(storage: try PostgresHubStorage(url: url, district: "200", rules: rules, poolSize: 4)),
            HubStore(storage: try PostgresHubStorage(url: url, district: "200", rules: rules, poolSize: 4)),
        ]
        let units = 4, offices = 32, rounds = 8
        _ = try await hubs[0].credentials()
        try PostgresTestServer.psql(url, (0..<units).map { unit in
            """
            INSERT INTO units(id, code, name, kind) VALUES ('unit-\(unit)', '5000\(unit)', 'Xã \(unit)', 'commune');
            INSERT INTO positions(id, commune_id, unit_id, capacity) VALUES ('seat-\(unit)', 'unit-\(unit)', 'unit-\(unit)', 1);
            """
        }.joined(separator: "\n"))
        let directory = try TemporaryDirectory("shared-database")
        var callers: [Caller] = []
        for index in 0..<offices {
            let code = ReplicaID(rawValue: String(format: "6%04d", index))!
            // A credential issued through one hub is known to the other.
            let token = try await hubs[index % 2].issueCredential(for: code, scope: "unit-\(index % units)")
            callers.append(try await hubs[(index + 1) % 2].authenticate("Bearer \(token)"))
        }

        /// Pulls everything new through `hub` into `replica`; returns the new checkpoint.
        @Sendable func pullAll(_ replica: Replica, _ caller: Caller, from hub: HubStore, after start: Int64) async throws -> Int64 {
            var after = start
            while true {
                let page = try await hub.pull(for: caller, after: after, limit: 50)
                try replica.apply(page.changes.flatMap { $0.changes() ?? [] })
                after = page.next
                if !page.more { return after }
            }
        }

        let sent = try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, caller) in callers.enumerated() {
                group.addTask {
                    let replica = try Replica.create(at: directory.path("\(caller.replica).db"), id: caller.replica, role: .commune)
                    var sent = 0, checkpoint: Int64 = 0
                    for round in 0..<rounds {
                        try replica.database.execute(
                            "INSERT INTO persons(id, commune_id, full_name) VALUES ('p\(index)-\(round)', '\(caller.scope)', 'Người \(round)')")
                        if round == 0 {
                            // Every office of a commune fills its one seat, none seeing the others.
                            try replica.database.execute("""
                                INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, decision_date, start_date)
                                VALUES ('as\(index)', '\(caller.scope)', 'p\(index)-0', 'seat-\(index % units)', '\(index)/QĐ',
                                        '2024-01-\(String(format: "%02d", index + 1))', '2024-02-01')
                                """)
                        }
                        try replica.fold()
                        let hub = hubs[(index + round) % 2]
                        let changes = try replica.capturedChanges(after: try await hub.receivedCounter(of: caller.replica))
                        let pushed = try await hub.push(changes, from: caller)
                        #expect(pushed.refused.isEmpty, "\(pushed.refused)")
                        sent += pushed.applied
                        checkpoint = try await pullAll(replica, caller, from: hubs[(index + round + 1) % 2], after: checkpoint)
                    }
                    return sent
                }
            }
            return try await group.reduce(0, +)
        }

        // Quiet now: every office pulls what is left, through either hub.
        var finals: [(Replica, Caller)] = []
        for (index, caller) in callers.enumerated() {
            let replica = try Replica(openingExisting: directory.path("\(caller.replica).db"))
            _ = try await pullAll(replica, caller, from: hubs[index % 2], after: 0)
            finals.append((replica, caller))
        }
        let counts = try HubBackend.feedDotCounts(postgres: url)
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(counts.keys.filter { $0.replica != "200" }.count == sent)
        for (replica, caller) in finals {
            let unit = Int(caller.scope.dropFirst("unit-".count))!
            let expected = Set((0..<offices).filter { $0 % units == unit }.flatMap { office in (0..<rounds).map { "p\(office)-\($0)" } })
            let held = Set(try replica.database.query("SELECT id FROM persons").compactMap { $0.first?.textValue })
            #expect(held == expected, "persons at \(caller.replica)")
            let active = try replica.database.scalar(
                "SELECT count(*) FROM assignments WHERE position_id = 'seat-\(unit)' AND (end_date IS NULL OR end_date = '')")
            #expect(active == .integer(1), "active holders of seat-\(unit) at \(caller.replica)")
        }
        let overfull = try PostgresTestServer.psql(url, """
            SELECT position_id FROM assignments WHERE end_date IS NULL OR end_date = '' GROUP BY position_id HAVING count(*) > 1
            """)
        #expect(overfull.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "seats over capacity at the hub: \(overfull)")
        // The latest decision kept each seat.
        for unit in 0..<units {
            let keeper = (0..<offices).filter { $0 % units == unit }.max()!
            let holder = try PostgresTestServer.psql(
                url, "SELECT id FROM assignments WHERE position_id = 'seat-\(unit)' AND (end_date IS NULL OR end_date = '')")
            #expect(holder.trimmingCharacters(in: .whitespacesAndNewlines) == "as\(keeper)")
        }
    }

    /// Pushes of many communes run side by side through two hubs (each commune's under its
    /// own lock) while their offices pull from where they left off: no office ever misses an
    /// entry. An office pulls from its checkpoint, never from the start again, so a feed
    /// position that became visible before a lower one would be skipped for good. (Take the
    /// feed lock out of `PostgresWriteTurn` and this fails.)
    @Test func communesPushingSideBySideNeverShowAPullAGap() async throws {
        let url = try PostgresTestServer.newDatabase()
        let storages = [try PostgresHubStorage(url: url, district: "200", poolSize: 4),
                        try PostgresHubStorage(url: url, district: "200", poolSize: 4)]
        let hubs = storages.map { HubStore(storage: $0) }
        let units = 8, offices = 16, rounds = 10, perRound = 3
        _ = try await hubs[0].credentials()
        try PostgresTestServer.psql(url, (0..<units).map { unit in
            "INSERT INTO units(id, code, name, kind) VALUES ('unit-\(unit)', '5100\(unit)', 'Xã \(unit)', 'commune');"
        }.joined(separator: "\n"))
        // Staff's inserts folded first: a push that finds staff edits to fold runs as a district write.
        try await hubs[0].ingestLocalEdits()
        let directory = try TemporaryDirectory("side-by-side")
        var callers: [Caller] = []
        for index in 0..<offices {
            let token = try await hubs[0].issueCredential(for: ReplicaID(rawValue: String(format: "7%04d", index))!, scope: "unit-\(index % units)")
            callers.append(try await hubs[0].authenticate("Bearer \(token)"))
        }
        // One citizen id recorded at four offices of four communes in the same round.
        let shared = "079200000001"
        let checkpoints = try await withThrowingTaskGroup(of: (Int, Int64).self) { group in
            for (index, caller) in callers.enumerated() {
                group.addTask {
                    let replica = try Replica.create(at: directory.path("\(caller.replica).db"), id: caller.replica, role: .commune)
                    var checkpoint: Int64 = 0
                    for round in 0..<rounds {
                        for item in 0..<perRound {
                            let citizen = round == 4 && item == 0 && index < 4 ? shared : String(format: "0792%04d%02d%02d", index, round, item)
                            try replica.database.execute("""
                                INSERT INTO persons(id, commune_id, full_name, citizen_id)
                                VALUES ('p\(index)-\(round)-\(item)', '\(caller.scope)', 'Người \(round)', '\(citizen)')
                                """)
                        }
                        try replica.fold()
                        let hub = hubs[(index + round) % 2]
                        let pushed = try await hub.push(try replica.capturedChanges(after: try await hub.receivedCounter(of: caller.replica)),
                                                        from: caller)
                        #expect(pushed.refused.isEmpty, "\(pushed.refused)")
                        while true {
                            let page = try await hubs[(index + round + 1) % 2].pull(for: caller, after: checkpoint, limit: 40)
                            try replica.apply(page.changes.flatMap { $0.changes() ?? [] })
                            checkpoint = page.next
                            if !page.more { break }
                        }
                    }
                    return (index, checkpoint)
                }
            }
            var checkpoints: [Int: Int64] = [:]
            for try await (index, checkpoint) in group { checkpoints[index] = checkpoint }
            return checkpoints
        }
        // Quiet now: each office pulls on from its own checkpoint, and holds every record of its commune.
        for (index, caller) in callers.enumerated() {
            let replica = try Replica(openingExisting: directory.path("\(caller.replica).db"))
            var after = checkpoints[index]!
            while true {
                let page = try await hubs[index % 2].pull(for: caller, after: after, limit: 200)
                try replica.apply(page.changes.flatMap { $0.changes() ?? [] })
                after = page.next
                if !page.more { break }
            }
            let expected = Set((0..<offices).filter { $0 % units == index % units }.flatMap { office in
                (0..<rounds).flatMap { round in (0..<perRound).map { "p\(office)-\(round)-\($0)" } }
            })
            let held = Set(try replica.database.query("SELECT id FROM persons").compactMap { $0.first?.textValue })
            #expect(held == expected, "\(caller.replica) misses \(expected.subtracting(held).sorted().prefix(5))")
        }
        let counts = try HubBackend.feedDotCounts(postgres: url)
        #expect(counts.values.allSatisfy { $0 == 1 })
        // Positions handed out one after the other, none twice, none left out.
        let positions = try PostgresTestServer.psql(url, "SELECT count(*) = max(seq) FROM _sync_hub_feed")
        #expect(positions.trimmingCharacters(in: .whitespacesAndNewlines) == "t")
        // Pushes recording the same citizen id in four communes at once: the last to look saw the others.
        let item = try PostgresTestServer.psql(url, "SELECT state FROM _sync_conflicts WHERE kind = 'duplicate' AND pk = '\(shared)'")
        #expect(item.trimmingCharacters(in: .whitespacesAndNewlines) == "open")
        // Plain pushes never needed the whole district.
        #expect(storages.map(\.pushesRunAgain) == [0, 0])
    }

    /// While a write of one commune is open, a push of another commune goes through (through
    /// another hub on the same database); a push of the same commune waits for it.
    @Test func aCommuneWaitsOnlyForItsOwnWrites() async throws {
        let two = try await TwoCommunes("commune-turns")
        let (holding, hub) = (two.holding, two.hub)
        let (otherReplica, other) = try await two.office("72001", "unit-b")
        let (sameReplica, same) = try await two.office("72002", "unit-a")

        let release = Flag(), opened = Flag()
        let held = Task {
            try await holding.write(commune: "unit-a") { _ in
                opened.raise()
                while !release.isUp { try await Task.sleep(for: .milliseconds(10)) }
            }
        }
        while !opened.isUp { try await Task.sleep(for: .milliseconds(10)) }
        let otherPushed = try await hub.push(try otherReplica.capturedChanges(after: 0), from: other)
        #expect(otherPushed.applied > 0)
        #expect(!release.isUp)

        let sameDone = Flag()
        let samePush = Task {
            let pushed = try await hub.push(try sameReplica.capturedChanges(after: 0), from: same)
            sameDone.raise()
            return pushed
        }
        try await Task.sleep(for: .milliseconds(700))
        #expect(!sameDone.isUp, "a push of unit-a went through while unit-a's write was open")
        release.raise()
        try await held.value
        #expect(try await samePush.value.applied > 0)
        holding.close()
    }

    /// A write holding feed position n keeps every other write from taking a position above
    /// it until it commits: a pull can never see n + 1 before n. (Without the feed lock the
    /// other commune's push goes through at n + 1, or takes n a second time and fails.)
    @Test func noPositionBecomesVisibleAboveOneNotCommitted() async throws {
        let two = try await TwoCommunes("feed-order")
        let (url, holding, hub) = (two.url, two.holding, two.hub)
        let (aReplica, _) = try await two.office("73001", "unit-a")
        let (bReplica, b) = try await two.office("73002", "unit-b")
        let start = try PostgresTestServer.psql(url, "SELECT coalesce(max(seq), 0) FROM _sync_hub_feed")
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let release = Flag(), opened = Flag()
        let aChanges = try aReplica.capturedChanges(after: 0)
        let held = Task {
            try await holding.write(commune: "unit-a") { store in
                try await store.appendToFeed(aChanges.map { (scope: "unit-a", change: $0) })
                opened.raise()
                while !release.isUp { try await Task.sleep(for: .milliseconds(10)) }
            }
        }
        while !opened.isUp { try await Task.sleep(for: .milliseconds(10)) }
        let bDone = Flag()
        let bPush = Task {
            let pushed = try await hub.push(try bReplica.capturedChanges(after: 0), from: b)
            bDone.raise()
            return pushed
        }
        try await Task.sleep(for: .milliseconds(700))
        #expect(!bDone.isUp, "unit-b's push committed while a position below its own was still open")
        let visible = try await hub.pull(for: b, after: Int64(start)!, limit: 100)
        #expect(visible.changes.isEmpty && visible.next == Int64(start)!, "a pull saw \(visible.next) past \(start)")
        release.raise()
        try await held.value
        #expect(try await bPush.value.applied > 0)
        let order = try PostgresTestServer.psql(url, "SELECT scope FROM _sync_hub_feed WHERE seq > \(start) ORDER BY seq")
            .split(separator: "\n").map(String.init)
        #expect(order == Array(repeating: "unit-a", count: aChanges.count) + Array(repeating: "unit-b", count: order.count - aChanges.count))
        let positions = try PostgresTestServer.psql(url, "SELECT count(*) = max(seq) FROM _sync_hub_feed")
        #expect(positions.trimmingCharacters(in: .whitespacesAndNewlines) == "t")
        holding.close()
    }
}

/// A flag one task raises and others look at.
private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func raise() { value.store(true, ordering: .sequentiallyConsistent) }
    var isUp: Bool { value.load(ordering: .sequentiallyConsistent) }
}

/// A database with communes unit-a and unit-b (staff's inserts folded), a hub on it, and a
/// second storage on it to hold a write open.
private struct TwoCommunes {
    let url: String
    let holding: PostgresHubStorage
    let hub: HubStore
    let directory: TemporaryDirectory

    init(_ name: String) async throws {
        url = try PostgresTestServer.newDatabase()
        holding = try PostgresHubStorage(url: url, district: "200", poolSize: 2)
        hub = HubStore(storage: try PostgresHubStorage(url: url, district: "200", poolSize: 4))
        _ = try await hub.credentials()
        try PostgresTestServer.psql(url, """
            INSERT INTO units(id, code, name, kind) VALUES ('unit-a', '52001', 'Xã A', 'commune'), ('unit-b', '52002', 'Xã B', 'commune');
            """)
        // A push that finds staff edits to fold runs as a district write: folded first.
        try await hub.ingestLocalEdits()
        directory = try TemporaryDirectory(name)
    }

    /// An office of `scope` with one new person folded, not pushed yet.
    func office(_ code: String, _ scope: String) async throws -> (Replica, Caller) {
        let caller = try await hub.authenticate("Bearer \(try await hub.issueCredential(for: ReplicaID(rawValue: code)!, scope: scope))")
        let replica = try Replica.create(at: directory.path("\(code).db"), id: caller.replica, role: .commune)
        try replica.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('\(code)-1', '\(scope)', 'Người')")
        try replica.fold()
        return (replica, caller)
    }
}
