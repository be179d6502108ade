import Foundation
import HubCore
import Replica
import SyncCore
import SyncProtocol
import Testing
import TestSupport

/// The hub's feed is bounded by what the merge state holds: entries superseded there go once
/// they are older than the horizon, and an office that pulls the feed from its very start
/// afterwards ends with the same merge state as one that received everything.
@Suite struct FeedCompactionTests {
    @Test(arguments: HubBackend.allCases)
    func supersededEntriesGoAndAPullFromTheStartStillEndsTheSame(on backend: HubBackend) async throws {
        let bench = try HubStoreTests.Bench(backend)
        let writer = try await bench.office("11111", scope: "unit-a")
        let late = try await bench.office("11112", scope: "unit-a")
        try writer.0.database.execute("INSERT INTO persons(id, commune_id, full_name, phone) VALUES ('p1', 'unit-a', 'An', '0901')")
        try await bench.push(writer)
        for name in ["Nguyễn An", "Nguyễn Văn An"] {
            try writer.0.database.execute("UPDATE persons SET full_name = '\(name)' WHERE id = 'p1'")
            try await bench.push(writer)
        }
        // The district corrects the phone; a row deleted keeps its delete.
        try bench.districtSQL("UPDATE persons SET phone = '0999' WHERE id = 'p1'")
        try writer.0.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('p2', 'unit-a', 'Bình')")
        try await bench.push(writer)
        try writer.0.database.execute("DELETE FROM persons WHERE id = 'p2'")
        try await bench.push(writer)
        _ = try await bench.store.pull(for: writer.1, after: 0, limit: 1_000)
        let before = try await bench.store.pull(for: late.1, after: 0, limit: 1_000).changes.flatMap { $0.changes() ?? [] }

        let start = Date()
        #expect(try await bench.store.compactFeed(keepingDays: 30, now: start).dropped == 0, "the first call only marks")
        #expect(try await bench.store.compactFeed(keepingDays: 30, now: start + 29 * 86_400).dropped == 0)
        // The late office, seen within the horizon, has not pulled p2's delete: p2 is kept
        // whole (`TombstoneTests`), so only superseded entries go here.
        await bench.store.noteOffice(late.1, header: nil, pulledThrough: 0, numbered: 0, at: start + 29 * 86_400)
        #expect(try await bench.store.compactFeed(keepingDays: 30, now: start + 30 * 86_400).superseded == 3, "the two full_name writes and the phone seen since")
        let after = try await bench.store.pull(for: late.1, after: 0, limit: 1_000).changes.flatMap { $0.changes() ?? [] }
        #expect(after.count == before.count - 3)
        #expect(after.contains { $0.operation == .delete } && after.contains { $0.column == "commune_id" })

        try late.0.apply(after)
        let full = try Replica.create(at: bench.directory.path("full.db"), id: "11113", role: .commune)
        try full.apply(before)
        #expect(try late.0.digest(scope: "unit-a") == full.digest(scope: "unit-a"))
        #expect(try SQLiteShell.run(late.0.database.path, "SELECT id, full_name, phone FROM persons;") == "p1|Nguyễn Văn An|0999")
    }
}
