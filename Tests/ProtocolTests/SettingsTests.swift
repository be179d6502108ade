import Foundation
import SyncConfig
import SyncCore
import Testing

@Suite struct SettingsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theExampleConfigurationsLoad() throws {
        let commune = try CommuneSettings.load(Self.root.appendingPathComponent("Config/commune.toml").path)
        #expect(commune.replica == "06913" && commune.sync.intervalSeconds == 60 && commune.hub.connectTimeoutSeconds == 10)
        let hub = try HubSettings.load(Self.root.appendingPathComponent("Config/hub.toml").path)
        #expect(hub.replica == "200" && hub.port == 8470 && hub.limits.maxBatch == 5_000)
        #expect(hub.rules == "/etc/communesync/rules.toml")
    }

    @Test func aMissingSettingIsNamed() {
        let error = #expect(throws: SettingsError.self) { try CommuneSettings.parse("replica = \"06913\"\n[hub]\ncredential = \"x\"\n") }
        #expect(error?.problem.contains("hub.url") == true, "\(String(describing: error))")
    }

    @Test func aWrongSettingIsNamed() {
        let error = #expect(throws: SettingsError.self) {
            try CommuneSettings.parse("replica = \"06913\"\n[hub]\nurl = \"ftp://x\"\ncredential = \"x\"\n")
        }
        #expect(error?.description.contains("hub.url") == true)
        let interval = #expect(throws: SettingsError.self) {
            try CommuneSettings.parse("replica = \"06913\"\n[hub]\nurl = \"http://x\"\ncredential = \"x\"\n[sync]\ninterval_s = -5\n")
        }
        #expect(interval?.description.contains("sync.interval_s") == true)
    }

    @Test func theLogLevelIsOneOfSwiftLogsLevelsAndInfoByDefault() throws {
        let commune = "replica = \"06913\"\n[hub]\nurl = \"http://x\"\ncredential = \"x\"\n"
        #expect(try CommuneSettings.parse(commune).logLevel == .info)
        #expect(try CommuneSettings.parse("log_level = \"warning\"\n" + commune).logLevel == .warning)
        #expect(try HubSettings.parse("replica = \"200\"\nlog_level = \"debug\"\n").logLevel == .debug)
        let error = #expect(throws: SettingsError.self) { try CommuneSettings.parse("log_level = \"loud\"\n" + commune) }
        #expect(error?.description.contains("log_level") == true && error?.description.contains("warning") == true, "\(String(describing: error))")
    }

    @Test func underJournaldALineCarriesItsPriorityAndNoTimeElsewhereItsTimeAndLevel() {
        let journal = DaemonLogHandler(label: "syncd", level: .info, journal: true) { _ in }
        let line = journal.line(level: .warning, message: "round failed", metadata: ["why": "hub down", "failures": "2"], source: "syncd", at: Date())
        #expect(line == "<4>syncd: failures=2 why=hub down [syncd] round failed\n")
        #expect(DaemonLogHandler.priority(.error) == 3 && DaemonLogHandler.priority(.info) == 6 && DaemonLogHandler.priority(.debug) == 7)
        let plain = DaemonLogHandler(label: "syncd", level: .info, journal: false) { _ in }
        let text = plain.line(level: .info, message: "started", metadata: [:], source: "syncd", at: Date(timeIntervalSince1970: 0))
        #expect(text == "1970-01-01T00:00:00Z info syncd: [syncd] started\n")
        // Only the very stream journald reads counts: a variable inherited by a redirected child does not.
        #expect(!DaemonLogHandler.stderrGoesToJournal(environment: ["JOURNAL_STREAM": "1:1"]))
        #expect(!DaemonLogHandler.stderrGoesToJournal(environment: [:]))
    }

    @Test func listenPortZeroPicksAFreePortAsTheCommandLineDoes() throws {
        let hub = try HubSettings.parse("replica = \"200\"\n[listen]\nport = 0\n")
        #expect(hub.port == 0)
        let error = #expect(throws: SettingsError.self) { try HubSettings.parse("replica = \"200\"\n[listen]\nport = 70000\n") }
        #expect(error?.description.contains("listen.port") == true)
    }

    @Test func theDistrictKeyIsBesideTheDatabaseUnlessNamed() throws {
        #expect(try HubSettings.parse("replica = \"200\"\n").districtKey == "/var/lib/communesync/district.key")
        #expect(try HubSettings.parse("replica = \"200\"\ndatabase = \"/srv/hub/hub.db\"\n").districtKey == "/srv/hub/district.key")
        let postgres = try HubSettings.parse("""
            replica = "200"
            district_key = "/etc/communesync/district.key"
            [store]
            kind = "postgresql"
            url = "postgresql://hub@127.0.0.1:5432/hub"
            """)
        #expect(postgres.districtKey == "/etc/communesync/district.key")
    }

    @Test func theStoreIsTheSQLiteFileUnlessPostgreSQLIsNamedWithItsURL() throws {
        #expect(try HubSettings.parse("replica = \"200\"\ndatabase = \"/x/hub.db\"\n").store == .sqlite(path: "/x/hub.db"))
        let url = "postgresql://synchub@db.example:5433/communesync"
        #expect(try HubSettings.parse("replica = \"200\"\n[store]\nkind = \"postgresql\"\nurl = \"\(url)\"\npool_size = 3\n").store
            == .postgresql(url: url, poolSize: 3))
        #expect(try HubSettings.parse("replica = \"200\"\n[store]\nkind = \"postgresql\"\nurl = \"\(url)\"\n").store
            == .postgresql(url: url, poolSize: HubStoreSettings.defaultPoolSize))
        for (toml, setting) in [
            ("kind = \"mysql\"", "store.kind"), ("kind = \"postgresql\"", "store.url"),
            ("kind = \"postgresql\"\nurl = \"http://db\"", "store.url"),
            ("kind = \"postgresql\"\nurl = \"\(url)\"\npool_size = 0", "store.pool_size"),
        ] {
            let error = #expect(throws: SettingsError.self) { try HubSettings.parse("replica = \"200\"\n[store]\n\(toml)\n") }
            #expect(error?.description.contains(setting) == true, "\(toml): \(String(describing: error))")
        }
    }

    @Test func syncdTakesTheCredentialSystemdPassesBeforeTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("credentials-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "06913.passed\n".write(to: directory.appendingPathComponent(HubConnection.systemdCredentialName), atomically: true, encoding: .utf8)
        let settings = try CommuneSettings.parse("replica = \"06913\"\n[hub]\nurl = \"http://x\"\ncredential_file = \"/nonexistent/credential\"\n")
        #expect(try settings.hub.token(environment: ["CREDENTIALS_DIRECTORY": directory.path]) == "06913.passed")
        #expect(throws: SettingsError.self) { try settings.hub.token(environment: [:]) }
    }
}

@Suite struct RulesFileTests {
    @Test func theExampleRulesLoad() throws {
        let rules = try RulesFile.load(SettingsTests.root.appendingPathComponent("Config/rules.toml").path)
        #expect(rules.version == 1 && rules.seats == .districtWins && rules.defaultRule == .lastWriterWins)
        #expect(rules.columns["persons"]?["degree"] == .review && rules.columns["evaluations"]?["rating"] == .districtWins)
        #expect(rules.holding.maxTitles == 2 && rules.holding.allowedPairs.count == 4)
        #expect(rules.deletes == .updateWins)
        #expect(try RulesFile.parse("version = 2\n[deletes]\nrule = \"delete-wins\"\n").deletes == .deleteWins)
        #expect(rules.holding.violation(["bi_thu_chi_bo", "truong_thon"]) == nil)
        #expect(rules.holding.violation(["truong_thon", "chu_tich_ubnd"]) != nil)
    }

    @Test func anUnknownRuleIsNamed() {
        let error = #expect(throws: SettingsError.self) { try RulesFile.parse("version = 1\n[seats]\nrule = \"coin-toss\"\n") }
        #expect(error?.description.contains("seats.rule") == true, "\(String(describing: error))")
    }
}
