import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import MergeEngine
import Register
import Replica
import SyncCore
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
}
