import Foundation
import HubCore
import SyncCore
import Testing
import TestSupport

/// What an office reads (pull, snapshot, digest, rows) never queues behind a write: on SQLite
/// reads run on read-only connections beside the writer, as WAL allows, and the hub's logic
/// serves them outside its actor. A read sees what was committed when it began, never a write
/// still under way.
@Suite struct ReadsBesideWritesTests {
    typealias Bench = HubStoreTests.Bench

    /// A write transaction held open, as a long push would hold it, until `release`.
    final class HeldWrite: Sendable {
        private let opened = AsyncStream<Void>.makeStream()
        private let released = AsyncStream<Void>.makeStream()
        let task: Task<Void, any Error>

        init(on store: HubStore, writing origin: ReplicaID) async {
            let (opened, released) = (opened, released)
            task = Task {
                try await store.storage.write { transaction in
                    try await transaction.recordReceived(origin, counter: 99)
                    opened.continuation.yield()
                    for await _ in released.stream { break }
                }
            }
            for await _ in opened.stream { break }
        }

        /// Lets the write commit (once; later calls only wait for it).
        func release() async throws {
            released.continuation.yield()
            released.continuation.finish()
            try await task.value
        }
    }

    /// Runs `body` while `held` is open, failing the test (instead of hanging it) if it takes
    /// longer than `limit`: the write is then let go, so that `body` can end.
    static func within<T: Sendable>(
        _ limit: Duration, _ what: String, _ held: HeldWrite, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        let waited = try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask { try await Task.sleep(for: limit); return nil }
            let first = try await group.next()!
            if first == nil { try await held.release() }
            group.cancelAll()
            return first
        }
        if waited == nil { Issue.record("\(what) waited \(limit) behind a write transaction") }
        return waited
    }

    @Test(arguments: HubBackend.allCases)
    func anOfficeIsServedWhileAWriteIsUnderWayAndSeesOnlyWhatWasCommitted(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        let a = try await bench.office("11111", scope: "unit-a")
        let b = try await bench.office("22222", scope: "unit-a")
        try b.0.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('pb1', 'unit-a', 'Bình')")
        try await bench.push(b)
        let (store, caller) = (bench.store, a.1)
        // Reads that find district edits not fed yet feed them first, a write: none wait here.
        try await store.ingestLocalEdits()
        let held = await HeldWrite(on: store, writing: "33333")
        // Each read below must finish while the write is still open; if one does not, the
        // write is let go after the limit so the test ends.
        let pulled = try await Self.within(.seconds(20), "a pull", held) {
            try await store.pull(for: caller, after: 0, limit: 100)
        }
        // A snapshot's first page records the office as told of moves (a write); the pages
        // after it only read.
        let snapshot = try await Self.within(.seconds(20), "a snapshot page", held) {
            try await store.snapshot(for: caller, cursor: "persons/", checkpoint: 1, limit: 100)
        }
        let digest = try await Self.within(.seconds(20), "a digest", held) { try await store.digest(for: caller) }
        let seen = try await Self.within(.seconds(20), "the received counter", held) {
            try await store.receivedCounter(of: "33333")
        }
        try await held.release()
        #expect(pulled?.changes.contains { $0.r == "pb1" } == true, "the committed push is served")
        #expect(snapshot?.rows.contains { $0.row == "pb1" } == true)
        #expect(digest?.tables.first { $0.table == "persons" }?.rows == 1)
        #expect(seen == 0, "a read saw a write not committed yet")
        #expect(try await store.receivedCounter(of: "33333") == 99, "the write committed once let go")
    }
}
