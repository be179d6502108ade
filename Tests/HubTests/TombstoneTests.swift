import Foundation
import HubCore
import MergeEngine
import Register
import Replica
import SyncCore
import SyncProtocol
import Testing
import TestSupport

/// A deleted row's merge state keeps the whole record it deleted; after the horizon the hub
/// forgets it (clock, deletes and commune stay) — but only once no office can still send a
/// change of it made before it saw the delete, and a change that comes anyway from an office
/// away for longer is refused, never bringing back part of the row.
@Suite struct TombstoneTests {
    static let day = 86_400.0

    /// Two offices of one commune: p1 stays, p2 is deleted by the first; the second has
    /// pulled everything up to before the delete.
    struct Scene {
        let bench: HubStoreTests.Bench
        let deleter: (Replica, Caller)
        let other: (Replica, Caller)
        let start = Date()

        init(_ backend: HubBackend) async throws {
            bench = try HubStoreTests.Bench(backend)
            deleter = try await bench.office("11111", scope: "unit-a")
            other = try await bench.office("11112", scope: "unit-a")
            try deleter.0.database.execute("""
                INSERT INTO persons(id, commune_id, full_name, phone) VALUES ('p1', 'unit-a', 'An', '0901'), ('p2', 'unit-a', 'Bình', '0902');
                """)
            try await bench.push(deleter)
            try other.0.apply(try await pulled(other, after: 0))
        }

        func pulled(_ office: (Replica, Caller), after: Int64) async throws -> [Change] {
            try await bench.store.pull(for: office.1, after: after, limit: 1_000).changes.flatMap { $0.changes() ?? [] }
        }

        /// What the office's pull would tell the hub of itself, kept as the hub keeps it.
        func note(_ office: (Replica, Caller), pulledThrough: Int64, at time: Date) async throws {
            await bench.store.noteOffice(office.1, header: nil, pulledThrough: pulledThrough, numbered: try office.0.numberedForHub, at: time)
            await bench.store.writeOfficeFacts()
        }

        func hubState(_ row: String) async throws -> RowState? {
            let reply = try await bench.store.rows(
                RowsRequest(table: "persons", buckets: [ScopeDigest.bucket(table: "persons", row: row)]), for: deleter.1)
            return reply.rows.first { $0.row == row }?.state
        }

        func feedEnd() async throws -> Int64 { try await bench.store.pull(for: deleter.1, after: 0, limit: 1).next }
    }

    @Test(arguments: HubBackend.allCases)
    func aDeletedRowIsForgottenOnlyOnceEveryOfficeIsPastItAndHasSentWhatItTypedBefore(on backend: HubBackend) async throws {
        let scene = try await Scene(backend)
        let (start, day) = (scene.start, Self.day)
        try scene.deleter.0.database.execute("DELETE FROM persons WHERE id = 'p2'")
        try await scene.bench.push(scene.deleter)
        let full = try #require(try await scene.hubState("p2"))
        #expect(full.isDeleted && full.fields.count > 1)
        #expect(try await scene.bench.store.compactFeed(keepingDays: 30, now: start).dropped == 0, "the first call only marks")

        // The other office has not pulled the delete: p2 stays whole.
        try await scene.note(scene.other, pulledThrough: 1, at: start + 29 * day)
        try await scene.note(scene.deleter, pulledThrough: try await scene.feedEnd(), at: start + 29 * day)
        #expect(try await scene.bench.store.compactFeed(keepingDays: 30, now: start + 30 * day).forgottenRows == 0)

        // It pulls past the delete, but had typed a change (of p1) before, not yet sent: still whole.
        try scene.other.0.database.execute("UPDATE persons SET phone = '0977' WHERE id = 'p1'")
        try scene.other.0.fold()
        try scene.other.0.apply(try await scene.pulled(scene.other, after: 0))
        try await scene.note(scene.other, pulledThrough: try await scene.feedEnd(), at: start + 59 * day)
        try await scene.note(scene.deleter, pulledThrough: try await scene.feedEnd(), at: start + 59 * day)
        #expect(try await scene.bench.store.compactFeed(keepingDays: 30, now: start + 60 * day).forgottenRows == 0)

        // Sent: now no office can send a change of p2 made before it saw the delete.
        try await scene.bench.push(scene.other)
        try await scene.note(scene.other, pulledThrough: try await scene.feedEnd(), at: start + 89 * day)
        try await scene.note(scene.deleter, pulledThrough: try await scene.feedEnd(), at: start + 89 * day)
        let before = try await scene.pulled(scene.other, after: 0).filter { $0.row == "p2" }
        let done = try await scene.bench.store.compactFeed(keepingDays: 30, now: start + 90 * day)
        #expect(done.forgottenRows == 1)
        let forgotten = try #require(try await scene.hubState("p2"))
        #expect(forgotten.isDeleted && Set(forgotten.fields.keys) == [RowScope.column])
        #expect(forgotten.clock == full.clock && forgotten.deletes == full.deletes)
        let after = try await scene.pulled(scene.other, after: 0).filter { $0.row == "p2" }
        #expect(after.count < before.count && after.allSatisfy { $0.operation == .delete || $0.column == RowScope.column })
        #expect(done.forgottenEntries == before.count - after.count)
        #expect(try await scene.hubState("p1")?.fields.count ?? 0 > 1, "a live row is never forgotten")

        // An office that pulls from the start ends with the hub's state; the offices that held
        // the whole record take the hub's in its place, and all agree.
        let fresh = try await scene.bench.office("11113", scope: "unit-a")
        try fresh.0.apply(try await scene.pulled(fresh, after: 0))
        #expect(try fresh.0.rowState(table: "persons", row: "p2") == forgotten)
        for office in [scene.deleter, scene.other] {
            try office.0.apply(try await scene.pulled(office, after: 0))
            let key = RowKey(table: "persons", row: "p2")
            #expect(try office.0.adoptForgotten([(key, forgotten)]) == [key])
            #expect(try office.0.digest(scope: "unit-a") == fresh.0.digest(scope: "unit-a"))
        }
        #expect(try fresh.0.adoptForgotten([(RowKey(table: "persons", row: "p1"), forgotten)]).isEmpty, "a live row is never replaced")

        // Entered again after the delete: taken.
        try scene.other.0.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('p2', 'unit-a', 'Bình')")
        let again = try await scene.bench.push(scene.other)
        #expect(again.refused.isEmpty && again.applied > 0)
        #expect(try await scene.hubState("p2")?.isLive == true)
    }

    @Test(arguments: HubBackend.allCases)
    func aChangeFromAnOfficeAwayPastTheHorizonToARowForgottenMeanwhileIsRefused(on backend: HubBackend) async throws {
        let scene = try await Scene(backend)
        let (start, day) = (scene.start, Self.day)
        // The other office edits p2 and goes away before sending it; the first deletes p2.
        try scene.other.0.database.execute("UPDATE persons SET phone = '0988' WHERE id = 'p2'")
        try scene.other.0.fold()
        try await scene.note(scene.other, pulledThrough: 1, at: start)
        try scene.deleter.0.database.execute("DELETE FROM persons WHERE id = 'p2'")
        try await scene.bench.push(scene.deleter)
        #expect(try await scene.bench.store.compactFeed(keepingDays: 30, now: start).dropped == 0)
        try await scene.note(scene.deleter, pulledThrough: try await scene.feedEnd(), at: start + 29 * day)
        // Not seen for longer than the horizon: it no longer holds the commune's rows back.
        #expect(try await scene.bench.store.compactFeed(keepingDays: 30, now: start + 31 * day).forgottenRows == 1)

        let back = try await scene.bench.push(scene.other)
        #expect(back.refused.map(\.code) == ["forgotten_row"], "\(back.refused)")
        #expect(back.refused.first?.message.contains("syncctl refused clear persons/p2") == true)
        #expect(try await scene.hubState("p2")?.isDeleted == true, "nothing of p2 came back")
        #expect(try await scene.bench.push(scene.other).refused.isEmpty, "settled once")
    }
}
