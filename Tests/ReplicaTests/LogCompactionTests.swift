import Foundation
import MergeEngine
import Replica
import SyncCore
import Testing
import TestSupport

/// The office's log is bounded: rows the hub has held for longer than the horizon go, what
/// still matters stays (unsent, refused, the last row), no dot is handed out twice, and a
/// hub put back from a copy older than the horizon is noticed.
@Suite struct LogCompactionTests {
    /// `count` people typed one by one (one log row each) and folded; their counters.
    static func typePeople(_ count: Int, into replica: Replica) throws -> [UInt64] {
        for index in 1...count {
            try replica.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('p\(index)', 'u1', 'Người \(index)')")
            try replica.fold()
        }
        return try replica.capturedChanges().map(\.dot.counter)
    }

    @Test func rowsTheHubHasHeldPastTheHorizonGoAndNothingElse() throws {
        let fixture = try ReplicaFixture()
        let replica = try fixture.create("22499")
        let counters = try Self.typePeople(5, into: replica)
        let block = { (row: Int) in counters.filter { DotBlock.of($0) == DotBlock.of(counters[0]) + UInt64(row - 1) } }
        // The hub holds rows 1 to 4; it refused one change of row 2; row 5 is not sent yet.
        try replica.acknowledgePush(through: block(4).max()!, refused: [
            RefusedChange(counter: block(2).min()!, table: "persons", row: "p2", column: "full_name", code: "too_large", message: "test",
                          at: "2026-01-01T00:00:00Z", state: .open),
        ])
        let register = try SQLiteShell.run(replica.database.path, "SELECT * FROM persons ORDER BY id;")
        let digest = try replica.digest(scope: nil)
        let start = Date(timeIntervalSince1970: 1_767_225_600)
        let day = 86_400.0
        #expect(try replica.compactLog(keepingDays: 90, now: start) == 0, "the first call only marks")
        #expect(try replica.compactLog(keepingDays: 90, now: start + 89 * day) == 0, "not before the horizon")
        #expect(try replica.compactLog(keepingDays: 90, now: start + 90 * day) == 3)
        let kept = try SQLiteShell.run(replica.database.path, "SELECT group_concat(pk) FROM (SELECT pk FROM _sync_log ORDER BY seq);")
        #expect(kept == "p2,p5", "the refused row and the unsent last row stay")
        #expect(try SQLiteShell.run(replica.database.path, "SELECT * FROM persons ORDER BY id;") == register)
        #expect(try replica.digest(scope: nil) == digest)

        // The next write's dots come after every dot handed out before.
        try replica.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('p6', 'u1', 'Người 6')")
        try replica.fold()
        let written = try replica.capturedChanges().filter { $0.row == "p6" }
        #expect(!written.isEmpty && written.allSatisfy { $0.dot.counter > counters.max()! })
        // What was sent is still counted as sent; what was not, as not.
        #expect(try ReplicaHealth.read(path: replica.database.path).unackedRows == 2)
    }

    @Test func aHubPutBackFromACopyOlderThanTheHorizonIsNoticed() throws {
        let fixture = try ReplicaFixture()
        let replica = try fixture.create("22499")
        let counters = try Self.typePeople(3, into: replica)
        try replica.acknowledgePush(through: counters.max()!, refused: [])
        let start = Date(timeIntervalSince1970: 1_767_225_600)
        try replica.compactLog(keepingDays: 30, now: start)
        #expect(try replica.compactLog(keepingDays: 30, now: start + 31 * 86_400) == 2)
        // A copy that holds all of it: nothing to say.
        try replica.noteHubBehindCompactedLog(held: counters.max()!, at: start + 40 * 86_400)
        #expect(try ReplicaHealth.read(path: replica.database.path).hubLacksDroppedAt == nil)
        // A copy from before any of it: said.
        try replica.noteHubBehindCompactedLog(held: 0, at: start + 40 * 86_400)
        #expect(try ReplicaHealth.read(path: replica.database.path).hubLacksDroppedAt == "2026-02-10T00:00:00Z")
    }
}
