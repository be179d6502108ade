import Foundation
import Testing
import TestSupport

/// Revoking a reviewer (`synchub credential revoke`) takes effect at the next request, for
/// every way a reviewer acts: an open review-desk session as well as the `/v1` API, on every
/// synchub process that shares the store. Real synchub processes, revoked from the CLI.
@Suite(.serialized) struct RevocationTests {
    /// Posts the decision a reviewer's page would post: keep the commune's side of p-a's degree.
    static func decide(_ hub: String, session: String, page: String) throws -> CurlTool.Reply {
        let csrf = try #require(ReviewDeskTests.csrf(in: page), "the desk's page carries its form token")
        let side = try #require(page.components(separatedBy: "name=\"pick\" value=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
            .first { !$0.hasPrefix("200:") }, "the commune's side is on the page")
        return try CurlTool.send("POST", hub + "/review/resolve",
                                 form: [("id", "persons/p-a/degree"), ("pick", side), ("value", ""), ("reason", "đã xác minh"), ("csrf", csrf)],
                                 cookies: ["review_session": session])
    }

    /// An open desk session: its cookie and the page it shows (with the conflict on it).
    static func openDesk(_ hub: String, credential: String) throws -> (session: String, page: String) {
        let session = try #require(try ReviewDeskTests.login(hub, credential: credential).session, "the reviewer logs in at \(hub)")
        let page = try CurlTool.send("GET", hub + "/review", cookies: ["review_session": session])
        #expect(page.body.contains("<b>đại học</b>"), "the desk at \(hub) shows the conflict before the revocation")
        return (session, page.body)
    }

    @Test func aRevokedReviewersOpenDeskSessionDecidesNothing() throws {
        let (cluster, _, token) = try ReviewDeskTests().deskWithAConflict("revoke-desk")
        let hub = cluster.hub.url
        let desk = try Self.openDesk(hub, credential: token)

        let revoke = try Programs.run("synchub", ["credential", "revoke", "--config", cluster.hub.config, "--replica", "reviewer-1"])
        #expect(revoke.status == 0, "\(revoke.output)")

        let refused = try Self.decide(hub, session: desk.session, page: desk.page)
        #expect(refused.status == 401 && refused.body.contains("nothing was decided"), "a decision after the revocation: \(refused.status)")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM _sync_hub_reviews;") == "0")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT state FROM _sync_conflicts WHERE col = 'degree';") == "open")
        let page = try CurlTool.send("GET", hub + "/review", cookies: ["review_session": desk.session])
        #expect(page.body.contains("id=\"credential\"") && !page.body.contains("<b>đại học</b>"), "the page shows the login form again")
        let api = try CurlTool.send("GET", hub + "/v1/conflicts?state=open", headers: ["Authorization": "Bearer " + token])
        #expect(api.status == 401, "the API refuses the revoked credential too")
    }

    @Test func aReviewerRevokedThroughOneHubIsRefusedByEveryHubOfTheDatabase() throws {
        let url = try PostgresTestServer.newDatabase()
        let directory = try TemporaryDirectory("revoke-shared")
        let hubs = try ["hub-a", "hub-b"].map { name in
            let hub = try HubNode(directory: directory, name: name, rules: ConflictRuleTests.rules(seats: "review"))
            try hub.configure("[store]\nkind = \"postgresql\"\nurl = \"\(url)\"\npool_size = 2")
            return hub
        }
        for hub in hubs { try hub.start() }
        defer { for hub in hubs { hub.stop() } }
        func psql(_ sql: String) throws -> String {
            try PostgresTestServer.psql(url, sql).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try psql("INSERT INTO units(id, code, name, kind) VALUES ('unit-A', '30001', 'Xã A', 'commune')")

        // The degree of p-a changed at the office (offline) and by the district: a review item.
        let office = try CommuneNode(code: "30001", directory: directory, hubURL: hubs[0].url, interval: 0.2)
        try hubs[0].issueCredential(for: "30001", into: office.credentialPath, scope: "unit-A")
        try office.start()
        defer { office.stop() }
        #expect(eventually { office.hasReplica })
        try SQLiteShell.run(office.database, "INSERT INTO persons(id, commune_id, full_name, degree) VALUES ('p-a', 'unit-A', 'Nguyễn Văn A', 'college');")
        #expect(eventually { try psql("SELECT degree FROM persons WHERE id = 'p-a'") == "college" })
        office.stop()
        try SQLiteShell.run(office.database, "UPDATE persons SET degree = 'university' WHERE id = 'p-a';")
        let districtBefore = try psql("SELECT count(*) FROM _sync_hub_feed WHERE origin = '200'")
        _ = try psql("UPDATE persons SET degree = 'master' WHERE id = 'p-a'")
        #expect(eventually { try psql("SELECT count(*) FROM _sync_hub_feed WHERE origin = '200'") != districtBefore }, "the district's edit is in the feed")
        try office.start()
        #expect(eventually { try psql("SELECT state FROM _sync_conflicts WHERE col = 'degree'") == "open" })

        let file = directory.path("reviewer.credential")
        try hubs[0].issueCredential(for: "reviewer-1", into: file, reviewer: true)
        let token = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let desks = try hubs.map { try Self.openDesk($0.url, credential: token) }

        // Revoked through hub-b's configuration: both processes read the same credential table.
        let revoke = try Programs.run("synchub", ["credential", "revoke", "--config", hubs[1].config, "--replica", "reviewer-1"])
        #expect(revoke.status == 0, "\(revoke.output)")

        for (hub, desk) in zip(hubs, desks) {
            let refused = try Self.decide(hub.url, session: desk.session, page: desk.page)
            #expect(refused.status == 401 && refused.body.contains("nothing was decided"), "a decision at \(hub.url) after the revocation: \(refused.status)")
            let api = try CurlTool.send("GET", hub.url + "/v1/conflicts?state=open", headers: ["Authorization": "Bearer " + token])
            #expect(api.status == 401, "the API at \(hub.url) refuses the revoked credential")
        }
        #expect(try psql("SELECT count(*) FROM _sync_hub_reviews") == "0")
        #expect(try psql("SELECT state FROM _sync_conflicts WHERE col = 'degree'") == "open")
    }
}
