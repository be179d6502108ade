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

/// The hub's logic in-process, on each of its storages (`HubBackend`): no HTTP, no processes.
@Suite struct HubStoreTests {
    /// A hub and the commune offices that sync with it, as files in one temporary directory.
    final class Bench {
        let directory: TemporaryDirectory
        let backend: HubBackend
        let store: HubStore

        /// A hub on `backend` merging with `rules` (nil: the builtin ones).
        init(_ backend: HubBackend, rules: RuleSet? = nil) throws {
            directory = try TemporaryDirectory("hub-store-test")
            self.backend = backend
            store = HubStore(storage: try backend.open(in: directory, rules: rules))
        }

        /// A commune office's replica and the hub's caller for it.
        func office(_ code: ReplicaID, scope: String) async throws -> (Replica, Caller) {
            let token = try await store.issueCredential(for: code, scope: scope)
            let replica = try Replica.create(at: directory.path("\(code).db"), id: code, role: .commune)
            return (replica, try await store.authenticate("Bearer \(token)"))
        }

        /// Folds what the office typed and pushes all of it the hub has not settled yet.
        @discardableResult
        func push(_ office: (Replica, Caller)) async throws -> PushResponse {
            try office.0.fold()
            let held = try await store.receivedCounter(of: office.1.replica)
            return try await store.push(try office.0.capturedChanges(after: held), from: office.1)
        }

        /// Dots in the hub's feed, counted per dot: a dot held twice would show a count above 1.
        func feedDotCounts() throws -> [Dot: Int] { try backend.feedDotCounts(in: directory) }

        /// District staff writing in the hub's file with plain SQL, as they may.
        func districtSQL(_ sql: String) throws {
            try backend.districtSQL(sql, in: directory)
        }
    }

    /// A batch the hub holds, sent again whole (`HubTransaction.settled` reads it in one
    /// query): the same answers, refusals included, and nothing applied twice; a change under
    /// a settled dot that is not the one held is refused as a diverged replica.
    @Test(arguments: HubBackend.allCases)
    func aResentBatchGetsTheSameAnswersAndAChangedOneIsRefusedAsDiverged(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        let a = try await bench.office("11111", scope: "unit-a")
        try a.0.database.execute("""
            INSERT INTO persons(id, commune_id, full_name) VALUES ('pa1', 'unit-a', 'An'), ('px', 'unit-b', 'Not mine');
            """)
        try a.0.fold()
        let batch = try a.0.capturedChanges(after: 0)
        let first = try await bench.store.push(batch, from: a.1)
        #expect(first.applied > 0 && Set(first.refused.map(\.row)) == ["px"])
        let feed = try bench.feedDotCounts()

        let again = try await bench.store.push(batch, from: a.1)
        #expect(again.applied == 0)
        #expect(again.duplicates == batch.count - again.refused.count)
        #expect(again.refused.map(\.counter).sorted() == first.refused.map(\.counter).sorted())
        #expect(Set(again.refused.map(\.code)) == ["out_of_scope"])
        #expect(try bench.feedDotCounts() == feed)

        // The same dot with another value: a replica handing out its counters again.
        let changed = batch.map { change in
            guard change.row == "pa1", change.column == "full_name" else { return change }
            return Change(table: change.table, row: change.row, operation: .set(column: "full_name", value: .text("Another")),
                          dot: change.dot, context: change.context, timestamp: change.timestamp)
        }
        await #expect { try await bench.store.push(changed, from: a.1) } throws: { ($0 as? HubError)?.code == "replica_diverged" }
    }

    @Test(arguments: HubBackend.allCases)
    func everyAnswerAgreesOnWhichCommuneKeepsARow(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        let a = try await bench.office("11111", scope: "unit-a")
        let b = try await bench.office("22222", scope: "unit-b")
        try a.0.database.execute("""
            INSERT INTO persons(id, commune_id, full_name) VALUES ('pa1', 'unit-a', 'An'), ('pa2', 'unit-a', 'Bình');
            INSERT INTO persons(id, commune_id, full_name) VALUES ('px', 'unit-b', 'Not mine');
            """)
        let pushed = try await bench.push(a)
        #expect(Set(pushed.refused.map(\.row)) == ["px"])
        try bench.districtSQL("""
            INSERT INTO persons(id, commune_id, full_name) VALUES ('pb1', 'unit-b', 'Cúc'), ('nobody1', NULL, 'Lost');
            INSERT INTO units(id, code, name, kind) VALUES ('unit-a', '11111', 'Xã A', 'commune');
            """)
        // A deleted row still belongs where it was.
        try a.0.database.execute("DELETE FROM persons WHERE id = 'pa2'")
        try await bench.push(a)
        try await bench.store.ingestLocalEdits()

        let expected: [String: Set<String>] = [
            "11111": ["persons/pa1", "persons/pa2", "units/unit-a"],
            "22222": ["persons/pb1", "units/unit-a"],
        ]
        for office in [a, b] {
            let caller = office.1
            let want = expected[caller.replica.rawValue]!
            // Everything the hub holds in the feed, whoever wrote it: pull as a third office of the same scope.
            let watcher = try await bench.office(ReplicaID(rawValue: "9\(caller.replica.rawValue.dropFirst())")!, scope: caller.scope)
            let pulled = try await bench.store.pull(for: watcher.1, after: 0, limit: 1_000)
            #expect(Set(pulled.changes.map { "\($0.t)/\($0.r)" }) == want, "feed of \(caller.scope)")
            let snapshot = try await bench.store.snapshot(for: caller, cursor: nil, checkpoint: nil, limit: 1_000)
            #expect(Set(snapshot.rows.map { "\($0.table)/\($0.row)" }) == want, "snapshot of \(caller.scope)")
            let digest = try await bench.store.digest(for: caller)
            #expect(digest.tables.reduce(0) { $0 + $1.rows } == want.count, "digest of \(caller.scope)")
            var byId: Set<String> = []
            var byBucket: Set<String> = []
            for table in ["persons", "units"] {
                let ids = ["pa1", "pa2", "px", "pb1", "nobody1", "unit-a"]
                byId.formUnion(try await bench.store.rows(RowsRequest(table: table, ids: ids), for: caller).rows.map { "\($0.table)/\($0.row)" })
                byBucket.formUnion(try await bench.store.rows(
                    RowsRequest(table: table, buckets: Array(0..<ScopeDigest.bucketCount)), for: caller).rows.map { "\($0.table)/\($0.row)" })
            }
            #expect(byId == want, "rows by id of \(caller.scope)")
            #expect(byBucket == want, "rows by bucket of \(caller.scope)")
        }
        // And a push names the same owner: b may not change a's row.
        try b.0.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('pa1', 'unit-b', 'Taken')")
        let refused = try await bench.push(b)
        #expect(!refused.refused.isEmpty && refused.refused.allSatisfy { $0.code == "out_of_scope" })
        #expect(refused.applied == 0)
    }

    @Test(arguments: HubBackend.allCases)
    func aChangeComesBackFromTheHubAsItWasPushed(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        let first = try await bench.office("11111", scope: "unit-a")
        let second = try await bench.office("11112", scope: "unit-a")
        try first.0.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-a', 'An')")
        try first.0.fold()
        let sent = try first.0.capturedChanges()
        try await bench.push(first)
        // The second office learns of them and writes after them: its context names them.
        let pulled = try await bench.store.pull(for: second.1, after: 0, limit: 100)
        #expect(pulled.changes.flatMap { $0.changes() ?? [] } == sent)
        try second.0.apply(pulled.changes.flatMap { $0.changes() ?? [] })
        try second.0.database.execute("UPDATE persons SET full_name = 'An B' WHERE id = 'p1'")
        try second.0.fold()
        let later = try second.0.capturedChanges()
        try await bench.push(second)
        let own = try await bench.store.ownChanges(for: second.1, after: 0, limit: 100)
        #expect(own.changes.flatMap { $0.changes() ?? [] } == later)
        #expect(later.allSatisfy { $0.context[first.1.replica] > 0 })
    }

    @Test(arguments: HubBackend.allCases)
    func aDecisionIsNeverWrittenWithoutItsRecord(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        let first = try await bench.office("11111", scope: "unit-a")
        let second = try await bench.office("11112", scope: "unit-a")
        try first.0.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-a', 'An')")
        try second.0.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-a', 'Ân')")
        try await bench.push(first)
        try await bench.push(second)
        let reviewer = try await bench.store.authenticate(
            "Bearer " + (try await bench.store.issueCredential(for: "reviewer1", scope: nil, reviewer: true)))
        let conflict = try #require(try await bench.store.conflicts(state: "all", for: reviewer).first { $0.id == "persons/p1/full_name" })
        func fullName() throws -> String? {
            try bench.backend.scalar("SELECT full_name FROM persons WHERE id = 'p1'", in: bench.directory)?.textValue
        }
        let before = try fullName()

        // The record cannot be kept (as if the disk filled up between the two): nothing is written.
        try backend.failReviewRecords(true, in: bench.directory)
        let decision = ResolveRequest(id: conflict.id, pick: nil, value: .text("Nguyễn Văn An"), reason: "as on the citizen id")
        await #expect(throws: (any Error).self) { try await bench.store.resolve(decision, by: reviewer) }
        #expect(try fullName() == before)
        #expect(try await bench.store.conflicts(state: "all", for: reviewer).first { $0.id == conflict.id }?.state == conflict.state)
        #expect(try bench.feedDotCounts().keys.allSatisfy { $0.replica != "200" })

        try backend.failReviewRecords(false, in: bench.directory)
        let decided = try await bench.store.resolve(decision, by: reviewer)
        #expect(try fullName() == "Nguyễn Văn An")
        #expect(decided.wrote == 1)
        let reverted = try await bench.store.revert(RevertRequest(review: decided.review, reason: "wrong person"), by: reviewer)
        #expect(reverted.wrote == 1)
        #expect(try fullName() == before)
    }

    @Test(arguments: HubBackend.allCases)
    func pagesOfSnapshotAndPullHoldWhatOnePageHolds(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        let office = try await bench.office("11111", scope: "unit-a")
        let other = try await bench.office("22222", scope: "unit-b")
        try office.0.database.execute((1...7).map {
            "INSERT INTO persons(id, commune_id, full_name) VALUES ('p\($0)', 'unit-a', 'Người \($0)');"
        }.joined())
        try other.0.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('q1', 'unit-b', 'Khác')")
        try await bench.push(office)
        try await bench.push(other)
        try bench.districtSQL("""
            INSERT INTO units(id, code, name, kind) VALUES ('unit-a', '11111', 'Xã A', 'commune'), ('unit-b', '22222', 'Xã B', 'commune');
            """)
        let watcher = try await bench.office("11119", scope: "unit-a")

        let whole = try await bench.store.snapshot(for: watcher.1, cursor: nil, checkpoint: nil, limit: 1_000)
        var paged: [RowSnapshot] = []
        var cursor: String?
        repeat {
            let page = try await bench.store.snapshot(for: watcher.1, cursor: cursor, checkpoint: whole.checkpoint, limit: 2)
            #expect(page.rows.count <= 2)
            paged += page.rows
            cursor = page.cursor
        } while cursor != nil
        #expect(paged == whole.rows)
        #expect(Set(whole.rows.map(\.row)) == Set((1...7).map { "p\($0)" } + ["unit-a", "unit-b"]))

        let all = try await bench.store.pull(for: watcher.1, after: 0, limit: 1_000)
        var pulled: [ChangeGroup] = []
        var after: Int64 = 0
        var more = true
        while more {
            let page = try await bench.store.pull(for: watcher.1, after: after, limit: 3)
            pulled += page.changes
            (after, more) = (page.next, page.more)
        }
        #expect(pulled.flatMap { $0.changes() ?? [] } == all.changes.flatMap { $0.changes() ?? [] })
        #expect(after == all.next)
    }

    /// Many offices pushing and pulling at once while district staff write: one connection's
    /// transactions never interleave (they did when a storage call ran off the hub's actor,
    /// and the hub file ended up "malformed"), each change is in the feed once, and every
    /// office can pull every row of its scope.
    @Test(arguments: HubBackend.allCases)
    func officesAtOnceAreEachServedWhole(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        let store = bench.store
        let offices = 24, rounds = 6
        var callers: [(Caller, String)] = []
        for index in 0..<offices {
            let code = ReplicaID(rawValue: String(format: "3%04d", index))!
            let token = try await store.issueCredential(for: code, scope: "unit-\(index % 4)")
            callers.append((try await store.authenticate("Bearer \(token)"), bench.directory.path("\(code).db")))
        }
        let hubFile = bench.directory
        let sent = try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, (caller, path)) in callers.enumerated() {
                group.addTask {
                    let replica = try Replica.create(at: path, id: caller.replica, role: .commune)
                    var sent = 0
                    for round in 0..<rounds {
                        try replica.database.execute(
                            "INSERT INTO persons(id, commune_id, full_name) VALUES ('p\(index)-\(round)', '\(caller.scope)', 'Người \(round)')")
                        try replica.fold()
                        let held = try await store.receivedCounter(of: caller.replica)
                        let changes = try replica.capturedChanges(after: held)
                        let pushed = try await store.push(changes, from: caller)
                        #expect(pushed.refused.isEmpty && pushed.applied == changes.count)
                        sent += changes.count
                        _ = try await store.pull(for: caller, after: 0, limit: 10_000)
                        _ = try await store.digest(for: caller)
                    }
                    return sent
                }
            }
            group.addTask {
                for round in 0..<rounds {
                    try backend.districtSQL(
                        "INSERT INTO units(id, code, name, kind) VALUES ('u\(round)', '9000\(round)', 'Đơn vị \(round)', 'commune')",
                        in: hubFile)
                    _ = try await store.ingestLocalEdits()
                }
                return 0
            }
            return try await group.reduce(0, +)
        }
        _ = try await store.ingestLocalEdits()
        let counts = try bench.feedDotCounts()
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(counts.keys.filter { $0.replica != "200" }.count == sent)
        #expect(counts.keys.contains { $0.replica == "200" })
        for scope in 0..<4 {
            let watcher = try await bench.office(ReplicaID(rawValue: "4000\(scope)")!, scope: "unit-\(scope)")
            let pulled = try await store.pull(for: watcher.1, after: 0, limit: 100_000)
            let persons = Set(pulled.changes.filter { $0.t == "persons" }.map(\.r))
            let expected = Set((0..<offices).filter { $0 % 4 == scope }.flatMap { index in (0..<rounds).map { "p\(index)-\($0)" } })
            #expect(persons == expected, "unit-\(scope)")
            #expect(Set(pulled.changes.filter { $0.t == "units" }.map(\.r)) == Set((0..<rounds).map { "u\($0)" }))
        }
    }
}
