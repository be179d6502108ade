import Foundation
import SyncClient
import Testing
import TestSupport

/// What a commune technician reads: `syncctl status`, `sync` and `log` against a real syncd and
/// hub, in Vietnamese (by the shell's locale or `--lang`) and in English, with times on the
/// office's clock.
@Suite(.serialized) struct TechnicianScreenTests {
    /// A technician's shell in Vietnam.
    static let vietnamese = ["LANG": "vi_VN.UTF-8", "LC_ALL": "", "TZ": "Asia/Ho_Chi_Minh"]

    /// Now on the office's clock (UTC+7, no daylight saving), to the hour: "04/12/2026 23:".
    static func officeHour(_ instant: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 7 * 3600)
        formatter.dateFormat = "dd/MM/yyyy HH:"
        return formatter.string(from: instant)
    }

    static func expectPlainWords(_ output: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for word in OfficeText.jargon {
            #expect(!OfficeText.holds(output, word: word), "'\(word)' in:\n\(output)", sourceLocation: sourceLocation)
        }
    }

    @Test func statusSyncAndLogSpeakVietnameseOnTheOfficesClock() throws {
        let cluster = try SyncCluster(label: "screens")
        let commune = try cluster.addCommune("06913", interval: 0.3)
        try commune.start()
        #expect(eventually { commune.hasUnits })
        try SQLiteShell.run(commune.database, "INSERT INTO persons(id, commune_id, full_name, degree) VALUES ('p1', 'unit-06913', 'Lý Thị Mai', 'university');")
        #expect(eventually { try commune.status().json["unacked_changes"] as? Int == 0 })
        try SQLiteShell.run(commune.database, "UPDATE persons SET phone = '0901' WHERE id = 'p1';")
        #expect(eventually { try commune.status().json["unacked_changes"] as? Int == 0 })

        let before = Date()
        let status = try Programs.run("syncctl", ["status", "--config", commune.config], environment: Self.vietnamese)
        let after = Date()
        #expect(status.status == 0, "\(status.output)")
        #expect(status.output.contains("Xã Quảng Tân   BÌNH THƯỜNG") && status.output.contains("trả lời được"), "\(status.output)")
        // The last pull on the office's clock, not UTC with a Z.
        let received = try #require(status.output.split(separator: "\n").first { $0.contains("nhận về lần cuối") })
        #expect([before, after].map(Self.officeHour).contains { received.contains($0) }, "\(received)")
        #expect(received.contains("giây trước") && !status.output.contains("Z "), "\(received)")
        #expect(status.output.contains("chưa gửi lên") && status.output.contains("không có"))
        Self.expectPlainWords(status.output)
        // --lang overrides the locale.
        let english = try Programs.run("syncctl", ["status", "--lang", "en", "--config", commune.config], environment: Self.vietnamese)
        #expect(english.output.contains("HEALTHY") && english.output.contains("answers: yes"), "\(english.output)")
        Self.expectPlainWords(english.output)

        let doctor = try Programs.run("syncctl", ["doctor", "--config", commune.config], environment: Self.vietnamese)
        #expect(doctor.status == 0 && doctor.output.contains("ổn     đọc được tệp cấu hình \(commune.config)")
            && doctor.output.contains("máy chủ \(cluster.hub.url) trả lời được") && !doctor.output.contains("LỖI"), "\(doctor.output)")
        Self.expectPlainWords(doctor.output)

        // syncd runs the round and says what moved.
        let sync = try Programs.run("syncctl", ["sync", "--config", commune.config], environment: Self.vietnamese)
        #expect(sync.status == 0 && sync.output.contains("đã đồng bộ với \(cluster.hub.url): gửi lên 0 thay đổi, nhận về "), "\(sync.output)")
        let syncEnglish = try Programs.run("syncctl", ["sync", "--config", commune.config])
        #expect(syncEnglish.output.contains("synced with \(cluster.hub.url): sent 0 changes, received "), "\(syncEnglish.output)")

        // The log: a line per row written, newest first, with the register's words and no NULLs.
        let log = try Programs.run("syncctl", ["log", "--config", commune.config], environment: Self.vietnamese)
        let lines = log.output.split(separator: "\n")
        #expect(lines.count == 2, "\(log.output)")
        #expect(lines.first?.contains("sửa   hồ sơ p1  [máy chủ đã nhận]  số điện thoại = 0901") == true, "\(log.output)")
        #expect(lines.last?.contains("thêm  hồ sơ p1  [máy chủ đã nhận]") == true, "\(log.output)")
        // The commune by its name, the degree by its label: no codes or ids of the register.
        #expect(lines.last?.contains("xã quản lý = Xã Quảng Tân; họ và tên = Lý Thị Mai; trình độ chuyên môn = đại học") == true, "\(log.output)")
        #expect(!log.output.contains("NULL") && [before, after].map(Self.officeHour).contains { lines[0].hasPrefix($0) }, "\(log.output)")
        Self.expectPlainWords(log.output)
        let logEnglish = try Programs.run("syncctl", ["log", "--today", "--row", "p1", "--limit", "1", "--config", commune.config])
        #expect(logEnglish.output.split(separator: "\n").count == 1
            && logEnglish.output.contains("changed  persons p1  [at the hub]  phone = 0901"), "\(logEnglish.output)")
        let none = try Programs.run("syncctl", ["log", "--table", "units", "--config", commune.config], environment: Self.vietnamese)
        #expect(none.output == "chưa nhập gì ở đây\n", "units are the district's: \(none.output)")
        // Written now and not yet picked up by syncd: shown at once, as such.
        commune.stop()
        try SQLiteShell.run(commune.database, "DELETE FROM persons WHERE id = 'p1';")
        let unsent = try Programs.run("syncctl", ["log", "--limit", "1", "--database", commune.database, "--lang", "vi"])
        #expect(unsent.output.contains("xoá  hồ sơ p1  [syncd chưa xử lý]"), "\(unsent.output)")
    }

    @Test func aMissingConfigurationIsNotCalledAPermissionProblem() throws {
        let directory = try TemporaryDirectory("noconfig")
        let missing = try Programs.run("syncctl", ["status", "--config", directory.path("commune.toml")])
        #expect(missing.status == 3)
        #expect(missing.output.contains("there is no configuration file") && !missing.output.contains("run as root"), "\(missing.output)")
        let vietnamese = try Programs.run("syncctl", ["status", "--config", directory.path("commune.toml")], environment: Self.vietnamese)
        #expect(vietnamese.output.contains("KHÔNG KIỂM TRA ĐƯỢC: không có tệp cấu hình"), "\(vietnamese.output)")
        try "replica = \"06913\"\n".write(toFile: directory.path("commune.toml"), atomically: true, encoding: .utf8)
        let wrong = try Programs.run("syncctl", ["status", "--config", directory.path("commune.toml")])
        let flat = wrong.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(wrong.status == 3 && flat.contains("is wrong") && flat.contains("'syncctl doctor' checks it"), "\(wrong.output)")
    }
}
