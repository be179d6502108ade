import Foundation
import Testing
import TestSupport

/// A picture of every page kind of the review desk, taken in headless Chromium against a real
/// synchub holding one item of each common kind (a field edited twice, a seat filled twice, a
/// person with too many titles, a quota exceeded, one person recorded by two offices), so a
/// reader can look at the desk without setting anything up. `Deploy/review-screenshots.sh DIR`
/// runs it and leaves the pictures in DIR; under `swift test` they go to a temporary directory.
@Suite(.serialized) struct ReviewScreenshotTests {
    @Test func everyPageKindOfTheDeskIsPhotographed() throws {
        let cluster = try SyncCluster(label: "review-screenshots", rules: ConflictRuleTests.rules(seats: "review"))
        let output = ProcessInfo.processInfo.environment["COMMUNESYNC_SCREENSHOTS"].map { URL(fileURLWithPath: $0) } ?? cluster.directory.url
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)

        // A field edited at both ends, and a seat filled by both, while the office was offline.
        let rules = ConflictRuleTests()
        let commune = try rules.offlineCommune(cluster)
        try SQLiteShell.run(commune.database, "UPDATE persons SET degree = 'university' WHERE id = 'p-a';")
        try SQLiteShell.run(cluster.hub.database, "UPDATE persons SET degree = 'master' WHERE id = 'p-a';")
        try rules.fillTheSeatTwice(cluster, commune)
        // A person of Xã Đầm Hà with three titles, four people for a quota of three there, and
        // one citizen id recorded once at each office.
        try SQLiteShell.run(cluster.hub.database, """
            INSERT INTO titles(id, code, name_vi, category, level) VALUES ('t1', 'chu_tich', 'Chủ tịch UBND', 'cadre', 'commune'),
                ('t2', 'pho_chu_tich', 'Phó Chủ tịch UBND', 'cadre', 'commune'), ('t3', 'van_phong', 'Văn phòng - thống kê', 'civil_servant', 'commune');
            INSERT INTO quotas(id, unit_id, category, max_headcount, legal_basis) VALUES ('q-dh', 'unit-06916', 'cadre_civil_servant', 3, 'NĐ 33/2023');
            INSERT INTO positions(id, commune_id, unit_id, title_id, capacity) VALUES ('dh1', 'unit-06916', 'unit-06916', 't1', 1),
                ('dh2', 'unit-06916', 'unit-06916', 't2', 1), ('dh3', 'unit-06916', 'unit-06916', 't3', 1), ('dh4', 'unit-06916', 'unit-06916', 't2', 1),
                ('dh5', 'unit-06916', 'unit-06916', 't3', 1), ('dh6', 'unit-06916', 'unit-06916', 't3', 1);
            INSERT INTO persons(id, commune_id, full_name, birth_date, citizen_id, phone, degree) VALUES
                ('dh-an', 'unit-06916', 'Nguyễn Văn An', '1980-02-03', '022090004567', '0912 345 678', 'university'),
                ('dh-binh', 'unit-06916', 'Trần Thị Bình', '1985-07-09', NULL, NULL, 'college'),
                ('dh-cuong', 'unit-06916', 'Lê Văn Cường', '1979-11-30', NULL, NULL, 'university'),
                ('dh-dung', 'unit-06916', 'Phạm Thị Dung', '1990-04-12', NULL, NULL, 'master');
            INSERT INTO assignments(id, commune_id, person_id, position_id, decision_no, start_date) VALUES
                ('x1', 'unit-06916', 'dh-an', 'dh1', '1/QĐ-UBND', '2021-06-01'), ('x2', 'unit-06916', 'dh-an', 'dh3', '2/QĐ-UBND', '2021-06-01'),
                ('x3', 'unit-06916', 'dh-an', 'dh5', '5/QĐ-UBND', '2022-01-01'), ('x4', 'unit-06916', 'dh-binh', 'dh2', '3/QĐ-UBND', '2021-06-01'),
                ('x5', 'unit-06916', 'dh-cuong', 'dh4', '4/QĐ-UBND', '2021-06-01'), ('x6', 'unit-06916', 'dh-dung', 'dh6', '6/QĐ-UBND', '2023-03-01');
            INSERT INTO evaluations(id, commune_id, person_id, year, rating) VALUES ('ev-dh', 'unit-06916', 'dh-an', 2024, 'excellent');
            """)
        try SQLiteShell.run(commune.database, """
            INSERT INTO persons(id, commune_id, full_name, birth_date, citizen_id, degree) VALUES
                ('qt-an', 'unit-06913', 'Nguyễn Văn An', '1980-02-03', '022090004567', 'college');
            INSERT INTO trainings(id, commune_id, person_id, field, course, end_date) VALUES
                ('tr-qt', 'unit-06913', 'qt-an', 'state_management', 'Bồi dưỡng quản lý nhà nước', '2023-10-20');
            """)
        try commune.start()
        let kinds = { try SQLiteShell.run(cluster.hub.database, "SELECT group_concat(kind) FROM (SELECT DISTINCT kind FROM _sync_conflicts WHERE state = 'open' ORDER BY kind);") }
        #expect(eventually(timeout: 60) { try kinds() == "duplicate,field,holding,quota,seat" }, "open items at the hub: \(String(describing: try? kinds()))")

        let password = Data("Đầm Hà xem xét 2026\n".utf8)
        let added = try Programs.execute(Programs.path("synchub"), ["reviewer", "add", "lan.nguyen", "--config", cluster.hub.config], input: password)
        #expect(added.status == 0, "\(added.output)")
        let browser = try WebDriver(log: cluster.directory.path("chromedriver.log"))
        var taken: [String] = []
        func shoot(_ name: String) throws {
            let path = output.appendingPathComponent(name + ".png").path
            try browser.screenshot(to: path)
            taken.append(path)
        }
        try browser.open(cluster.hub.url + "/")
        try shoot("1-login")
        try browser.type("lan.nguyen", into: "#name")
        try browser.type("Đầm Hà xem xét 2026", into: "#password")
        try browser.click("#login-password")
        try shoot("2-desk")
        try browser.open(cluster.hub.url + "/review?kind=quota")
        try shoot("3-filtered-quota")
        try browser.open(cluster.hub.url + "/review?kind=duplicate")
        try shoot("4-duplicate")
        try browser.open(cluster.hub.url + "/review?q=degree")
        try browser.click(".item-link")
        try shoot("5-item-field")
        // The quota trap: one of An's three titles does not bring four people down to three.
        try browser.open(cluster.hub.url + "/review?kind=quota")
        try browser.click("input[name=\"pick\"][value=\"x1\"]")
        try browser.type("thừa định biên", into: "input[name=\"reason\"]")
        try browser.click(".conflict button[type=\"submit\"]")
        #expect(try browser.source.contains("id=\"refusal\""))
        try shoot("6-refused-pick")
        try browser.open(cluster.hub.url + "/review?kind=seat")
        try browser.click("input[name=\"pick\"][value=\"as-commune\"]")
        try browser.type("quyết định của xã đúng thẩm quyền", into: "input[name=\"reason\"]")
        try browser.click(".conflict button[type=\"submit\"]")
        #expect(try browser.source.contains("id=\"confirm\""), "a decision ending an assignment is shown first")
        try shoot("7-confirm-seat")
        try browser.click("#confirm")
        try browser.click("#nav-history")
        try shoot("8-history")
        try browser.click("#nav-offices")
        try shoot("9-offices")
        try browser.open(cluster.hub.url + "/review/reports")
        try shoot("10-reports")

        for path in taken {
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
            let head = FileManager.default.contents(atPath: path)?.prefix(4) ?? Data()
            #expect(size > 10_000 && head == Data([0x89, 0x50, 0x4E, 0x47]), "\(path): a PNG of \(size) bytes")
        }
        print("review desk screenshots: \(output.path)")
    }

    /// The Đầm Hà 2017 register typed at a hub by `Deploy/fixtures/load.sh` (which prints the
    /// article's figures with `synchub report`), and the desk's reports page showing the same
    /// figures, photographed.
    @Test func theArticleRegisterReadsTheSameOnTheDesk() throws {
        let directory = try TemporaryDirectory("article-desk")
        let output = ProcessInfo.processInfo.environment["COMMUNESYNC_SCREENSHOTS"].map { URL(fileURLWithPath: $0) } ?? directory.url
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let hub = try HubNode(directory: directory, rules: try String(contentsOf: root.appendingPathComponent("Config/rules.toml"), encoding: .utf8))
        try hub.start()
        defer { hub.stop() }
        let load = try Programs.execute(
            "/bin/bash", [root.appendingPathComponent("Deploy/fixtures/load.sh").path, "dam-ha-2017", "--config", hub.config],
            environment: ["BIN": URL(fileURLWithPath: Programs.path("synchub")).deletingLastPathComponent().path])
        #expect(load.status == 0, "\(load.output)")
        for figure in ["214 / 234 người", "104 / 206 người", "156 / 228 chức danh", "19 / 23", "11 / 12", "chủ tịch UBND: 5 / 10 xã",
                       "chủ tịch HĐND: 3 / 10 xã", "kiêm trưởng thôn: 76 / 76 thôn", "kiêm trưởng thôn: 9 / 9 thôn", "736", "96.26", "92.06", "91.12"] {
            #expect(load.output.contains(figure), "load.sh prints \(figure): \(load.output)")
        }

        let password = Data("Đầm Hà xem xét 2026\n".utf8)
        let added = try Programs.execute(Programs.path("synchub"), ["reviewer", "add", "lan.nguyen", "--config", hub.config], input: password)
        #expect(added.status == 0, "\(added.output)")
        let browser = try WebDriver(log: directory.path("chromedriver.log"))
        try browser.open(hub.url + "/")
        try browser.type("lan.nguyen", into: "#name")
        try browser.type("Đầm Hà xem xét 2026", into: "#password")
        try browser.click("#login-password")
        try browser.open(hub.url + "/review/reports?as_of=2017-12-31&since=2015-01-01&year=2017")
        let page = try browser.source
        for figure in ["<td>214 người</td><td>234", "<td>104 người</td><td>206", "<td>156 chức danh", "<td>228", "5 / 10 xã", "3 / 10 xã",
                       "76 / 76 thôn", "<td>736</td>", "96,26 %", "92,06 %", "91,12 %"] {
            #expect(page.contains(figure), "the reports page shows \(figure)")
        }
        let path = output.appendingPathComponent("11-reports-dam-ha-2017.png").path
        try browser.screenshot(to: path)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        #expect(size > 10_000, "\(path): \(size) bytes")
    }
}
