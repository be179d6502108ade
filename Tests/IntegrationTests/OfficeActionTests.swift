import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import SyncProtocol
import Testing
import TestSupport

/// Ordinary things an office does, with the real programs: syncd and synchub as processes,
/// the register typed into with the sqlite3 shell. Each once stopped an office's sync or lost
/// data silently; each must end with everything at the hub and `syncctl status` healthy.
@Suite(.serialized) struct OfficeActionTests {
    func person(_ id: String, _ unit: String, _ name: String) -> String {
        "INSERT INTO persons(id, commune_id, full_name, phone) VALUES ('\(id)', '\(unit)', '\(name)', '09\(id.count)');"
    }

    func atHub(_ cluster: SyncCluster, _ id: String) throws -> String {
        try SQLiteShell.run(cluster.hub.database, "SELECT full_name FROM persons WHERE id = '\(id)';")
    }

    func converged(_ cluster: SyncCluster, _ commune: CommuneNode) throws -> Bool {
        try scopeContent(commune.database, unit: commune.unit) == scopeContent(cluster.hub.database, unit: commune.unit)
    }

    func described(_ commune: CommuneNode) -> String { (try? commune.status().json).map { "\($0)" } ?? "no status" }

    /// Healthy, with nothing left here that the hub lacks.
    func healthy(_ commune: CommuneNode) throws -> Bool {
        let (json, exit) = try commune.status()
        return exit == 0 && json["unacked_changes"] as? Int == 0 && json["refused_changes"] as? Int == 0
    }

    @Test func aRowTypedByMistakeAndDeletedBeforeTheNextSyncBlocksNothing() throws {
        let cluster = try SyncCluster(label: "typo")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        // Daemon stopped: insert and delete in separate transactions fold together.
        commune.stop()
        try SQLiteShell.run(commune.database, person("z", commune.unit, "x"))
        try SQLiteShell.run(commune.database, "DELETE FROM persons WHERE id = 'z';")
        try SQLiteShell.run(commune.database, person("p-after-1", commune.unit, "Lan"))
        try commune.start()
        #expect(eventually { try atHub(cluster, "p-after-1") == "Lan" }, "a write after the typo reaches the hub")
        // Daemon running: insert and delete in one transaction, then another write.
        try SQLiteShell.run(commune.database, "BEGIN; \(person("z2", commune.unit, "y")) DELETE FROM persons WHERE id = 'z2'; COMMIT;")
        try SQLiteShell.run(commune.database, person("p-after-2", commune.unit, "Mai"))
        #expect(eventually { try atHub(cluster, "p-after-2") == "Mai" })
        #expect(eventually { try healthy(commune) }, "\(described(commune))")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM _sync_rows WHERE pk IN ('z', 'z2');") == "0",
                "a row no replica ever held is not sent at all")
        #expect(try converged(cluster, commune))
    }

    @Test func aReplicaRestoredFromAnOlderCopyLosesNothing() throws {
        let cluster = try SyncCluster(label: "restore")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        try SQLiteShell.run(commune.database, person("p-before", commune.unit, "An"))
        #expect(eventually { try atHub(cluster, "p-before") == "An" })
        // The office keeps a copy (syncd stopped, as a backup would be taken).
        commune.stop()
        let copy = commune.database + ".copy"
        try SQLiteShell.run(commune.database, ".backup '\(copy)'")
        // More work, synced.
        try commune.start()
        try SQLiteShell.run(commune.database, (1...5).map { person("p-later-\($0)", commune.unit, "Sau \($0)") }.joined())
        try SQLiteShell.run(commune.database, "UPDATE persons SET phone = '0900' WHERE id = 'p-before';")
        #expect(eventually { try atHub(cluster, "p-later-5") == "Sau 5" })
        #expect(eventually { try healthy(commune) })
        commune.stop()
        // The copy goes back, and the office types a new row before syncd starts again.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: commune.database + suffix) }
        try FileManager.default.copyItem(atPath: copy, toPath: commune.database)
        try SQLiteShell.run(commune.database, person("p-restored", commune.unit, "Mới"))
        try SQLiteShell.run(commune.database, "UPDATE persons SET full_name = 'An (sửa)' WHERE id = 'p-before';")
        try commune.start()

        #expect(eventually { try atHub(cluster, "p-restored") == "Mới" }, "the row typed after the restore reaches the hub")
        #expect(eventually { try atHub(cluster, "p-before") == "An (sửa)" })
        #expect(eventually { try converged(cluster, commune) }, "what was written after the copy comes back to the office")
        #expect(try SQLiteShell.run(commune.database, "SELECT count(*) FROM persons WHERE id LIKE 'p-later-%';") == "5")
        #expect(try SQLiteShell.run(commune.database, "SELECT phone FROM persons WHERE id = 'p-before';") == "0900")
        #expect(eventually { try healthy(commune) })
        let status = try commune.status().json
        #expect(status["rebased_at"] is String, "status says the file was rebuilt: \(status)")
        #expect((status["rebase_reason"] as? String)?.contains("restored") == true)
        let doubled = try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM (SELECT origin, counter FROM _sync_hub_feed GROUP BY 1, 2 HAVING count(*) > 1);")
        #expect(doubled == "0")
    }

    /// The copy put back, the office redoes the day's kind of work: its new writes fall on the
    /// same log numbers, even the same rows, as the writes the hub already holds.
    @Test func editsAfterARestoreThatRepeatTheLostDaysShapeAreKept() throws {
        let cluster = try SyncCluster(label: "restore-same")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        try SQLiteShell.run(commune.database, person("p-1", commune.unit, "An"))
        #expect(eventually { try atHub(cluster, "p-1") == "An" })
        commune.stop()
        let copy = commune.database + ".copy"
        try FileManager.default.copyItem(atPath: commune.database, toPath: copy)
        try commune.start()
        try SQLiteShell.run(commune.database, person("p-lost-day", commune.unit, "Hôm qua") + "UPDATE persons SET phone = '0999' WHERE id = 'p-1';")
        #expect(eventually { try SQLiteShell.run(cluster.hub.database, "SELECT phone FROM persons WHERE id = 'p-1';") == "0999" })
        commune.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: commune.database + suffix) }
        try FileManager.default.copyItem(atPath: copy, toPath: commune.database)
        try SQLiteShell.run(commune.database, person("p-today", commune.unit, "Hôm nay") + "UPDATE persons SET full_name = 'An (sửa lại)' WHERE id = 'p-1';")
        try commune.start()
        #expect(eventually { try atHub(cluster, "p-1") == "An (sửa lại)" && atHub(cluster, "p-today") == "Hôm nay" },
                "both writes made after the restore reach the hub")
        #expect(eventually { try converged(cluster, commune) })
        #expect(try SQLiteShell.run(commune.database, "SELECT phone FROM persons WHERE id = 'p-1';") == "0999")
        #expect(eventually { try healthy(commune) })
    }

    @Test func aPushClaimingCountersFarAheadDoesNotSwallowLaterWrites() throws {
        let cluster = try SyncCluster(label: "ahead")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        try SQLiteShell.run(commune.database, person("p-1", commune.unit, "An"))
        #expect(eventually { try atHub(cluster, "p-1") == "An" })
        // Someone with the office's credential pushes changes numbered far ahead.
        let token = try String(contentsOfFile: commune.credentialPath, encoding: .utf8)
        func forge(_ row: String, at counter: UInt64) throws -> RawHTTP.Reply {
            let forged = ChangeGroup(t: "persons", r: row, o: "06913", h: 1, x: "", w: [
                .init(counter: counter, column: "commune_id", value: .text(commune.unit)),
                .init(counter: counter + 1, column: "full_name", value: .text("Giả"))])
            return try RawHTTP.send(
                "POST", cluster.hub.url + "/v1/push",
                headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json",
                          WireVersion.protocolHeader: String(WireVersion.protocolVersion), WireVersion.schemaHeader: String(RegisterSchema.current.version)],
                body: try JSONEncoder().encode(PushRequest(changes: [forged])))
        }
        // Just below 2^63: taken, it would leave the office no counter above it to rebuild
        // with. Refused before anything is kept.
        let beyond = try forge("p-forged-top", at: (1 << 63) - 2)
        #expect(beyond.status == 400 && beyond.body.contains("counter_ahead"), "\(beyond.status) \(beyond.body)")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM persons WHERE id = 'p-forged-top';") == "0")
        // Far ahead but within reach (a billion counters): taken.
        let ahead = try forge("p-forged", at: 1_000_000_000)
        #expect(ahead.status == 200, "\(ahead.body)")
        // The office's later writes still arrive, and status is healthy only once they have.
        try SQLiteShell.run(commune.database, person("p-2", commune.unit, "Bình"))
        try SQLiteShell.run(commune.database, "UPDATE persons SET full_name = 'An Nguyễn' WHERE id = 'p-1';")
        #expect(eventually { try atHub(cluster, "p-2") == "Bình" && atHub(cluster, "p-1") == "An Nguyễn" })
        #expect(eventually { try healthy(commune) })
        #expect(eventually { try converged(cluster, commune) })
    }

    /// The district puts back an older copy of the hub's database: what the office had sent
    /// since is sent again, because the hub now says it holds less than the office recorded.
    @Test func changesAHubRestoredFromABackupLostAreSentAgain() throws {
        let cluster = try SyncCluster(label: "hub-restore")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        try SQLiteShell.run(commune.database, person("p-1", commune.unit, "An"))
        #expect(eventually { try atHub(cluster, "p-1") == "An" })
        cluster.hub.stop()
        let backup = cluster.hub.database + ".backup"
        try SQLiteShell.run(cluster.hub.database, ".backup '\(backup)'")
        try cluster.hub.start()
        try SQLiteShell.run(commune.database, person("p-2", commune.unit, "Bình"))
        #expect(eventually { try atHub(cluster, "p-2") == "Bình" })
        cluster.hub.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: cluster.hub.database + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: cluster.hub.database)
        try cluster.hub.start()
        #expect(eventually { try atHub(cluster, "p-2") == "Bình" }, "the office sends again what the restored hub lost")
        #expect(eventually { try converged(cluster, commune) && healthy(commune) })
    }

    @Test func anOutOfScopeRowIsRefusedAloneAndCanBeFixedOrDropped() throws {
        let cluster = try SyncCluster(label: "refused")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        commune.stop()
        try SQLiteShell.run(commune.database, person("p-wrong", "unit-06916", "Sai xã") + person("p-ok", commune.unit, "Đúng")
            + person("p-typo", "06913", "Mã xã") + person("p-ok-2", commune.unit, "Đúng 2"))
        try commune.start()
        #expect(eventually { try atHub(cluster, "p-ok-2") == "Đúng 2" }, "the changes around the refused rows arrive")
        #expect(try atHub(cluster, "p-ok") == "Đúng")
        #expect(eventually {
            let (json, exit) = try commune.status()
            return exit == 1 && json["state"] as? String == "degraded" && json["refused_changes"] as? Int ?? 0 > 0
                && (json["hint"] as? String)?.contains("syncctl refused") == true
        }, "\(described(commune))")
        let list = try Programs.run("syncctl", ["refused", "--config", commune.config])
        #expect(list.output.contains("persons/p-wrong") && list.output.contains("it names another commune") && list.output.contains("p-typo"), "\(list.output)")
        // Never re-sent in a loop: the hub holds each refusal once.
        Thread.sleep(forTimeInterval: 1.5)
        let refusalsAtHub = try SQLiteShell.run(cluster.hub.database, "SELECT count(DISTINCT pk) FROM _sync_hub_refused;")
        #expect(refusalsAtHub == "2")

        // Fixed and sent again: the whole row arrives.
        try SQLiteShell.run(commune.database, "UPDATE persons SET commune_id = '\(commune.unit)' WHERE id = 'p-typo';")
        #expect(try Programs.run("syncctl", ["refused", "retry", "persons/p-typo", "--config", commune.config]).status == 0)
        #expect(eventually { try atHub(cluster, "p-typo") == "Mã xã" })
        // Dropped: the row goes back to what the hub holds (nothing).
        #expect(try Programs.run("syncctl", ["refused", "clear", "persons/p-wrong", "--config", commune.config]).status == 0)
        #expect(eventually { try SQLiteShell.run(commune.database, "SELECT count(*) FROM persons WHERE id = 'p-wrong';") == "0" })
        #expect(eventually { try healthy(commune) }, "\(described(commune))")
        #expect(eventually { try converged(cluster, commune) })
    }

    @Test func aFeedEntryTheOfficeNeverGotIsFoundByContentAndRepaired() throws {
        let cluster = try SyncCluster(label: "digest")
        let commune = try cluster.addCommune("06913", digestInterval: 1)
        try commune.start()
        #expect(eventually { commune.hasUnits })
        // The district writes a person; the feed entry of one field goes missing before the
        // office pulls it (as a skipped entry would): counters say all is well.
        commune.stop()
        try SQLiteShell.run(cluster.hub.database, person("p-district", commune.unit, "Huyện"))
        #expect(eventually { try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM _sync_hub_feed WHERE pk = 'p-district';") != "0" })
        try SQLiteShell.run(cluster.hub.database, "DELETE FROM _sync_hub_feed WHERE pk = 'p-district' AND col = 'full_name';")
        try commune.start()
        #expect(eventually { try SQLiteShell.run(commune.database, "SELECT full_name FROM persons WHERE id = 'p-district';") == "Huyện" },
                "the digest comparison finds and repairs the field the feed lost")
        #expect(eventually {
            let json = try commune.status().json
            return json["last_digest_match_at"] is String && json["digest_differing_rows"] as? Int == 0
        })
        #expect(eventually { try converged(cluster, commune) })
    }
}
