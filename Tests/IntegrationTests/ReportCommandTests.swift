import Foundation
import Testing
import TestSupport

/// `synchub report` against a real hub's file: the figures as JSON, CSV and a table.
@Suite struct ReportCommandTests {
    @Test func synchubReportPrintsTheFiguresInEachFormat() throws {
        let cluster = try SyncCluster(label: "report")
        try SQLiteShell.run(cluster.hub.database, HubReportRegister.sql)
        func report(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try Programs.run("synchub", ["report"] + arguments + ["--config", cluster.hub.config])
        }
        let json = try report(["staffing", "--as-of", "2025-01-01", "--unit", "11111", "--format", "json"])
        #expect(json.status == 0, "\(json.output)")
        let lines = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]], "\(json.output)")
        let cadres = try #require(lines.first { $0["commune_code"] as? String == "11111" && $0["category"] as? String == "cadre_civil_servant" })
        #expect(cadres["people"] as? Int == 3 && cadres["quota"] as? Int == 5 && cadres["legal_basis"] as? String == "NĐ 33/2023", "\(cadres)")
        let csv = try report(["staffing", "--as-of", "2025-01-01", "--unit", "11111", "--format", "csv"]).output
        #expect(csv.hasPrefix("commune_code,commune,category,people,quota,legal_basis,assignments,measure,filled,open_items\n") && csv.contains("11111,Xã A,cadre_civil_servant,3,5,"), "\(csv)")
        // The table: filled against the quota in its measure, then the quota's source; a
        // category without a quota says so after the figure.
        let staffing = try report(["staffing", "--as-of", "2025-01-01", "--unit", "11111"]).output
        #expect(staffing.contains("3 / 5 người (NĐ 33/2023)"), "\(staffing)")
        let unquoted = lines.filter { $0["quota"] == nil || $0["quota"] is NSNull }
        #expect(staffing.components(separatedBy: ", chưa có định biên (no quota recorded)").count - 1 == unquoted.count, "\(staffing)")
        #expect(!unquoted.isEmpty && !staffing.contains("/ chưa có định biên"), "\(staffing)")
        let table = try report(["concurrent", "--as-of", "2025-01-01", "--unit", "11111"]).output
        #expect(table.contains("bí thư chi bộ kiêm trưởng thôn: 1 / 2 thôn") && table.contains("bí thư đảng ủy kiêm chủ tịch UBND: 1 / 1 xã"), "\(table)")
        let qualified = try report(["qualifications", "--as-of", "2025-01-01", "--format", "csv"])
        #expect(qualified.status == 0 && qualified.output.hasPrefix("level,group,figure,value\n") && qualified.output.contains("commune,all,people,3"), "\(qualified.output)")
        // Every report in one workbook, to a file; a workbook without a file to write is refused.
        let book = cluster.directory.path("bao-cao.xlsx")
        let written = try report(["staffing", "--as-of", "2025-01-01", "--format", "xlsx", "--output", book])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: book))
        #expect(written.status == 0 && bytes.starts(with: Array("PK".utf8)) && bytes.count > 1_000, "\(written.output)")
        let unnamed = try report(["staffing", "--format", "xlsx"])
        #expect(unnamed.status != 0 && unnamed.output.contains("--output"), "\(unnamed.output)")
        let wrong = try report(["salaries"])
        #expect(wrong.status != 0 && wrong.output.contains("the reports are staffing, concurrent, qualifications, ratings and trainings"), "\(wrong.output)")
    }
}

/// The register of `ReportTests`, for a hub run as a process.
enum HubReportRegister {
    static let sql = """
        INSERT INTO units(id, code, name, kind, parent_id) VALUES ('unit-a', '11111', 'Xã A', 'commune', NULL),
            ('h-a1', '11111-01', 'Thôn 1', 'hamlet', 'unit-a'), ('h-a2', '11111-02', 'Thôn 2', 'hamlet', 'unit-a');
        INSERT INTO titles(id, code, category, level) VALUES ('bt', 'bi_thu_dang_uy', 'cadre', 'commune'), ('ct', 'chu_tich_ubnd', 'cadre', 'commune'),
            ('hd', 'chu_tich_hdnd', 'cadre', 'commune'), ('vp', 'van_phong', 'civil_servant', 'commune'),
            ('cb', 'bi_thu_chi_bo', 'nonspecialised_hamlet', 'hamlet'), ('tt', 'truong_thon', 'nonspecialised_hamlet', 'hamlet');
        INSERT INTO quotas(id, unit_id, category, max_headcount, legal_basis) VALUES ('q1', 'unit-a', 'cadre_civil_servant', 5, 'NĐ 33/2023');
        INSERT INTO positions(id, commune_id, unit_id, title_id, capacity) VALUES
            ('a-bt', 'unit-a', 'unit-a', 'bt', 1), ('a-ct', 'unit-a', 'unit-a', 'ct', 1), ('a-hd', 'unit-a', 'unit-a', 'hd', 1),
            ('a-vp1', 'unit-a', 'unit-a', 'vp', 1), ('a1-cb', 'unit-a', 'h-a1', 'cb', 1), ('a1-tt', 'unit-a', 'h-a1', 'tt', 1),
            ('a2-cb', 'unit-a', 'h-a2', 'cb', 1);
        INSERT INTO assignments(id, commune_id, person_id, position_id, start_date) VALUES
            ('s1', 'unit-a', 'p1', 'a-bt', '2022-01-01'), ('s2', 'unit-a', 'p1', 'a-ct', '2022-01-01'), ('s3', 'unit-a', 'p2', 'a-hd', '2022-01-01'),
            ('s4', 'unit-a', 'p3', 'a-vp1', '2022-01-01'), ('s7', 'unit-a', 'p6', 'a1-cb', '2022-01-01'), ('s8', 'unit-a', 'p6', 'a1-tt', '2022-01-01'),
            ('s9', 'unit-a', 'p7', 'a2-cb', '2022-01-01');
        INSERT INTO persons(id, commune_id, full_name, degree) VALUES ('p1', 'unit-a', 'Một', 'university'), ('p2', 'unit-a', 'Hai', 'master'),
            ('p3', 'unit-a', 'Ba', 'college'), ('p6', 'unit-a', 'Sáu', 'intermediate'), ('p7', 'unit-a', 'Bảy', 'university');
        """
}
