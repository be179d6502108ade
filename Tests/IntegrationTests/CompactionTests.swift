import Foundation
import HubCore
import HubSQLite
import Register
import Replica
import Testing
import TestSupport

/// Years of operation with real processes: an office that was away for longer than the
/// compaction horizon comes back to a hub whose feed was compacted meanwhile. What it typed
/// away arrives, what the others changed reaches it, and a row deleted elsewhere while it was
/// away stays deleted — whether or not the hub forgot it meanwhile (`TombstoneTests`).
@Suite(.serialized) struct CompactionTests {
    @Test func anOfficeBackAfterTheHorizonLosesNothingAndBringsNothingBack() async throws {
        let cluster = try SyncCluster(label: "compaction")
        let staying = try cluster.addCommune("06913")
        let away = try CommuneNode(code: "06913b", directory: cluster.directory, hubURL: cluster.hub.url, interval: 0.3)
        try cluster.hub.issueCredential(for: "06913b", into: away.credentialPath, scope: "unit-06913")
        defer { away.stop() }
        for office in [staying, away] { try office.start() }
        #expect(eventually { staying.hasUnits && away.hasUnits })
        try SQLiteShell.run(staying.database, """
            INSERT INTO persons(id, commune_id, full_name, phone) VALUES
              ('p1', 'unit-06913', 'An', '0901'), ('p2', 'unit-06913', 'Bình', '0902'), ('p3', 'unit-06913', 'Chi', '0903');
            """)
        #expect(eventually { try SQLiteShell.run(away.database, "SELECT count(*) FROM persons;") == "3" })

        // The office goes away, and types while it is.
        away.stop()
        try SQLiteShell.run(away.database, """
            UPDATE persons SET phone = '0987' WHERE id = 'p1';
            INSERT INTO persons(id, commune_id, full_name) VALUES ('p4', 'unit-06913', 'Dũng');
            """)
        // Meanwhile the commune corrects p1's name again and again and deletes p2.
        for name in ["Nguyễn An", "Nguyễn Văn An", "Nguyễn Văn Ân"] {
            try SQLiteShell.run(staying.database, "UPDATE persons SET full_name = '\(name)' WHERE id = 'p1';")
            try await Task.sleep(for: .milliseconds(400))
        }
        try SQLiteShell.run(staying.database, "DELETE FROM persons WHERE id = 'p2';")
        #expect(eventually { try SQLiteShell.run(cluster.hub.database, "SELECT group_concat(id) FROM (SELECT id FROM persons ORDER BY id);") == "p1,p3" })
        #expect(eventually { try staying.status().json["unacked_rows"] as? Int == 0 })

        // The horizon passes: the hub's daily compaction (run here on its file, as the running
        // synchub's daily task runs it) drops what the merge state superseded.
        let store = try HubStore(path: cluster.hub.database, district: "200")
        let now = Date()
        #expect(try await store.compactFeed(keepingDays: 90, now: now).dropped == 0)
        let dropped = try await store.compactFeed(keepingDays: 90, now: now.addingTimeInterval(91 * 86_400)).superseded
        #expect(dropped >= 3, "p1's three superseded names went, at least")

        // Back: nothing it typed is lost, nothing deleted meanwhile comes back.
        try away.start()
        let expected = "p1|Nguyễn Văn Ân|0987 p3|Chi|0903 p4|Dũng|"
        let query = "SELECT group_concat(id || '|' || full_name || '|' || coalesce(phone, ''), ' ') FROM (SELECT * FROM persons ORDER BY id);"
        for database in [away.database, cluster.hub.database, staying.database] {
            #expect(eventually(timeout: 30) { try SQLiteShell.run(database, query) == expected },
                    "\(database): \((try? SQLiteShell.run(database, query)) ?? "")")
        }
        #expect(eventually {
            let mine = try Replica(openingExisting: away.database, access: .readOnly)
            let theirs = try Replica(openingExisting: staying.database, access: .readOnly)
            return try mine.digest(scope: "unit-06913") == theirs.digest(scope: "unit-06913")
        })
        #expect(eventually { try away.status().json["state"] as? String == "healthy" }, "\((try? away.status().json) ?? [:])")
    }

    /// The classic tombstone bug, with processes: a row deleted while an office was away with
    /// an unsent edit of it, and forgotten by the hub after the horizon. The edit is refused
    /// when the office comes back (not applied: the row does not come back with one field),
    /// the technician drops it, and every replica ends with the same, small, deleted state.
    @Test func aRowForgottenWhileAnOfficeWasAwayWithAnEditOfItDoesNotComeBack() async throws {
        let cluster = try SyncCluster(label: "tombstone")
        let staying = try cluster.addCommune("06913", digestInterval: 1)
        let away = try CommuneNode(code: "06913b", directory: cluster.directory, hubURL: cluster.hub.url, interval: 0.3, digestInterval: 1)
        try cluster.hub.issueCredential(for: "06913b", into: away.credentialPath, scope: "unit-06913")
        defer { away.stop() }
        for office in [staying, away] { try office.start() }
        #expect(eventually { staying.hasUnits && away.hasUnits })
        try SQLiteShell.run(staying.database, """
            INSERT INTO persons(id, commune_id, full_name, phone) VALUES ('p1', 'unit-06913', 'An', '0901'), ('p2', 'unit-06913', 'Bình', '0902');
            """)
        #expect(eventually { try SQLiteShell.run(away.database, "SELECT count(*) FROM persons;") == "2" })

        // Away, with an edit of p2 it has not sent; the other office deletes p2.
        away.stop()
        try SQLiteShell.run(away.database, "UPDATE persons SET phone = '0988' WHERE id = 'p2';")
        let leftAt = Date()
        try await Task.sleep(for: .seconds(1))
        try SQLiteShell.run(staying.database, "DELETE FROM persons WHERE id = 'p2';")
        #expect(eventually { try SQLiteShell.run(cluster.hub.database, "SELECT group_concat(id) FROM persons;") == "p1" })

        // The hub knows the office that stayed has taken in the delete and sent all it typed.
        let store = try HubStore(path: cluster.hub.database, district: "200")
        let end = Int64(try SQLiteShell.run(cluster.hub.database, "SELECT max(seq) FROM _sync_hub_feed;")) ?? .max
        var noted = false
        for _ in 0..<100 where !noted {
            let progress = try await store.progress().first { $0.replica.rawValue == "06913" }
            noted = progress?.pulledThrough ?? 0 >= end && progress?.numberedAtPull != nil
            if !noted { try await Task.sleep(for: .milliseconds(300)) }
        }
        #expect(noted)
        // The horizon passes (90 days after the office left): p2 is forgotten.
        #expect(try await store.compactFeed(keepingDays: 90, now: leftAt).dropped == 0)
        let done = try await store.compactFeed(keepingDays: 90, now: leftAt.addingTimeInterval(90 * 86_400))
        #expect(done.forgottenRows == 1)
        let fields = "SELECT group_concat(col) FROM _sync_fields WHERE tbl = 'persons' AND pk = 'p2';"
        #expect(try SQLiteShell.run(cluster.hub.database, fields) == "commune_id")
        // The office that stayed takes the forgotten form at its next content check.
        #expect(eventually(timeout: 30) { try SQLiteShell.run(staying.database, fields) == "commune_id" })

        // Back: its edit is refused and said so; p2 comes back nowhere else.
        try away.start()
        #expect(eventually(timeout: 30) {
            let json = try away.status().json
            return json["refused_changes"] as? Int ?? 0 > 0
        }, "\((try? away.status().json) ?? [:])")
        let list = try Programs.run("syncctl", ["refused", "--config", away.config])
        #expect(list.output.contains("persons/p2") && list.output.contains("deleted"), "\(list.output)")
        for database in [cluster.hub.database, staying.database] {
            #expect(try SQLiteShell.run(database, "SELECT group_concat(id) FROM persons;") == "p1")
        }
        // Dropped by the technician: the office ends as everyone else.
        #expect(try Programs.run("syncctl", ["refused", "clear", "persons/p2", "--config", away.config]).status == 0)
        #expect(eventually(timeout: 30) { try SQLiteShell.run(away.database, "SELECT group_concat(id) FROM persons;") == "p1" })
        #expect(eventually(timeout: 30) { try SQLiteShell.run(away.database, fields) == "commune_id" })
        #expect(eventually(timeout: 30) {
            let mine = try Replica(openingExisting: away.database, access: .readOnly)
            let theirs = try Replica(openingExisting: staying.database, access: .readOnly)
            return try mine.digest(scope: "unit-06913") == theirs.digest(scope: "unit-06913")
        })
        #expect(eventually(timeout: 30) { try away.status().json["state"] as? String == "healthy" }, "\((try? away.status().json) ?? [:])")
    }
}
