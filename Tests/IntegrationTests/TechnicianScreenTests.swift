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

    /// With COMMUNESYNC_SCREENS set (Deploy/technician-screens.sh), each screen is also
    /// written there as NAME.LANG.txt, to read or to put beside a walk-through.
    static func keep(_ name: String, _ language: String, _ output: String) throws {
        guard let directory = ProcessInfo.processInfo.environment["COMMUNESYNC_SCREENS"], !directory.isEmpty else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try output.write(toFile: "\(directory)/\(name).\(language).txt", atomically: true, encoding: .utf8)
    }

    /// One screen in both languages (Vietnamese by the locale, English by --lang, both on the
    /// office's clock), kept when asked and checked for the tool's insides.
    static func screen(
        _ name: String, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (vi: (status: Int32, output: String), en: (status: Int32, output: String)) {
        let vi = try Programs.run("syncctl", arguments, environment: vietnamese)
        let en = try Programs.run("syncctl", arguments + ["--lang", "en"], environment: vietnamese)
        try keep(name, "vi", vi.output)
        try keep(name, "en", en.output)
        expectPlainWords(vi.output, sourceLocation: sourceLocation)
        expectPlainWords(en.output, sourceLocation: sourceLocation)
        return (vi, en)
    }

    /// A screen's text with its line wrapping undone, to look for a sentence in it.
    static func flat(_ output: String) -> String { output.split(whereSeparator: \.isWhitespace).joined(separator: " ") }

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

    /// Help and a new office's first command, in the office's language.
    @Test func helpAndInitSpeakTheTechniciansLanguage() throws {
        let help = try Self.screen("00-help", ["--help"])
        #expect(Self.flat(help.vi.output).contains("Dữ liệu của xã đã an toàn trên máy chủ huyện chưa?"), "\(help.vi.output)")
        #expect(Self.flat(help.en.output).contains("Is this office's data safe at the hub?"), "\(help.en.output)")
        let status = try Self.screen("00-help-status", ["status", "--help"])
        #expect(status.vi.output.contains("Đường dẫn tệp commune.toml") && Self.flat(status.vi.output).contains("Mã thoát 0 bình thường"), "\(status.vi.output)")
        let directory = try TemporaryDirectory("init-screen")
        let created = try Programs.run("syncctl", ["init", "--database", directory.path("replica.db"), "--replica", "06913"], environment: Self.vietnamese)
        #expect(created.status == 0 && created.output.hasPrefix("đã tạo tệp dữ liệu của xã 06913 tại "), "\(created.output)")
        try Self.keep("00-init", "vi", created.output)
        Self.expectPlainWords(created.output)
    }

    /// The office's computer died with something not yet sent; on the new one, `syncctl init
    /// --config` fills the data file from the hub and says what never reached it.
    @Test func aNewComputerIsFilledFromTheHubAndSaysWhatTheOldOneHadNotSent() throws {
        let faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
        try #require(FileManager.default.fileExists(atPath: faketime), "faketime is not installed (Deploy/setup-debian.sh installs it)")
        let cluster = try SyncCluster(label: "new-computer")
        let commune = try cluster.addCommune("06913", interval: 0.3)
        try commune.start()
        #expect(eventually { commune.hasUnits })
        try SQLiteShell.run(commune.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-sent', 'unit-06913', 'Đã gửi');")
        #expect(eventually { try SQLiteShell.run(cluster.hub.database, "SELECT full_name FROM persons WHERE id = 'p-sent'") == "Đã gửi" })
        // The old computer's last days: its clock ran ahead, so the hub held back a row typed
        // there (its pulls still told the hub what waited), then it died.
        #expect(commune.terminate() == 0)
        try commune.start(environment: ["LD_PRELOAD": faketime, "FAKETIME": "+2h", "COMMUNESYNC_CONFIG": commune.config])
        try SQLiteShell.run(commune.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-lost', 'unit-06913', 'Chưa gửi');",
                            environment: ["LD_PRELOAD": faketime, "FAKETIME": "+2h"])
        #expect(eventually {
            try SQLiteShell.run(cluster.hub.database, "SELECT json_extract(facts, '$.unsent') FROM _sync_hub_offices WHERE replica = '06913'") == "20"
        }, "the hub heard of the 20 fields waiting")
        commune.kill()

        // The new computer: the same configuration and credential, an empty disk.
        let newDatabase = cluster.directory.path("06913-new.db")
        let newConfig = cluster.directory.path("06913-new.toml")
        try String(contentsOfFile: commune.config, encoding: .utf8).replacingOccurrences(of: commune.database, with: newDatabase)
            .write(toFile: newConfig, atomically: true, encoding: .utf8)
        let filled = try Programs.run("syncctl", ["init", "--config", newConfig], environment: Self.vietnamese)
        try Self.keep("14-init-new-computer", "vi", filled.output)
        Self.expectPlainWords(filled.output)
        let said = Self.flat(filled.output)
        #expect(filled.status == 0 && said.contains("đã tạo tệp dữ liệu của xã \(newDatabase) và lấy dữ liệu từ máy chủ vào: ") && said.contains("khi đó máy còn 20 mục chưa gửi")
            && said.contains("chúng chưa bao giờ lên máy chủ và không có ở đây"), "\(filled.output)")
        #expect(try SQLiteShell.run(newDatabase, "SELECT group_concat(id) FROM persons ORDER BY id") == "p-sent", "what the hub held, and only that")
        let again = try Programs.run("syncctl", ["init", "--config", newConfig, "--lang", "en"])
        try Self.keep("14-init-new-computer-again", "en", again.output)
        #expect(again.status == 1 && again.output.contains("this computer already has the office's data file"), "\(again.output)")
        let status = try Self.screen("15-status-new-computer", ["status", "--config", newConfig])
        #expect(Self.flat(status.en.output).contains("it then held 20 fields not yet sent"), "\(status.en.output)")
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

    /// The screens of a bad day, in both languages: a row the hub refuses, a field edited at
    /// the office and the district at once, the hub gone, syncd stopped.
    @Test func theTroubleScreensSayWhatIsWrongAndWhatToDoInBothLanguages() throws {
        let cluster = try SyncCluster(label: "trouble")
        let commune = try cluster.addCommune("06913", interval: 0.3)
        try commune.start()
        #expect(eventually { commune.hasUnits })
        let healthy = try Self.screen("01-status-healthy", ["status", "--config", commune.config])
        #expect(healthy.vi.status == 0 && healthy.vi.output.contains("BÌNH THƯỜNG") && healthy.en.output.contains("HEALTHY"))

        // The official code typed where the commune's row id belongs: refused, with the fix.
        try SQLiteShell.run(commune.database, """
            INSERT INTO persons(id, commune_id, full_name, phone) VALUES ('p-typo', '06913', 'Mã xã', '0900');
            INSERT INTO persons(id, commune_id, full_name, phone) VALUES ('p-mai', 'unit-06913', 'Lý Thị Mai', '0901');
            """)
        #expect(eventually { try commune.status().json["refused_rows"] as? Int == 1 })
        let refused = try Self.screen("02-status-refused", ["status", "--config", commune.config])
        #expect(refused.vi.status == 1 && refused.vi.output.contains("CẦN XỬ LÝ")
            && Self.flat(refused.vi.output).contains("máy chủ từ chối thay đổi của 1 bản ghi nhập ở đây (hồ sơ p-typo: bản ghi ghi tên một xã khác")
            && Self.flat(refused.vi.output).contains("'syncctl refused retry persons/p-typo'"), "\(refused.vi.output)")
        #expect(refused.en.output.contains("NEEDS ATTENTION")
            && Self.flat(refused.en.output).contains("the hub refused changes to 1 row made here (persons p-typo: it names another commune"),
            "\(refused.en.output)")
        #expect(refused.en.output.contains("1 row, 20 fields") && refused.vi.output.contains("1 bản ghi, 20 mục"), "one row typed, not 20 changes")
        let list = try Self.screen("03-refused", ["refused", "--config", commune.config])
        #expect(list.vi.output.hasPrefix("bị từ chối  persons/p-typo (Mã xã)  ") && list.vi.output.contains(": bản ghi ghi tên một xã khác"),
                "\(list.vi.output)")
        #expect(list.en.output.contains("20 fields: commune_id, full_name, birth_date, gender, ethnicity and 15 more") && list.en.output.contains("the hub says: row persons/p-typo has commune_id '06913'"),
                "\(list.en.output)")
        try SQLiteShell.run(commune.database, "UPDATE persons SET commune_id = 'unit-06913' WHERE id = 'p-typo';")
        #expect(try Programs.run("syncctl", ["refused", "retry", "persons/p-typo", "--config", commune.config]).status == 0)
        #expect(eventually { try commune.status().exitCode == 0 })

        // The office offline; it and the district both change Mai's phone.
        commune.stop()
        try SQLiteShell.run(commune.database, "UPDATE persons SET phone = '0911' WHERE id = 'p-mai';")
        try SQLiteShell.run(cluster.hub.database, "UPDATE persons SET phone = '0922' WHERE id = 'p-mai';")
        try commune.start()
        #expect(eventually { try commune.status().json["open_conflicts"] as? Int == 1 })
        let conflicts = try Self.screen("04-conflicts", ["conflicts", "--all", "--config", commune.config])
        #expect(conflicts.vi.output.contains("Lý Thị Mai: số điện thoại được nhập khác nhau: 0911 (nhập ở xã này) / 0922 (nhập ở "), "\(conflicts.vi.output)")
        #expect(conflicts.en.output.contains("Lý Thị Mai: phone written differently: 0911 (written here) / 0922 (written at "), "\(conflicts.en.output)")
        let log = try Self.screen("05-log", ["log", "--today", "--config", commune.config])
        #expect(log.vi.output.split(separator: "\n").first?.contains("sửa   hồ sơ p-mai") == true, "newest first: \(log.vi.output)")
        let sync = try Self.screen("06-sync", ["sync", "--config", commune.config])
        #expect(sync.vi.status == 0 && sync.vi.output.contains("đã đồng bộ với") && sync.en.output.contains("synced with"))

        // The office computer's clock two hours ahead: syncd under libfaketime (which hides a
        // Swift program's arguments, so the configuration comes by COMMUNESYNC_CONFIG).
        let faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
        try #require(FileManager.default.fileExists(atPath: faketime), "faketime is not installed (Deploy/setup-debian.sh installs it)")
        #expect(commune.terminate() == 0)
        try commune.start(environment: ["LD_PRELOAD": faketime, "FAKETIME": "+2h", "COMMUNESYNC_CONFIG": commune.config])
        try SQLiteShell.run(commune.database, "UPDATE persons SET phone = '0933' WHERE id = 'p-mai';",
                            environment: ["LD_PRELOAD": faketime, "FAKETIME": "+2h"])
        #expect(eventually { try (commune.status().json["clock_skew_s"] as? Double ?? 0) > 3_600 },
                "\(String(describing: try? commune.status().json))")
        let clock = try Self.screen("07-status-clock-ahead", ["status", "--config", commune.config])
        #expect(clock.vi.status == 1 && clock.vi.output.contains("nhanh hơn máy chủ 2 giờ")
            && Self.flat(clock.vi.output).contains("bật đồng bộ giờ ('timedatectl set-ntp true')"), "\(clock.vi.output)")
        #expect(clock.en.output.contains("ahead of the hub's") && Self.flat(clock.en.output).contains("'timedatectl set-ntp true'"), "\(clock.en.output)")
        #expect(Self.flat(clock.en.output).components(separatedBy: "timedatectl").count == 2, "the clock said once: \(clock.en.output)")
        let clockSync = try Self.screen("08-sync-clock-ahead", ["sync", "--config", commune.config])
        #expect(clockSync.vi.status == 1 && Self.flat(clockSync.vi.output).contains("đồng hồ máy này nhanh hơn máy chủ 2 giờ"), "\(clockSync.vi.output)")
        #expect(clockSync.en.output.split(separator: "\n").count <= 3, "one sentence, not the hub's message: \(clockSync.en.output)")
        // The clock put right: what was typed meanwhile reaches the hub.
        #expect(commune.terminate() == 0)
        try commune.start()
        #expect(eventually { try SQLiteShell.run(cluster.hub.database, "SELECT phone FROM persons WHERE id = 'p-mai'") == "0933" })
        #expect(eventually { try commune.status().exitCode == 0 })

        // The district revokes this office's credential: said in words, with what to do.
        let revoked = try Programs.run("synchub", ["credential", "revoke", "--config", cluster.hub.config, "--replica", "06913"])
        #expect(revoked.status == 0, "\(revoked.output)")
        #expect(eventually { try commune.status().exitCode == 1 })
        let credential = try Self.screen("09-status-credential-refused", ["status", "--config", commune.config])
        #expect(Self.flat(credential.vi.output).contains("máy chủ không chấp nhận khoá truy cập của xã: xin văn phòng huyện cấp khoá mới"),
                "\(credential.vi.output)")
        #expect(Self.flat(credential.en.output).contains("the hub did not accept this office's credential: ask the district office for a new one"),
                "\(credential.en.output)")

        // The hub goes away: said once, with what to do, on every screen.
        cluster.hub.stop()
        #expect(eventually { try commune.status().json["hub_reachable"] as? Bool == false })
        let down = try Self.screen("10-status-hub-down", ["status", "--config", commune.config])
        #expect(down.vi.output.contains("KHÔNG TRẢ LỜI") && Self.flat(down.vi.output).contains("kiểm tra đường truyền lên huyện"), "\(down.vi.output)")
        #expect(down.en.output.contains("answers: NO") && Self.flat(down.en.output).contains("check the link to the district"), "\(down.en.output)")
        #expect(!down.vi.output.contains("did not answer"), "the silence is said once, in the office's language: \(down.vi.output)")
        let failed = try Self.screen("11-sync-hub-down", ["sync", "--config", commune.config])
        #expect(failed.vi.status != 0 && failed.vi.output.contains("đồng bộ không thành công"), "\(failed.vi.output)")
        let doctor = try Self.screen("12-doctor-hub-down", ["doctor", "--config", commune.config])
        #expect(doctor.vi.status == 2 && Self.flat(doctor.vi.output).contains("LỖI máy chủ \(cluster.hub.url) không trả lời")
            && doctor.vi.output.contains("cách sửa: kiểm tra đường truyền"), "\(doctor.vi.output)")

        // syncd stopped too.
        #expect(commune.terminate() == 0)
        let stopped = try Self.screen("13-status-daemon-down", ["status", "--config", commune.config])
        #expect(stopped.vi.status == 2 && stopped.vi.output.contains("ĐANG NGỪNG") && Self.flat(stopped.vi.output).contains("'systemctl start syncd'"),
                "\(stopped.vi.output)")
    }
}
