import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import Testing
import TestSupport

/// A hub and three communes as separate processes, written through the sqlite3 shell on all
/// four, converge: each commune holds exactly what the hub holds of its scope.
@Suite(.serialized) struct ConvergenceTests {
    static let communeCodes = ["06913", "06916", "06910"]

    func people(_ commune: CommuneNode, count: Int, from first: Int = 0) -> String {
        (first..<first + count).map { index in
            """
            INSERT INTO persons(id, commune_id, full_name, birth_date, gender, citizen_id, phone, degree, status)
            VALUES ('p-\(commune.code)-\(index)', '\(commune.unit)', 'Người \(commune.code) số \(index)', '1980-01-\(10 + index % 18)',
                    '\(index % 2 == 0 ? "male" : "female")', '0221\(commune.code)\(index)', '09\(index)', 'university', 'active');
            """
        }.joined(separator: "\n")
    }

    @Test func aHubAndThreeCommunesConvergeIncludingConcurrentEdits() throws {
        let cluster = try SyncCluster(label: "converge")
        let communes = try Self.communeCodes.map { try cluster.addCommune($0) }
        for commune in communes { try commune.start() }
        #expect(eventually { communes.allSatisfy(\.hasUnits) }, "every commune bootstraps the hub's units")

        // Everyone writes: communes their own people, seats and assignments; the district a
        // person in each commune.
        for commune in communes {
            try SQLiteShell.run(commune.database, people(commune, count: 5) + """
                INSERT INTO positions(id, commune_id, unit_id, title_id, seat_no, capacity) VALUES ('seat-\(commune.code)', '\(commune.unit)', '\(commune.unit)', 'chu_tich_ubnd', 1, 1);
                INSERT INTO assignments(id, commune_id, person_id, position_id, kind, decision_no, start_date)
                VALUES ('a-\(commune.code)', '\(commune.unit)', 'p-\(commune.code)-0', 'seat-\(commune.code)', 'primary', '12/QĐ-UBND', '2024-01-01');
                """)
            try SQLiteShell.run(cluster.hub.database, """
                INSERT INTO persons(id, commune_id, full_name, status) VALUES ('p-district-\(commune.code)', '\(commune.unit)', 'Cán bộ huyện tăng cường', 'active');
                """)
        }
        #expect(eventually { try communes.allSatisfy { try scopeContent($0.database, unit: $0.unit) == scopeContent(cluster.hub.database, unit: $0.unit) } })

        // Concurrent edits: the first commune's daemon is stopped (offline), it and the
        // district edit the same rows, then it comes back.
        let offline = communes[0]
        offline.stop()
        try SQLiteShell.run(offline.database, """
            UPDATE persons SET phone = '0911000111', degree = 'master' WHERE id = 'p-\(offline.code)-1';
            DELETE FROM persons WHERE id = 'p-\(offline.code)-2';
            UPDATE assignments SET end_date = '2024-06-30', end_reason = 'rotation' WHERE id = 'a-\(offline.code)';
            """)
        try SQLiteShell.run(cluster.hub.database, """
            UPDATE persons SET phone = '0922000222' WHERE id = 'p-\(offline.code)-1';
            UPDATE persons SET political_theory = 'intermediate' WHERE id = 'p-\(offline.code)-2';
            UPDATE assignments SET decision_no = '99/QĐ-UBND' WHERE id = 'a-\(offline.code)';
            """)
        // Give the hub time to fold its edits into the feed before the commune returns.
        Thread.sleep(forTimeInterval: 2.5)
        try offline.start()
        #expect(eventually { try communes.allSatisfy { try scopeContent($0.database, unit: $0.unit) == scopeContent(cluster.hub.database, unit: $0.unit) } })

        let hubView = try scopeContent(cluster.hub.database, unit: offline.unit)
        // The phone was edited on both sides: one value wins by rule, the conflict is recorded.
        #expect(try SQLiteShell.run(offline.database, "SELECT count(*) FROM _sync_conflicts WHERE pk = 'p-\(offline.code)-1' AND col = 'phone' AND state <> 'closed';") == "1")
        #expect(hubView.contains("p-\(offline.code)-1|\(offline.unit)"))
        // Delete vs concurrent update: the update wins, the row is back whole.
        #expect(try SQLiteShell.run(offline.database, "SELECT full_name, political_theory FROM persons WHERE id = 'p-\(offline.code)-2';")
                == "Người \(offline.code) số 2|intermediate")
        // Different fields of one row merge without conflict.
        #expect(try SQLiteShell.run(offline.database, "SELECT end_date, decision_no FROM assignments WHERE id = 'a-\(offline.code)';")
                == "2024-06-30|99/QĐ-UBND")
        // No commune holds another commune's people.
        for commune in communes {
            #expect(try SQLiteShell.run(commune.database, "SELECT count(*) FROM persons WHERE commune_id <> '\(commune.unit)';") == "0")
        }
    }

    @Test func anEmptyReplicaBootstrapsFromTheSnapshotAndEndsIdenticalToOneThatSyncedAllAlong() throws {
        let cluster = try SyncCluster(label: "snapshot")
        let steady = try cluster.addCommune("06913")
        try steady.start()
        #expect(eventually { steady.hasUnits })
        try SQLiteShell.run(steady.database, people(steady, count: 30))
        try SQLiteShell.run(cluster.hub.database, "UPDATE persons SET note = 'đã xác minh' WHERE id = 'p-06913-3';")
        #expect(eventually { try scopeContent(steady.database, unit: steady.unit) == scopeContent(cluster.hub.database, unit: steady.unit) })

        // The office's disk died: a new, empty replica with the same id and credential.
        steady.stop()
        let rebuiltPath = cluster.directory.path("06913-rebuilt.db")
        let config = try String(contentsOfFile: steady.config, encoding: .utf8).replacingOccurrences(of: steady.database, with: rebuiltPath)
        let rebuiltConfig = cluster.directory.path("06913-rebuilt.toml")
        try config.write(toFile: rebuiltConfig, atomically: true, encoding: .utf8)
        let first = try Programs.run("syncctl", ["sync", "--config", rebuiltConfig])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("this office's data was filled from the hub"))
        #expect(try scopeContent(rebuiltPath, unit: steady.unit) == scopeContent(steady.database, unit: steady.unit))

        // It continues by pull (and its new writes get dots the hub has never seen).
        try SQLiteShell.run(cluster.hub.database, "UPDATE persons SET phone = '0999' WHERE id = 'p-06913-4';")
        try SQLiteShell.run(rebuiltPath, "UPDATE persons SET degree = 'master' WHERE id = 'p-06913-5';")
        #expect(eventually {
            _ = try Programs.run("syncctl", ["sync", "--config", rebuiltConfig])
            return try scopeContent(rebuiltPath, unit: steady.unit) == scopeContent(cluster.hub.database, unit: steady.unit)
                && (try SQLiteShell.run(rebuiltPath, "SELECT phone, (SELECT degree FROM persons WHERE id = 'p-06913-5') FROM persons WHERE id = 'p-06913-4';")) == "0999|master"
        })
        let rebuilt = try Replica(openingExisting: rebuiltPath)
        #expect(try rebuilt.capturedChanges().allSatisfy { $0.dot.counter > 30 * 64 }, "new dots start above every dot of the lost file")
    }
}
