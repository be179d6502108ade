import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import SyncProtocol
import Testing
import TestSupport

/// After a move or a merger, a record has one owner: the office it left may deliver what it
/// typed before it knew, and nothing after. Real synchub and syncctl processes; the former
/// office's later writes are forged with its own valid credential, as a hostile office would.
@Suite(.serialized) struct FormerOfficeTests {
    static func headers(_ token: String) -> [String: String] {
        ["Authorization": "Bearer \(token)", "Content-Type": "application/json",
         WireVersion.protocolHeader: String(WireVersion.protocolVersion), WireVersion.schemaHeader: String(RegisterSchema.current.version)]
    }

    static func push(_ groups: [ChangeGroup], to hub: HubNode, as office: CommuneNode) throws -> RawHTTP.Reply {
        let token = try String(contentsOfFile: office.credentialPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return try RawHTTP.send("POST", hub.url + "/v1/push", headers: headers(token), body: try JSONEncoder().encode(PushRequest(changes: groups)))
    }

    static func now() -> UInt64 { HybridTimestamp(wallMillis: UInt64(Date().timeIntervalSince1970 * 1000)).rawValue }

    /// Everything the hub holds, as a context: a write made "knowing" all of it beats any
    /// value there (what the issue's attacker built from the hub's own messages).
    static func everything(_ cluster: SyncCluster) throws -> String {
        try SQLiteShell.run(cluster.hub.database, "SELECT group_concat(origin || ':' || counter, ' ') FROM _sync_hub_received;")
    }

    static func hub(_ cluster: SyncCluster, _ sql: String) throws -> String { try SQLiteShell.run(cluster.hub.database, sql) }

    /// A rotated person: the old office's delete made before it knew waits on the review desk
    /// instead of removing the rating at the hub and at the new office; its later edit and
    /// delete, made after it was told and with a context covering everything the hub holds,
    /// are refused one by one (`moved_away`) and change nothing.
    @Test func theOfficeAPersonLeftCannotOverwriteOrDeleteThem() throws {
        let cluster = try SyncCluster(label: "former-owner")
        let old = try cluster.addCommune("06916")
        let new = try cluster.addCommune("06913")
        for office in [old, new] { #expect(try office.syncOnce().status == 0) }
        try ReorganisationTests.typeRecords(at: old, unit: old.unit)
        try SQLiteShell.run(old.database, """
            INSERT INTO evaluations(id, commune_id, person_id, year, proposed_rating) VALUES ('e-1', 'unit-06916', 'p-06916-1', 2024, 'excellent');
            """)
        #expect(try old.syncOnce().status == 0)
        // Offline, before it knows of the move, the old office deletes the rating.
        try SQLiteShell.run(old.database, "DELETE FROM evaluations WHERE id = 'e-1';")
        let moved = try Programs.run("synchub", [
            "units", "move-person", "--config", cluster.hub.config, "--person", "p-06916-1", "--to", "06913", "--on", "2026-01-15",
        ])
        #expect(moved.status == 0, "\(moved.output)")
        #expect(try new.syncOnce().status == 0)
        try SQLiteShell.run(new.database, "UPDATE persons SET phone = '0913' WHERE id = 'p-06916-1';")
        #expect(try new.syncOnce().status == 0)

        let back = try old.syncOnce()
        #expect(back.output.contains("moved_away") || back.output.contains("refused"), "\(back.output)")
        #expect(try Self.hub(cluster, "SELECT count(*) FROM evaluations WHERE id = 'e-1';") == "1", "the former office's delete did not win")
        #expect(try Self.hub(cluster, "SELECT kind || '|' || state FROM _sync_conflicts WHERE tbl = 'evaluations' AND pk = 'e-1';") == "deletion|open")
        #expect(try Self.hub(cluster, "SELECT code FROM _sync_hub_refused WHERE tbl = 'evaluations' AND pk = 'e-1';") == "moved_away")
        #expect(try new.syncOnce().status == 0)
        #expect(try SQLiteShell.run(new.database, "SELECT count(*) FROM evaluations WHERE id = 'e-1';") == "1")

        // Told of the move, the old office (or anyone holding its credential) writes on.
        let context = try Self.everything(cluster)
        #expect(context.contains("06913:"), "\(context)")
        let reply = try Self.push([
            ChangeGroup(t: "persons", r: "p-06916-1", o: "06916", h: Self.now(), x: context, w: [
                .init(counter: 50_000_000, column: "phone", value: .text("0999"))]),
            ChangeGroup(t: "assignments", r: "a-06916", o: "06916", h: Self.now(), x: context, w: [.init(counter: 50_000_064, column: nil, value: .null)]),
        ], to: cluster.hub, as: old)
        #expect(reply.status == 200, "\(reply.body)")
        let refused = (try? JSONDecoder().decode(PushResponse.self, from: Data(reply.body.utf8)))?.refused ?? []
        #expect(refused.map(\.code) == ["moved_away", "moved_away"], "\(reply.body)")
        #expect(refused.allSatisfy { !$0.message.contains("06913") }, "a refusal names no other commune: \(refused.map(\.message))")
        #expect(try Self.hub(cluster, "SELECT phone FROM persons WHERE id = 'p-06916-1';") == "0913")
        #expect(try Self.hub(cluster, "SELECT count(*) FROM assignments WHERE id = 'a-06916';") == "1")
        #expect(try new.syncOnce().status == 0)
        #expect(try SQLiteShell.run(new.database, "SELECT phone FROM persons WHERE id = 'p-06916-1';") == "0913")
        #expect(try SQLiteShell.run(new.database, "SELECT count(*) FROM assignments WHERE id = 'a-06916';") == "1")

        // The reviewer decides the deletion: keep the rating.
        let reviewerPath = cluster.directory.path("reviewer.credential")
        try cluster.hub.issueCredential(for: "can-bo-noi-vu", into: reviewerPath, reviewer: true)
        let reviewer = try String(contentsOfFile: reviewerPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let item = "evaluations/e-1/\("*deleted_by_former_office")"
        let decided = try RawHTTP.send("POST", cluster.hub.url + "/v1/conflicts/resolve", headers: Self.headers(reviewer),
                                       body: Data(#"{"id":"\#(item)","pick":"keep","reason":"the new office keeps it"}"#.utf8))
        #expect(decided.status == 200, "\(decided.body)")
        #expect(try Self.hub(cluster, "SELECT state FROM _sync_conflicts WHERE tbl = 'evaluations' AND pk = 'e-1';") != "open")
        #expect(try Self.hub(cluster, "SELECT count(*) FROM evaluations WHERE id = 'e-1';") == "1")
        // The office that keeps the record now is told the outcome.
        #expect(try new.syncOnce().status == 0)
        let told = try Programs.run("syncctl", ["conflicts", "--all", "--config", new.config]).output
        #expect(told.contains("decided  Người một 06916") && told.contains("the record is kept")
                && told.contains("why: the new office keeps it"), "\(told)")
    }

    /// A merged commune's office delivers what it typed before the merger, and nothing
    /// after: once it has been refused a read (its backlog is in), a push of later changes is
    /// refused whole; past the district's cut-off its credential is refused outright.
    @Test func anEndedOfficeDeliversItsBacklogThenIsCutOff() throws {
        let cluster = try SyncCluster(label: "ended-office")
        let old = try cluster.addCommune("06916")
        let new = try cluster.addCommune("06913")
        for office in [old, new] { #expect(try office.syncOnce().status == 0) }
        try ReorganisationTests.typeRecords(at: old, unit: old.unit)
        #expect(try old.syncOnce().status == 0)
        // Typed offline before the merger: delivered after it.
        try SQLiteShell.run(old.database, "UPDATE persons SET phone = '0916' WHERE id = 'p-06916-1';")
        let mergedOn = try #require(RegisterDate.day(after: RegisterDate.today(), by: -3))
        let merged = try Programs.run("synchub", ["units", "reorganise", "--config", cluster.hub.config, "--from", "06916", "--into", "06913", "--on", mergedOn])
        #expect(merged.status == 0, "\(merged.output)")
        let back = try old.syncOnce()
        #expect(back.status != 0, "the ended office is told it ended: \(back.output)")
        #expect(back.output.contains("06913") || back.output.contains("Quảng Tân"), "\(back.output)")
        #expect(try Self.hub(cluster, "SELECT phone FROM persons WHERE id = 'p-06916-1';") == "0916", "the backlog was taken")
        // Everything it typed is in: the office drops the records it no longer owns, and says so.
        #expect(back.output.contains("removed from this computer"), "\(back.output)")
        #expect(try SQLiteShell.run(old.database, "SELECT (SELECT count(*) FROM persons) + (SELECT count(*) FROM assignments);") == "0")
        #expect(try Self.hub(cluster, "SELECT count(*) FROM persons WHERE commune_id = 'unit-06913';") == "2", "nothing deleted at the hub")

        // Later writes with the old credential: refused whole, nothing stored.
        let context = try Self.everything(cluster)
        let later = try Self.push([
            ChangeGroup(t: "persons", r: "p-06916-1", o: "06916", h: Self.now(), x: context, w: [
                .init(counter: 50_000_000, column: "phone", value: .text("0999"))]),
        ], to: cluster.hub, as: old)
        #expect(later.status == 410, "\(later.body)")
        #expect(later.body.contains("unit_ended"), "\(later.body)")
        #expect(try Self.hub(cluster, "SELECT phone FROM persons WHERE id = 'p-06916-1';") == "0916")

        let listed = try Programs.run("synchub", ["credential", "list", "--config", cluster.hub.config])
        // 30 days from the day the hub recorded the merger (today), later than its date.
        let until = try #require(RegisterDate.day(after: RegisterDate.today(), by: 30))
        #expect(listed.output.split(separator: "\n").contains { $0.hasPrefix("06916") && $0.contains("accepted until \(until)") }, "\(listed.output)")
        // The district's cut-off: with the merger recorded 3 days ago and 1 day allowed, the
        // credential is refused outright.
        cluster.hub.stop()
        let threeDaysAgo = HybridTimestamp(wallMillis: UInt64((Date().timeIntervalSince1970 - 3 * 86_400) * 1000)).rawValue
        try SQLiteShell.run(cluster.hub.database, "UPDATE _sync_fields SET hlc = \(threeDaysAgo) WHERE tbl = 'units' AND pk = 'unit-06916' AND col = 'effective_to';")
        try cluster.hub.configure("[limits]\nended_office_days = 1")
        try cluster.hub.start()
        let pull = try RawHTTP.send("GET", cluster.hub.url + "/v1/pull?after=0",
                                    headers: Self.headers(try String(contentsOfFile: old.credentialPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(pull.status == 410 && pull.body.contains("no longer accepted"), "\(pull.body)")
        #expect(try new.syncOnce().status == 0, "the successor's office is not affected")
    }
}
