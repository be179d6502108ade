import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import Testing
import TestSupport

/// A writer killed with SIGKILL in the middle of a large transaction leaves no trace, every
/// committed write stays captured, and no dot is ever handed out twice.
@Suite struct CrashTests {
    static func insertRows(_ count: Int, prefix: String) -> String {
        """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(count))
        INSERT INTO persons(id, full_name, phone) SELECT '\(prefix)-' || i, 'Người ' || i, '09' || i FROM n;
        """
    }

    @Test func aWriterKilledMidTransactionLeavesNoTraceAndDotsNeverRepeat() throws {
        let fixture = try ReplicaFixture()
        let path = fixture.path("22499")
        var replica: Replica? = try fixture.create("22499")
        var committed = 0
        var everyDot: Set<Dot> = []
        for round in 0..<4 {
            try SQLiteShell.run(path, Self.insertRows(50, prefix: "kept\(round)"))
            committed += 50
            // The large transaction runs for about a second; the kill lands inside it.
            let writer = try SQLiteShell.start(path, script: "BEGIN;\n" + Self.insertRows(400_000, prefix: "lost\(round)") + "\nCOMMIT;\n")
            Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.4))
            let stillWriting = writer.isRunning
            kill(writer.processIdentifier, SIGKILL)
            Programs.finish(writer)
            #expect(stillWriting, "the writer finished before the kill; make its transaction larger")
            #expect(writer.terminationReason == .uncaughtSignal)

            // Reopen as syncd would after a crash (SQLite rolls the WAL back on open).
            replica = nil
            replica = try Replica(openingExisting: path)
            try replica!.fold()
            #expect(try SQLiteShell.run(path, "SELECT count(*) FROM persons;") == "\(committed)")
            #expect(try SQLiteShell.run(path, "SELECT count(*) FROM persons WHERE id LIKE 'lost%';") == "0")
            #expect(try SQLiteShell.run(path, "SELECT count(*) FROM _sync_log WHERE pk LIKE 'lost%';") == "0")
            let changes = try replica!.capturedChanges()
            #expect(Set(changes.map(\.row)).count == committed)
            let dots = Set(changes.map(\.dot))
            #expect(dots.count == changes.count)
            #expect(dots.isSuperset(of: everyDot), "a dot handed out before the crash was lost or renumbered")
            everyDot = dots
        }
        #expect(try SQLiteShell.run(path, "PRAGMA integrity_check;") == "ok")
    }
}

/// A replica whose wall clock jumps back still stamps its changes in increasing order.
@Suite struct ClockTests {
    @Test func changesWrittenAfterTheClockJumpsBackStillOrderAfterEarlierOnes() throws {
        let fixture = try ReplicaFixture()
        let replica = try fixture.create("22499")
        try SQLiteShell.run(fixture.path("22499"), "INSERT INTO persons(id, phone) VALUES ('p1', '0901');")
        try replica.fold()
        let before = try replica.capturedChanges().last!.timestamp
        // Two writes, each stamped as if the clock had been set back a day.
        for phone in ["0902", "0903"] {
            try SQLiteShell.run(fixture.path("22499"), """
                UPDATE persons SET phone = '\(phone)' WHERE id = 'p1';
                UPDATE _sync_log SET at_ms = at_ms - 86400000 WHERE hlc IS NULL;
                """)
            try replica.fold()
        }
        let after = try replica.capturedChanges().suffix(2).map(\.timestamp)
        #expect(after.count == 2)
        #expect(before < after[0] && after[0] < after[1])
    }
}
