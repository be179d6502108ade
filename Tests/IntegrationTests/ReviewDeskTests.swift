import Foundation
import Testing
import TestSupport

/// The review desk in a browser: login by a posted form and a session cookie, CSRF tokens on
/// every form, no credential in any address, and the security headers on every answer. A real
/// synchub on 127.0.0.1, driven by headless Chromium and by curl.
@Suite(.serialized) struct ReviewDeskTests {
    /// A hub where the degree of p-a was changed on both sides (a field conflict awaiting
    /// review), with a reviewer credential.
    func deskWithAConflict(_ label: String) throws -> (cluster: SyncCluster, commune: CommuneNode, reviewer: String) {
        let cluster = try SyncCluster(label: label, rules: ConflictRuleTests.rules(seats: "review"))
        let commune = try ConflictRuleTests().offlineCommune(cluster)
        try SQLiteShell.run(commune.database, "UPDATE persons SET degree = 'university' WHERE id = 'p-a';")
        try SQLiteShell.run(cluster.hub.database, "UPDATE persons SET degree = 'master' WHERE id = 'p-a';")
        try commune.start()
        #expect(eventually { try SQLiteShell.run(cluster.hub.database, "SELECT state FROM _sync_conflicts WHERE col = 'degree';") == "open" })
        let file = cluster.directory.path("reviewer.credential")
        try cluster.hub.issueCredential(for: "reviewer-1", into: file, reviewer: true)
        return (cluster, commune, try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// What every answer of the desk must carry.
    static func expectDeskHeaders(_ reply: CurlTool.Reply, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let policy = reply.header("content-security-policy") ?? ""
        #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "CSP of \(what): \(policy)", sourceLocation: sourceLocation)
        #expect(!policy.contains("unsafe-inline") && !policy.contains("script-src"), "no script allowed on \(what): \(policy)", sourceLocation: sourceLocation)
        #expect(reply.header("referrer-policy") == "no-referrer", "\(what)", sourceLocation: sourceLocation)
        #expect(reply.header("cache-control") == "no-store", "\(what)", sourceLocation: sourceLocation)
        #expect(reply.header("x-content-type-options") == "nosniff", "\(what)", sourceLocation: sourceLocation)
    }

    /// The hidden `csrf` field of a page.
    static func csrf(in page: String) -> String? {
        page.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first.map { String($0.prefix { $0 != "\"" }) }
    }

    /// Logs in with curl as a browser would: the form, then the post; returns the session cookie.
    static func login(_ hub: String, credential: String, caFile: String? = nil) throws -> (reply: CurlTool.Reply, session: String?) {
        let form = try CurlTool.send("GET", hub + "/review", caFile: caFile)
        let cookie = try #require(form.cookieValue("review_login"), "the login form comes with its cookie")
        let posted = try CurlTool.send("POST", hub + "/review/login", form: [("csrf", csrf(in: form.body) ?? ""), ("credential", credential)],
                                       cookies: ["review_login": cookie], caFile: caFile)
        return (posted, posted.cookieValue("review_session"))
    }

    @Test func aReviewerLogsInThroughTheFormDecidesInTheBrowserAndLogsOut() throws {
        let (cluster, commune, token) = try deskWithAConflict("reviewdesk-browser")
        let browser = try WebDriver(log: cluster.directory.path("chromedriver.log"))
        try browser.open(cluster.hub.url + "/review")
        #expect(try browser.source.contains("id=\"credential\""), "the login form")
        #expect(try !browser.source.contains("<b>đại học</b>"), "nothing of the register before login")

        try browser.type(token, into: "#credential")
        try browser.click("#login")
        let desk = try browser.source
        #expect(desk.contains("Xem xét xung đột"))
        #expect(desk.contains("<b>đại học</b>") && desk.contains("<b>thạc sĩ</b>"), "both candidates on the page")
        #expect(desk.contains("Xã Quảng Tân (06913)"), "who wrote each side")
        // Whose record and which field, in the reviewer's words; the field's history with who and when.
        #expect(desk.contains("Nguyễn Văn A — hồ sơ p-a: trình độ chuyên môn bị sửa đồng thời"), "\(desk)")
        #expect(desk.contains("<span class=\"en\">university</span>") && desk.contains("<span class=\"en\">master</span>"), "codes beside the labels")
        let history = try #require(desk.components(separatedBy: "<ol class=\"history\">").dropFirst().first?.components(separatedBy: "</ol>").first,
                                   "the field's history is on the card")
        #expect(history.contains("Xã Quảng Tân (06913): <b>đại học</b>") && history.contains("<b>thạc sĩ</b>")
                && history.contains("<b>cao đẳng</b>"), "both sides and the value before them: \(history)")
        #expect(history.range(of: #"\d\d/\d\d/20\d\d \d\d:\d\d — "#, options: .regularExpression) != nil, "\(history)")
        #expect(try browser.url == cluster.hub.url + "/review", "the credential is in no address")
        let session = try #require(try browser.cookies().first { $0["name"] as? String == "review_session" })
        #expect(session["httpOnly"] as? Bool == true && session["sameSite"] as? String == "Strict", "\(session)")
        try browser.screenshot(to: cluster.directory.path("review.png"))
        try? FileManager.default.removeItem(atPath: "/tmp/communesync-review.png")
        try? FileManager.default.copyItem(atPath: cluster.directory.path("review.png"), toPath: "/tmp/communesync-review.png")

        // The reviewer keeps the commune's side, gives a reason and presses Decide.
        let radios = desk.components(separatedBy: "name=\"pick\" value=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        let communeSide = try #require(radios.first { $0.hasPrefix("06913:") })
        try browser.click("input[name=\"pick\"][value=\"\(communeSide)\"]")
        try browser.type("bằng đại học đã xác minh", into: "input[name=\"reason\"]")
        try browser.click(".conflict button[type=\"submit\"]")
        let after = try browser.source
        #expect(after.contains("id=\"notice\"") && after.contains("id=\"none-open\""), "the conflict is gone from the page")
        #expect(try !browser.url.contains(token))
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT reason FROM _sync_hub_reviews;") == "bằng đại học đã xác minh",
                "the decision came from the browser's form")

        try browser.click("#logout")
        #expect(try browser.source.contains("id=\"credential\""), "logged out: the login form again")
        #expect(try !browser.cookies().contains { $0["name"] as? String == "review_session" }, "the session cookie is cleared")

        #expect(eventually { try SQLiteShell.run(commune.database, "SELECT state FROM _sync_conflicts WHERE col = 'degree';") == "closed" })
        #expect(try SQLiteShell.run(commune.database, "SELECT degree FROM persons WHERE id = 'p-a';") == "university")
    }

    @Test func aCredentialInTheAddressOpensNothingAndTheSessionCookieIsLockedDown() throws {
        let (cluster, _, token) = try deskWithAConflict("reviewdesk-login")
        let hub = cluster.hub.url
        let old = try CurlTool.send("GET", hub + "/review?token=" + token)
        #expect(old.status == 200 && old.body.contains("id=\"credential\"") && old.body.contains("no longer accepted in the page address"))
        #expect(!old.body.contains("<b>đại học</b>") && old.setCookie("review_session") == nil, "a token in the URL logs nobody in")
        Self.expectDeskHeaders(old, "the login page")

        let (posted, session) = try Self.login(hub, credential: token)
        #expect(posted.status == 303 && posted.header("location") == "/review", "to the desk, with nothing in the address")
        Self.expectDeskHeaders(posted, "the login redirect")
        let cookie = try #require(posted.setCookie("review_session"))
        for attribute in ["HttpOnly", "SameSite=Strict", "Max-Age=28800", "Path=/review"] {
            #expect(cookie.contains(attribute), "\(attribute) in \(cookie)")
        }
        #expect(!cookie.contains("Secure"), "plain http on 127.0.0.1: a Secure cookie would never come back")
        #expect(!cookie.contains(token) && session != nil)

        let desk = try CurlTool.send("GET", hub + "/review", cookies: ["review_session": session ?? ""])
        #expect(desk.status == 200 && desk.body.contains("<b>đại học</b>"))
        Self.expectDeskHeaders(desk, "the desk")

        // A login form that did not come from this desk (no matching cookie) logs nobody in.
        let forged = try CurlTool.send("POST", hub + "/review/login", form: [("csrf", "x"), ("credential", token)], cookies: ["review_login": "y"])
        #expect(forged.status == 403 && forged.setCookie("review_session") == nil)
        Self.expectDeskHeaders(forged, "a refused login")
    }

    @Test func aCommuneCredentialDoesNotOpenTheDesk() throws {
        let (cluster, commune, _) = try deskWithAConflict("reviewdesk-commune")
        let communeToken = try String(contentsOfFile: commune.credentialPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let (refused, session) = try Self.login(cluster.hub.url, credential: communeToken)
        #expect(refused.status == 403 && session == nil)
        #expect(refused.body.contains("credential of commune office 06913") && !refused.body.contains("<b>đại học</b>"))
        Self.expectDeskHeaders(refused, "the refusal of a commune credential")
        let wrong = try Self.login(cluster.hub.url, credential: "reviewer-1.0000")
        #expect(wrong.reply.status == 401 && wrong.session == nil)
    }

    @Test func aDecisionWithoutTheSessionsFormTokenOrAfterLogoutChangesNothing() throws {
        let (cluster, commune, token) = try deskWithAConflict("reviewdesk-csrf")
        let hub = cluster.hub.url
        let session = try #require(try Self.login(hub, credential: token).session)
        let desk = try CurlTool.send("GET", hub + "/review", cookies: ["review_session": session])
        let csrf = try #require(Self.csrf(in: desk.body))
        let side = try #require(desk.body.components(separatedBy: "name=\"pick\" value=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
            .first { $0.hasPrefix("06913:") })
        func decide(csrf: String?, cookie: String?) throws -> CurlTool.Reply {
            var form = [("id", "persons/p-a/degree"), ("pick", side), ("value", ""), ("reason", "đã xác minh")]
            if let csrf { form.append(("csrf", csrf)) }
            return try CurlTool.send("POST", hub + "/review/resolve", form: form, cookies: cookie.map { ["review_session": $0] } ?? [:])
        }
        func decisions() throws -> String { try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM _sync_hub_reviews;") }

        // What another site's page could post with the reviewer's cookie: no token, or a wrong one.
        for attempt in [try decide(csrf: nil, cookie: session), try decide(csrf: String(repeating: "0", count: csrf.count), cookie: session)] {
            #expect(attempt.status == 403 && attempt.body.contains("did not come from your session"))
            Self.expectDeskHeaders(attempt, "a refused decision")
        }
        // The right token without the session: whoever holds it is not logged in.
        let anonymous = try decide(csrf: csrf, cookie: nil)
        #expect(anonymous.status == 401 && anonymous.body.contains("nothing was decided"))
        #expect(try decisions() == "0")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT state FROM _sync_conflicts WHERE col = 'degree';") == "open")

        // Logout needs the token too: without it the session stays.
        let forgedLogout = try CurlTool.send("POST", hub + "/review/logout", form: [("csrf", "x")], cookies: ["review_session": session])
        #expect(forgedLogout.status == 403)
        #expect(try CurlTool.send("GET", hub + "/review", cookies: ["review_session": session]).body.contains("<b>đại học</b>"))

        let decided = try decide(csrf: csrf, cookie: session)
        #expect(decided.status == 303)
        #expect(decided.header("location") == "/review?done=persons%2Fp%2Da%2Fdegree", "only the conflict in the address: \(decided.header("location") ?? "-")")
        Self.expectDeskHeaders(decided, "the decision's redirect")
        #expect(try decisions() == "1")

        let logout = try CurlTool.send("POST", hub + "/review/logout", form: [("csrf", csrf)], cookies: ["review_session": session])
        #expect(logout.status == 303 && logout.setCookie("review_session")?.contains("Max-Age=0") == true)
        Self.expectDeskHeaders(logout, "the logout redirect")
        // The cookie's value, kept by someone, opens nothing any more: the hub ended the session.
        let afterwards = try CurlTool.send("GET", hub + "/review", cookies: ["review_session": session])
        #expect(afterwards.body.contains("id=\"credential\"") && !afterwards.body.contains("Awaiting decision"))
        try SQLiteShell.run(cluster.hub.database, "UPDATE persons SET degree = 'doctor' WHERE id = 'p-a';")
        let replay = try decide(csrf: csrf, cookie: session)
        #expect(replay.status == 401)
        #expect(try decisions() == "1")
        _ = commune
    }

    /// 50 wrong logins in a row from one address: after the first few each is refused with 429
    /// and Retry-After, the right credential too, from that address and (for that reviewer's
    /// name) from any other; the hub's log tells the burst in two lines, not fifty.
    @Test func wrongLoginsAreThrottledByAddressAndByNameAndLoggedOncePerBurst() throws {
        let (cluster, _, token) = try deskWithAConflict("reviewdesk-throttle")
        let hub = cluster.hub.url
        func tryLogin(_ credential: String, from source: String) throws -> CurlTool.Reply {
            let form = try CurlTool.send("GET", hub + "/review", source: source)
            let cookie = try #require(form.cookieValue("review_login"))
            return try CurlTool.send("POST", hub + "/review/login", form: [("csrf", Self.csrf(in: form.body) ?? ""), ("credential", credential)],
                                     cookies: ["review_login": cookie], source: source)
        }
        func loginLines() throws -> Int {
            try String(contentsOfFile: cluster.hub.log, encoding: .utf8).split(separator: "\n").filter { $0.contains("review login") }.count
        }
        let linesBefore = try loginLines()
        let replies = try (0..<50).map { try tryLogin("reviewer-1.\(String(format: "%064x", $0))", from: "127.0.0.1") }
        #expect(replies.prefix(5).allSatisfy { $0.status == 401 }, "the first wrong tries are told the credential is wrong")
        #expect(replies.suffix(30).allSatisfy { $0.status == 429 }, "then refused: \(replies.map(\.status))")
        let retryAfter = Int(replies.last?.header("retry-after") ?? "") ?? 0
        #expect(retryAfter > 0 && retryAfter <= 60, "Retry-After: \(replies.last?.header("retry-after") ?? "-")")
        #expect(replies.last?.body.contains("Too many wrong credentials") == true)
        #expect(try loginLines() - linesBefore <= 2, "one burst, not one line per try")

        // The right credential: refused from the throttled address, and for the guessed name from another.
        let sameAddress = try tryLogin(token, from: "127.0.0.1")
        #expect(sameAddress.status == 429 && sameAddress.setCookie("review_session") == nil)
        let otherAddress = try tryLogin(token, from: "127.0.0.2")
        #expect(otherAddress.status == 429 && otherAddress.setCookie("review_session") == nil, "throttled by name: \(otherAddress.status)")
        // Another reviewer from another computer is not held up by either.
        let file = cluster.directory.path("reviewer-2.credential")
        try cluster.hub.issueCredential(for: "reviewer-2", into: file, reviewer: true)
        let other = try tryLogin(try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), from: "127.0.0.3")
        #expect(other.status == 303 && other.setCookie("review_session") != nil, "\(other.status)")
    }

    /// The quota trap, in the browser: four people for a quota of three, An holding two of
    /// the titles. Ticking one of An's titles is refused with the reason (An still holds the
    /// other, still four for three) and ends nothing; ticking both settles the item.
    @Test func aPickThatWouldNotSettleAQuotaIsRefusedOnTheDeskWithItsReason() throws {
        let cluster = try SyncCluster(label: "reviewdesk-quota")
        try SQLiteShell.run(cluster.hub.database, """
            INSERT INTO titles(id, code, category, level) VALUES ('t1', 'chu_tich', 'cadre', 'commune'),
                ('t2', 'pho_chu_tich', 'cadre', 'commune'), ('t3', 'van_phong', 'civil_servant', 'commune');
            INSERT INTO quotas(id, unit_id, category, max_headcount) VALUES ('q', 'unit-06913', 'cadre_civil_servant', 3);
            INSERT INTO positions(id, commune_id, unit_id, title_id, capacity) VALUES
                ('pos1', 'unit-06913', 'unit-06913', 't1', 1), ('pos2', 'unit-06913', 'unit-06913', 't2', 1),
                ('pos3', 'unit-06913', 'unit-06913', 't3', 1), ('pos4', 'unit-06913', 'unit-06913', 't2', 1),
                ('pos5', 'unit-06913', 'unit-06913', 't3', 1);
            INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-06913', 'Nguyễn Văn An'),
                ('p2', 'unit-06913', 'Trần Thị Bình'), ('p3', 'unit-06913', 'Lê Văn Cường'), ('p4', 'unit-06913', 'Phạm Thị Dung');
            INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, start_date) VALUES
                ('a1', 'unit-06913', 'p1', 'pos1', '1/QĐ', '2024-01-02'), ('a3', 'unit-06913', 'p1', 'pos3', '3/QĐ', '2024-01-02'),
                ('b2', 'unit-06913', 'p2', 'pos2', '2/QĐ', '2024-01-02'), ('c4', 'unit-06913', 'p3', 'pos4', '4/QĐ', '2024-01-02'),
                ('d5', 'unit-06913', 'p4', 'pos5', '5/QĐ', '2024-01-02');
            """)
        let file = cluster.directory.path("reviewer.credential")
        try cluster.hub.issueCredential(for: "reviewer-1", into: file, reviewer: true)
        let token = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let ended = { try SQLiteShell.run(cluster.hub.database, "SELECT group_concat(id) FROM (SELECT id FROM assignments WHERE end_date IS NOT NULL ORDER BY id);") }

        let browser = try WebDriver(log: cluster.directory.path("chromedriver.log"))
        try browser.open(cluster.hub.url + "/review")
        try browser.type(token, into: "#credential")
        try browser.click("#login")
        let desk = try browser.source
        #expect(desk.contains("4 người giữ các chức danh này"), "the head-count is on the card")
        #expect(desk.contains("Nguyễn Văn An") && desk.contains("type=\"checkbox\" name=\"pick\" value=\"a1\""), "\(desk)")

        try browser.click("input[name=\"pick\"][value=\"a1\"]")
        try browser.type("thừa định biên", into: "input[name=\"reason\"]")
        try browser.click(".conflict button[type=\"submit\"]")
        let refused = try browser.source
        #expect(refused.contains("Nguyễn Văn An (p1)") && refused.contains("van_phong (a3)"), "\(refused)")
        #expect(refused.contains("still 4 people for 3 places") && refused.contains("Nothing was written"), "\(refused)")
        try browser.screenshot(to: cluster.directory.path("quota-refused.png"))
        try? FileManager.default.removeItem(atPath: "/tmp/communesync-review-quota-refused.png")
        try? FileManager.default.copyItem(atPath: cluster.directory.path("quota-refused.png"), toPath: "/tmp/communesync-review-quota-refused.png")
        #expect(try ended() == "", "a refused pick ends nothing")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM _sync_hub_reviews;") == "0", "and records no decision")

        try browser.open(cluster.hub.url + "/review")
        try browser.click("input[name=\"pick\"][value=\"a1\"]")
        try browser.click("input[name=\"pick\"][value=\"a3\"]")
        try browser.type("thừa định biên; ông An nghỉ cả hai chức danh", into: "input[name=\"reason\"]")
        try browser.click(".conflict button[type=\"submit\"]")
        // First what it will do: which titles end, on which day, and that the item is then settled.
        let preview = try browser.source
        let ends = try #require(preview.components(separatedBy: "id=\"preview-ends\">").dropFirst().first?.components(separatedBy: "</ul>").first,
                                "\(preview)")
        #expect(ends.contains("Nguyễn Văn An") && ends.contains("(a1)") && ends.contains("(a3)") && ends.contains("ends on"), "\(ends)")
        #expect(preview.contains("id=\"preview-settles\"") && preview.contains("id=\"confirm\""))
        #expect(try ended() == "", "nothing is written before the reviewer confirms")
        try browser.click("#confirm")
        let after = try browser.source
        #expect(after.contains("id=\"notice\"") && after.contains("id=\"none-open\""), "\(after)")
        #expect(try ended() == "a1,a3")

        // The commune's office is told: the titles that end, who decided, why.
        let office = try cluster.addCommune("06913")
        #expect(try office.syncOnce().status == 0)
        let told = try Programs.run("syncctl", ["conflicts", "--all", "--config", office.config]).output
        #expect(told.contains("decided  Xã Quảng Tân") && told.contains("these end: Nguyễn Văn An (")
                && told.contains("decided by reviewer-1") && told.contains("why: thừa định biên; ông An nghỉ cả hai chức danh"), "\(told)")
    }

    /// The hub's bare address leads to the desk; a decision made there is listed on the history
    /// page with who, when and why, and reverted from it with a reason; `syncctl review list
    /// --state decided` prints both decisions with their numbers.
    @Test func aDecisionIsListedAndRevertedFromTheHistoryPage() throws {
        let (cluster, _, token) = try deskWithAConflict("reviewdesk-history")
        let browser = try WebDriver(log: cluster.directory.path("chromedriver.log"))
        try browser.open(cluster.hub.url + "/")
        try browser.type(token, into: "#credential")
        try browser.click("#login")
        let desk = try browser.source
        let before = try SQLiteShell.run(cluster.hub.database, "SELECT degree FROM persons WHERE id = 'p-a';")
        let radios = desk.components(separatedBy: "name=\"pick\" value=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        try browser.click("input[name=\"pick\"][value=\"\(try #require(radios.first { $0.hasPrefix("06913:") }))\"]")
        try browser.type("bằng đại học đã xác minh", into: "input[name=\"reason\"]")
        try browser.click(".conflict button[type=\"submit\"]")

        try browser.click("#nav-history")
        let history = try browser.source
        #expect(history.contains("id=\"decision-1\"") && history.contains("bằng đại học đã xác minh") && history.contains("reviewer-1"), "\(history)")
        #expect(history.range(of: #"\d\d/\d\d/20\d\d \d\d:\d\d"#, options: .regularExpression) != nil, "the time as dd/mm/yyyy HH:mm")
        try browser.type("chọn nhầm bên", into: "#decision-1 input[name=\"reason\"]")
        try browser.click("#revert-1")
        let after = try browser.source
        #expect(after.contains("id=\"notice\"") && after.contains("reverted by #2") && after.contains("reverts #1"), "\(after)")
        try browser.screenshot(to: cluster.directory.path("history.png"))
        try? FileManager.default.removeItem(atPath: "/tmp/communesync-review-history.png")
        try? FileManager.default.copyItem(atPath: cluster.directory.path("history.png"), toPath: "/tmp/communesync-review-history.png")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT reverted_by FROM _sync_hub_reviews WHERE id = 1;") == "2")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT degree FROM persons WHERE id = 'p-a';") == before,
                "the revert wrote back the value the decision overwrote")

        let file = cluster.directory.path("reviewer.credential")
        try token.write(toFile: file, atomically: true, encoding: .utf8)
        let listed = try Programs.run("syncctl", ["review", "list", "--state", "decided", "--hub", cluster.hub.url, "--credential-file", file])
        #expect(listed.status == 0, "\(listed.output)")
        let lines = listed.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("#2 ") == true && lines.first?.contains("undoes #1") == true, "newest first: \(listed.output)")
        #expect(lines.contains { $0.hasPrefix("#1 ") && $0.contains("(undone by #2)") }, "\(listed.output)")
        #expect(listed.output.contains("why: chọn nhầm bên") && listed.output.contains("why: bằng đại học đã xác minh"), "\(listed.output)")
    }

    /// A district's volume: 300 people each holding three titles (300 holding items) in two
    /// communes. The desk shows a page of 100; filtered to one commune it shows only that
    /// commune's 150, a page at a time with the filter kept; a search finds one person by name
    /// without accents; every item has an address of its own.
    @Test func threeHundredItemsAreFilteredToOneCommuneAndPaged() throws {
        let cluster = try SyncCluster(label: "reviewdesk-volume")
        var sql = """
            INSERT INTO titles(id, code, category, level) VALUES ('t1', 'chu_tich', 'cadre', 'commune'),
                ('t2', 'pho_chu_tich', 'cadre', 'commune'), ('t3', 'van_phong', 'civil_servant', 'commune');

            """
        for index in 1...300 {
            let (unit, letter) = index <= 150 ? ("unit-06913", "A") : ("unit-06916", "B")
            let number = String(format: "%03d", index)
            sql += "INSERT INTO persons(id, commune_id, full_name) VALUES ('p\(number)', '\(unit)', 'Người \(letter) \(number)');\n"
            for title in 1...3 {
                sql += "INSERT INTO positions(id, commune_id, unit_id, title_id, capacity) VALUES ('pos\(number)-\(title)', '\(unit)', '\(unit)', 't\(title)', 1);\n"
                sql += "INSERT INTO assignments(id, commune_id, person_id, position_id, start_date) "
                    + "VALUES ('a\(number)-\(title)', '\(unit)', 'p\(number)', 'pos\(number)-\(title)', '2024-01-02');\n"
            }
        }
        try SQLiteShell.run(cluster.hub.database, "BEGIN;\n" + sql + "COMMIT;\n")
        let file = cluster.directory.path("reviewer.credential")
        try cluster.hub.issueCredential(for: "reviewer-1", into: file, reviewer: true)
        let token = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        func cards(_ page: String) -> Int { page.components(separatedBy: "class=\"conflict\"").count - 1 }
        /// The people named on a page ("A 001" for Người A 001).
        func people(_ page: String) -> Set<String> {
            Set(page.matches(of: /Người ([AB] \d{3})/).map { String($0.output.1) })
        }

        let browser = try WebDriver(log: cluster.directory.path("chromedriver.log"))
        try browser.open(cluster.hub.url + "/review")
        try browser.type(token, into: "#credential")
        try browser.click("#login")
        let first = try browser.source
        #expect(cards(first) == 100 && first.contains("id=\"next-page\""), "a page of 100, and a link to the next")

        try browser.type("06916", into: "input[name=\"commune\"]")
        try browser.click("#apply-filter")
        #expect(try browser.url.contains("commune=06916"), "a filtered page has an address of its own")
        let filtered = try browser.source
        #expect(cards(filtered) == 100 && people(filtered).count == 100 && people(filtered).allSatisfy { $0.hasPrefix("B ") },
                "\(people(filtered).sorted().prefix(5))")
        try browser.screenshot(to: cluster.directory.path("filtered.png"))
        try? FileManager.default.removeItem(atPath: "/tmp/communesync-review-filtered.png")
        try? FileManager.default.copyItem(atPath: cluster.directory.path("filtered.png"), toPath: "/tmp/communesync-review-filtered.png")
        try browser.click("#next-page")
        #expect(try browser.url.contains("commune=06916"), "the filter is kept on the next page")
        let second = try browser.source
        #expect(cards(second) == 50 && !second.contains("id=\"next-page\""), "the last 50 of the commune's 150")
        #expect(people(second).count == 50 && people(second).allSatisfy { $0.hasPrefix("B ") })
        #expect(people(filtered).isDisjoint(with: people(second)))

        try browser.open(cluster.hub.url + "/review?q=nguoi%20a%20015")
        let found = try browser.source
        #expect(cards(found) == 1 && found.contains("Người A 015"), "a name found without its accents")
        try browser.open(cluster.hub.url + "/review?kind=seat")
        #expect(try browser.source.contains("id=\"none-open\""), "no seat items here")
        // By age: one item opened 40 days ago, the rest today.
        let longAgo = (UInt64(Date().timeIntervalSince1970 * 1000) - 40 * 86_400_000) << 16
        try SQLiteShell.run(cluster.hub.database, "UPDATE _sync_conflicts SET opened_hlc = \(longAgo) WHERE pk = 'p007';")
        try browser.open(cluster.hub.url + "/review?age=30")
        let old = try browser.source
        #expect(cards(old) == 1 && people(old) == ["A 007"], "\(people(old))")
        #expect(try browser.source.contains("Mở từ"), "each card says since when it is open")

        try browser.open(cluster.hub.url + "/review?q=p200")
        try browser.click(".item-link")
        let item = try browser.source
        let address = try browser.url
        #expect(address.contains("/review/item?id="), "\(address)")
        #expect(item.contains("id=\"item-state\"") && cards(item) == 1 && item.contains("Người B 200"), "\(item)")
    }

    /// A person's account: `synchub reviewer add` with a password read from standard input,
    /// kept only as an scrypt hash; the desk's name-and-password form logs in and out; a
    /// wrong password is refused like an unknown name; a new password ends the open session;
    /// a removed account logs in no more.
    @Test func aReviewerAccountLogsInWithANameAndAPassword() throws {
        let (cluster, _, _) = try deskWithAConflict("reviewdesk-password")
        let hub = cluster.hub.url
        func reviewer(_ arguments: [String], password: String? = nil) throws -> Programs.Completed {
            try Programs.execute(Programs.path("synchub"), ["reviewer"] + arguments + ["--config", cluster.hub.config],
                                 input: password.map { Data(($0 + "\n").utf8) })
        }
        let short = try reviewer(["add", "lan.nguyen"], password: "ngan")
        #expect(short.status != 0 && short.output.contains("at least 10 characters"), "\(short.output)")
        let added = try reviewer(["add", "lan.nguyen"], password: "Đầm Hà 2026 xem xét")
        #expect(added.status == 0, "\(added.output)")
        let kept = try SQLiteShell.run(cluster.hub.database, "SELECT sha256 FROM _sync_hub_credentials WHERE replica = 'lan.nguyen';")
        #expect(kept.hasPrefix("scrypt$") && !kept.contains("2026"), "only a slow hash is kept: \(kept)")

        let browser = try WebDriver(log: cluster.directory.path("chromedriver.log"))
        try browser.open(hub + "/review")
        try browser.type("lan.nguyen", into: "#name")
        try browser.type("mật khẩu sai 123", into: "#password")
        try browser.click("#login-password")
        let wrong = try browser.source
        #expect(wrong.contains("The name or the password is wrong") && !wrong.contains("<b>đại học</b>"), "\(wrong)")
        try browser.type("lan.nguyen", into: "#name")
        try browser.type("Đầm Hà 2026 xem xét", into: "#password")
        try browser.click("#login-password")
        let desk = try browser.source
        #expect(desk.contains("<b>đại học</b>") && desk.contains("lan.nguyen"), "logged in by name: \(desk.prefix(2000))")
        try browser.click("#logout")
        #expect(try browser.source.contains("id=\"password\""), "logged out: the login form again")

        // The same with curl, to hold a session open across a change of password.
        let form = try CurlTool.send("GET", hub + "/review")
        let posted = try CurlTool.send("POST", hub + "/review/login",
                                       form: [("csrf", Self.csrf(in: form.body) ?? ""), ("name", "lan.nguyen"), ("password", "Đầm Hà 2026 xem xét")],
                                       cookies: ["review_login": form.cookieValue("review_login") ?? ""])
        let session = try #require(posted.cookieValue("review_session"), "\(posted.status) \(posted.body)")
        #expect(try CurlTool.send("GET", hub + "/review", cookies: ["review_session": session]).body.contains("<b>đại học</b>"))
        #expect(try reviewer(["passwd", "lan.nguyen"], password: "một mật khẩu mới 2027").status == 0)
        let ended = try CurlTool.send("GET", hub + "/review", cookies: ["review_session": session])
        #expect(ended.body.contains("id=\"password\"") && !ended.body.contains("<b>đại học</b>"), "a new password ends the session")

        #expect(try reviewer(["remove", "lan.nguyen"]).status == 0)
        let again = try CurlTool.send("GET", hub + "/review")
        let refused = try CurlTool.send("POST", hub + "/review/login",
                                        form: [("csrf", Self.csrf(in: again.body) ?? ""), ("name", "lan.nguyen"), ("password", "một mật khẩu mới 2027")],
                                        cookies: ["review_login": again.cookieValue("review_login") ?? ""])
        #expect(refused.status == 401 && refused.cookieValue("review_session") == nil)
        #expect(try reviewer(["remove", "06913"]).status != 0, "an office's credential is not a reviewer account")
    }

    /// The desk's offices and reports pages: every office with its trouble, staffing against
    /// quotas with a bar per line and concurrent holding as of a date, and the CSV to download.
    @Test func theOfficesAndReportsPagesShowTheDistrictsFigures() throws {
        let cluster = try SyncCluster(label: "reviewdesk-reports")
        try SQLiteShell.run(cluster.hub.database, HubReportRegister.sql)
        let office = try cluster.addCommune("06913")
        #expect(try office.syncOnce().status == 0)
        try cluster.hub.issueCredential(for: "06910", into: cluster.directory.path("06910.credential"))
        let added = try Programs.execute(Programs.path("synchub"), ["reviewer", "add", "lan.nguyen", "--config", cluster.hub.config],
                                         input: Data("Đầm Hà xem xét 2026\n".utf8))
        #expect(added.status == 0, "\(added.output)")
        let browser = try WebDriver(log: cluster.directory.path("chromedriver.log"))
        try browser.open(cluster.hub.url + "/review")
        try browser.type("lan.nguyen", into: "#name")
        try browser.type("Đầm Hà xem xét 2026", into: "#password")
        try browser.click("#login-password")
        try browser.click("#nav-offices")
        let offices = try browser.source
        #expect(offices.contains("id=\"office-06913\"") && offices.contains("Xã Quảng Tân (06913)"), "\(offices)")
        #expect(offices.contains("id=\"office-06910\" class=\"trouble\"") && offices.contains("never synced"), "\(offices)")

        try browser.open(cluster.hub.url + "/review/reports?as_of=2025-01-01&unit=11111")
        let reports = try browser.source
        #expect(reports.contains("Xã A (11111)") && reports.contains("<svg") && reports.contains("01/01/2025"), "\(reports)")
        #expect(reports.contains("Bí thư chi bộ kiêm trưởng thôn: 1 / 2 thôn"), "\(reports)")
        // Per level: at work in the commune p1, p2, p3 (two with a degree), in the hamlets p6, p7 (one).
        #expect(reports.contains("id=\"qualifications\"") && reports.contains("<td>3</td><td>66,67 %</td>")
                    && reports.contains("<td>2</td><td>50,00 %</td>"), "\(reports)")
        #expect(reports.contains("id=\"ratings\"") && reports.contains("Đánh giá năm 2024") && reports.contains("id=\"trainings\""),
                "\(reports)")
        try browser.screenshot(to: cluster.directory.path("reports.png"))
        try? FileManager.default.removeItem(atPath: "/tmp/communesync-review-reports.png")
        try? FileManager.default.copyItem(atPath: cluster.directory.path("reports.png"), toPath: "/tmp/communesync-review-reports.png")

        let form = try CurlTool.send("GET", cluster.hub.url + "/review")
        let posted = try CurlTool.send("POST", cluster.hub.url + "/review/login",
                                       form: [("csrf", Self.csrf(in: form.body) ?? ""), ("name", "lan.nguyen"), ("password", "Đầm Hà xem xét 2026")],
                                       cookies: ["review_login": form.cookieValue("review_login") ?? ""])
        let session = try #require(posted.cookieValue("review_session"))
        let csv = try CurlTool.send("GET", cluster.hub.url + "/review/reports.csv?as_of=2025-01-01&unit=11111", cookies: ["review_session": session])
        #expect(csv.status == 200 && csv.header("content-type")?.hasPrefix("text/csv") == true, "\(csv.status)")
        #expect(csv.body.contains("11111,Xã A,cadre_civil_servant,3,5,NĐ 33/2023,4"), "\(csv.body)")
        #expect(try CurlTool.send("GET", cluster.hub.url + "/review/reports.csv").body.isEmpty, "no figures without a session")
    }
}
