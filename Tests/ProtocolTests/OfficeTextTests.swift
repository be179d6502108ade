import Foundation
import Replica
import SyncClient
import SyncConfig
import Testing

/// `syncctl`'s two catalogues: the language chosen as a technician's shell would expect, and
/// every text of both in plain words. (That each language has every text is the compiler's
/// job: a catalogue that lacks one does not conform to `OfficeCatalogue`.)
@Suite struct OfficeTextTests {
    @Test func theFlagThenTheLocaleThenTheConfigurationChooseTheLanguage() {
        #expect(OfficeLanguage.chosen(flag: .en, configured: .vi, environment: ["LANG": "vi_VN.UTF-8"]) == .en)
        #expect(OfficeLanguage.chosen(environment: ["LANG": "vi_VN.UTF-8"]) == .vi)
        #expect(OfficeLanguage.chosen(configured: .vi, environment: ["LANG": "en_US.UTF-8"]) == .en, "the shell's locale wins")
        #expect(OfficeLanguage.chosen(configured: .vi, environment: ["LANG": "C.UTF-8"]) == .vi, "C names no language")
        #expect(OfficeLanguage.chosen(configured: .vi, environment: [:]) == .vi)
        #expect(OfficeLanguage.chosen(environment: [:]) == .en)
        // POSIX order: LC_ALL over LC_MESSAGES over LANG; an empty one is not set.
        #expect(OfficeLanguage.chosen(environment: ["LC_ALL": "vi_VN", "LANG": "en_US.UTF-8"]) == .vi)
        #expect(OfficeLanguage.chosen(environment: ["LC_ALL": "", "LC_MESSAGES": "vi_VN.UTF-8", "LANG": "en_US"]) == .vi)
        #expect(OfficeLanguage.chosen(configured: .en, environment: ["LC_ALL": "C", "LANG": "vi_VN.UTF-8"]) == .en)
        #expect(OfficeLanguage(locale: "vietnamese") == nil && OfficeLanguage(locale: "vi") == .vi)
    }

    /// One of every text, with arguments where it takes them.
    static func everyText(_ words: any OfficeCatalogue) -> [String] {
        var texts: [String] = [words.never]
        texts += [StatusReport.State.healthy, .degraded, .down, nil].map(words.state)
        texts += StatusLabel.allCases.map(words.label)
        texts += [true, false].map(words.yesNo)
        texts += [5, 300, 10_800, 259_200].map { words.duration(seconds: $0) }
        texts.append(words.moment(local: "04/12/2026 23:21", ago: words.duration(seconds: 300)))
        texts += [words.daemon(running: true, upFor: "3 h"), words.daemon(running: false, upFor: nil)]
        texts += [(true, true), (false, true), (false, false)].map { words.hub(url: "https://hub", answers: $0.0, trusted: $0.1) }
        texts += [words.unsent(rows: 0, changes: 0, oldest: nil), words.unsent(rows: 1, changes: 1, oldest: "5 min"),
                  words.unsent(rows: 2, changes: 30, oldest: "2 h")]
        texts.append(words.conflicts(awaitingReview: 2, settledByRule: 1))
        texts += [words.versions(schema: 2, hubSchema: 3, rules: "1", hubRules: "2"), words.versions(schema: 2, hubSchema: nil, rules: "1", hubRules: nil)]
        texts += [nil, 0.2, 3.5, -900].map { words.clock(skewSeconds: $0) }
        texts.append(words.space(file: "1.2 MB", free: "9.0 GB"))
        texts += [words.refused(changes: 0, rows: 0), words.refused(changes: 20, rows: 1)]
        texts += [words.sameAsHub(differingRows: 0, lastChecked: "04/12/2026 23:21"), words.sameAsHub(differingRows: 3, lastChecked: "-"),
                  words.sameAsHub(differingRows: 0, lastChecked: nil)]
        texts += (RebuildCause.allCases.map(Optional.some) + [nil]).map { words.rebuilt(at: "04/12/2026 23:21", cause: $0) }
        let advice: [StatusAdvice] = [
            .startDaemon, .freeDisk, .hubProblem("the hub's certificate is not trusted"), .hubSilent, .copiesRunning(rebuilds: 4),
            .lastSyncFailed(kind: nil, detail: "timeout"), .lastSyncFailed(kind: .credentialRefused, detail: "401 unauthorized"), .refused(rows: 1, example: RefusedRow(table: "persons", row: "p-1", code: "out_of_scope")),
            .refused(rows: 3, example: RefusedRow(table: "positions", row: "seat-1", code: "moved_away")), .districtNotAtHub(changes: 2, example: "units/u-1"),
            .differing(rows: 1, example: "persons/p-2"), .clockOff(seconds: 900), .clockOff(seconds: -900), .unsentOld,
            .awaitingReview(1), .awaitingReview(2), .rulesBehind(mine: "1", hub: "2"), .upgradePending(mine: 1, hub: 2), .hubLacksDropped(at: "2026-12-05T04:00:00Z"), .awayPastHorizon(days: 91, horizon: 90),
        ]
        texts += advice.map(words.advice)
        texts += RoundFailure.allCases.map { words.roundFailed($0, detail: "the hub said no") }
        let cannot: [CannotCheck] = [
            .configMissing(path: "/etc/communesync/commune.toml"), .configUnreadable(path: "/etc/communesync/commune.toml"),
            .configInvalid(path: "/etc/communesync/commune.toml", problem: "no [hub]"),
            .replicaUnreadable(path: "/var/lib/communesync/replica.db", problem: "not a database", daemonRunning: true),
            .replicaUnreadable(path: "/var/lib/communesync/replica.db", problem: "not a database", daemonRunning: false),
        ]
        texts += cannot.flatMap { let said = words.cannotCheck($0); return [said.error, said.hint] }
        let sync: [SyncSaid] = [
            .daemonRound(hub: "https://hub", sent: 3, received: 1), .daemonRound(hub: "https://hub", sent: nil, received: nil),
            .daemonRoundFailed(why: "timeout"), .daemonDidNotFinish, .round(hub: "https://hub", sent: 0, received: 12, new: 4),
            .bootstrapped(rows: 120), .rebuilt(kept: 3, fromHub: 120), .refusedInRound(changes: 2), .failed(why: "timeout"),
        ]
        texts += sync.map(words.sync)
        texts += ["insert", "update", "delete"].map(words.operation)
        texts += [true, false, nil].map(words.atHub)
        texts += [words.table("persons"), words.column("full_name"), words.nothingWritten]
        texts += ["out_of_scope", "moved_away", "forgotten_row", "unknown_table", "unknown_column", "reference_table", "too_large"].map(words.refusal)
        texts += RefusedChange.State.allCases.map(words.refusedState)
        texts += [words.refusedFields([]), words.refusedFields(["full_name"]), words.refusedFields(["full_name", "phone"])]
        texts += [words.hubExplained("row persons/p-1 names another commune"), words.noRefused]
        texts += [words.refusedHandled(rows: 1, retried: true), words.refusedHandled(rows: 2, retried: false)]
        texts += [words.initRefused(path: "/var/lib/communesync/replica.db"), words.noPreviousComputer,
                  words.filledNewComputer(path: "/var/lib/communesync/replica.db", rows: 1), words.filledNewComputer(path: "/var/lib/communesync/replica.db", rows: 120)]
        texts += [(0, nil), (20, "3 h"), (nil, nil)].map { words.previousComputer(lastSync: "04/12/2026 23:21", unsent: $0.0, oldest: $0.1) }
        texts += [true, false].map { words.created(district: $0, replica: "06913", path: "/var/lib/communesync/replica.db", schema: 2) }
        texts += [words.holdersHeading(date: "30/06/2025", units: 10), words.holdersUnit(code: "06913", name: "Xã Quảng Tân", until: nil, holdings: 23),
                  words.holdersUnit(code: "06901", name: "Xã Quảng An", until: "30/06/2025", holdings: 1)]
        texts += ["primary", "concurrent", nil].map {
            words.holding(title: "Chủ tịch UBND", seat: "1", place: "Thôn Đông Hải", person: "Nguyễn Văn An", kind: $0, from: "01/05/2024")
        }
        texts += [words.noDecisions, words.noItems(state: "open"), words.reviewItem(id: "persons/p-1/phone", kind: "field", rule: "review", state: "open", sides: 2)]
        texts += [words.duplicateRecords(citizenID: "001", records: ["p-1 An (06913)", "p-2 An (06916)"], more: 0),
                  words.duplicateRecords(citizenID: "001", records: ["p-1 An (06913)"], more: 3)]
        texts += [words.decision(number: 2, at: "04/12/2026 23:21", reviewer: "can-bo-noi-vu", item: "persons/p-1/phone", reverts: 1, pick: nil,
                                 value: "0901", wrote: 1, revertedBy: 3), words.why("đã đối chiếu")]
        texts += [words.itemHeading(id: "persons/p-1/phone", kind: "field", rule: "review", state: "open"),
                  words.duplicateSide(person: "p-1", name: "An", born: "01/01/1980", citizenID: "001", keptBy: "unit-06913", origin: "06913"),
                  words.seatSide(assignment: "a-1", person: "p-1", decision: "12/QĐ", of: "01/05/2024", origin: "06913"),
                  words.fieldSide(pick: "06913:5", origin: "06913", at: "04/12/2026 23:21", value: "0901"),
                  words.resolved(item: "persons/p-1/phone", number: 4, wrote: 2), words.reverted(number: 4, item: "persons/p-1/phone", recordedAs: 5, wrote: 1)]
        texts += ConflictState.allCases.map(words.conflictState)
        let conflicts: [ConflictSaid] = [
            .field(record: "Lý Thị Mai", column: words.column("degree"), sides: [
                words.side("đại học", origin: "06913", here: true), words.side("thạc sĩ", origin: "200", here: false)]),
            .seat(seat: "Chủ tịch UBND – Xã Quảng Tân", holders: ["An", "Bình"]), .titles(person: "Hoàng Văn Nam", holdings: ["Bí thư", "Trưởng thôn"]),
            .hamletTitles(unit: "Thôn Đông Hải", holdings: ["An – Bí thư chi bộ"]),
            .quota(unit: "Xã Quảng Tân", category: "cadre_civil_servant", holdings: ["An – Chủ tịch UBND"]),
            .duplicate(person: "Lý Thị Mai"), .placement(record: "Lý Thị Mai"), .deletion(record: "Lý Thị Mai"),
            .ended(assignment: "An (Chủ tịch UBND – Xã Quảng Tân)", on: "01/05/2024", why: "kết thúc theo quyết định"),
        ]
        texts += conflicts.map(words.conflict)
        let outcomes: [DecisionSaid] = [
            .undone(decision: 2), .value("đại học"), .keepsSeat("An"), .recordKept("Lý Thị Mai"), .deletedEverywhere, .kept,
            .assignmentsEnd(["An", "Bình"]), .placement("Phường Hà Giang 1"), .side("đại học"),
        ]
        texts += outcomes.map { words.decided(number: 3, outcome: words.outcome($0), by: "can-bo-noi-vu", at: "04/12/2026 23:21", why: "đã đối chiếu") }
        texts.append(words.noConflicts)
        texts += DoctorVerdict.allCases.map(words.verdict) + [words.fixLabel]
        let doctor: [DoctorSaid] = [
            .configReads(path: "/etc/communesync/commune.toml"), .configBroken(problem: "no [hub]"), .noReplica(path: "/var/lib/communesync/replica.db"),
            .replicaBelongs(path: "/var/lib/communesync/replica.db", replica: "06913"),
            .replicaOfAnother(path: "/var/lib/communesync/replica.db", holds: "06916", configured: "06913", config: "/etc/communesync/commune.toml"),
            .integrityPassed, .integrityFailed(result: "row 3 missing from index", path: "/var/lib/communesync/replica.db"),
            .diskLow(megabytes: 150, directory: "/var/lib/communesync"), .replicaUnreadable(problem: "not a database"),
            .writable(directory: true, path: "/var/lib/communesync"), .writable(directory: false, path: "/var/lib/communesync/replica.db"),
            .notWritable(directory: true, path: "/var/lib/communesync"), .notWritable(directory: false, path: "/var/lib/communesync/replica.db"),
            .credentialInConfig(path: "/etc/communesync/commune.toml"), .permissionsHold, .credentialSet,
            .credentialRootsAndAccepted(file: "/etc/communesync/credential"), .hubRefusedLastRound(why: "401"),
            .credentialRootsAlone(file: "/etc/communesync/credential"), .credentialMissing(problem: "no such file"),
            .hubSilent(url: "https://hub"), .hubAnswers(url: "https://hub"), .credentialAccepted, .versionsDiffer(message: "schema 3 > 2"),
            .credentialRefused(status: 401, message: "unknown credential"), .credentialCheckFailed(message: "timeout"),
            .clockOff(seconds: 900), .clockOff(seconds: -900), .clockWithin(seconds: 0.4), .daemonAnswers(socket: "/run/communesync/syncd.sock"),
            .daemonSilent(socket: "/run/communesync/syncd.sock"),
        ]
        texts += doctor.flatMap { let said = words.doctor($0); return [said.what] + (said.fix.map { [$0] } ?? []) }
        return texts
    }

    @Test func everyTextIsInPlainWordsInBothLanguages() {
        for language in OfficeLanguage.allCases {
            let words = OfficeText.catalogue(language)
            #expect(words.language == language)
            for text in Self.everyText(words) {
                #expect(!text.isEmpty)
                for word in OfficeText.jargon {
                    let found = OfficeText.holds(text, word: word)
                    #expect(!found, "\(language): '\(word)' in: \(text)")
                }
            }
        }
    }

    @Test func theVietnameseCatalogueSaysItsOwnTextNotTheEnglishOne() {
        let english = Self.everyText(English())
        let vietnamese = Self.everyText(Vietnamese())
        #expect(english.count == vietnamese.count)
        // Texts that are only a number and a unit or a URL may agree; prose may not.
        let same = zip(english, vietnamese).filter { $0 == $1 && $0.contains { $0.isLetter } && $0.count > 12 }
        #expect(same.isEmpty, "not translated: \(same.map(\.0))")
        // Every text that names a number or a command in English names it in Vietnamese too.
        for (en, vi) in zip(english, vietnamese) {
            let numbers = { (text: String) in text.split { !$0.isNumber }.map(String.init).sorted() }
            // A command's words up to its placeholder (ROW, BẢN_GHI): the same in both.
            let commands = { (text: String) in
                Set(text.split(separator: "'").filter { ["syncctl", "systemctl", "journalctl", "timedatectl"].contains($0.split(separator: " ").first ?? "") }.map { quoted in
                    quoted.split(separator: " ").prefix { $0.allSatisfy { $0.isASCII && ($0.isLowercase || $0 == "-" || $0.isNumber) } }
                        .joined(separator: " ")
                })
            }
            #expect(numbers(en) == numbers(vi), "\(en) / \(vi)")
            #expect(commands(en) == commands(vi), "\(en) / \(vi)")
        }
        #expect(Vietnamese().advice(.clockOff(seconds: 900)) == "đồng hồ máy này nhanh hơn máy chủ 15 phút, nên máy chủ chưa nhận những gì nhập ở đây: "
                + "bật đồng bộ giờ ('timedatectl set-ntp true'); không mất gì, syncd gửi tất cả khi giờ đúng")
        #expect(Vietnamese().clock(skewSeconds: 7_200.4) == "nhanh hơn máy chủ 2 giờ" && English().clock(skewSeconds: -7_200) == "2 h behind the hub's")
        #expect(Vietnamese().clock(skewSeconds: -3.5) == "chậm hơn máy chủ 3,5 giây", "a decimal comma")
        #expect(English().unsent(rows: 1, changes: 1, oldest: "5 min") == "1 row, 1 field, the oldest 5 min old")
        #expect(English().unsent(rows: 1, changes: 20, oldest: nil) == "1 row, 20 fields")
        #expect(Vietnamese().unsent(rows: 2, changes: 3, oldest: nil) == "2 bản ghi, 3 mục")
    }
}

/// `syncctl --help` in both languages: every text there, in plain words, and the language
/// chosen before the command line is parsed.
@Suite struct SyncctlHelpTests {
    @Test func everyHelpTextIsThereInBothLanguagesInPlainWords() {
        let english = SyncctlHelp.texts(.en).all
        let vietnamese = SyncctlHelp.texts(.vi).all
        #expect(english.count == vietnamese.count && english.count >= 50, "\(english.count) / \(vietnamese.count)")
        for (en, vi) in zip(english, vietnamese) {
            #expect(!en.isEmpty && !vi.isEmpty)
            #expect(en != vi, "not translated: \(en)")
            for word in OfficeText.jargon {
                #expect(!OfficeText.holds(en, word: word) && !OfficeText.holds(vi, word: word), "'\(word)' in: \(en) / \(vi)")
            }
            // The commands and options named are the same in both.
            let commands = { (text: String) in
                text.replacingOccurrences(of: "BẢN_GHI", with: "ROW").matches(of: /'(sync(ctl|hub)[^']*)'/).map { String($0.output.1) }
            }
            #expect(commands(en) == commands(vi), "\(en) / \(vi)")
        }
    }

    @Test func theHelpsLanguageIsTheFlagAsTypedThenTheLocaleThenTheConfiguration() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("help-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("commune.toml").path
        try "replica = \"06913\"\nlanguage = \"vi\"\n[hub]\nurl = \"http://127.0.0.1:8470\"\ncredential = \"x\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let vi = SyncctlHelp.texts(.vi).status
        let en = SyncctlHelp.texts(.en).status
        #expect(SyncctlHelp.chosen(arguments: ["syncctl", "status", "--help", "--lang", "vi"], environment: [:]).status == vi)
        #expect(SyncctlHelp.chosen(arguments: ["syncctl", "status", "--lang=vi"], environment: ["LANG": "en_US.UTF-8"]).status == vi)
        #expect(SyncctlHelp.chosen(arguments: ["syncctl", "--help"], environment: ["LANG": "vi_VN.UTF-8"]).status == vi)
        #expect(SyncctlHelp.chosen(arguments: ["syncctl", "--help", "--config", config], environment: ["LANG": "C.UTF-8"]).status == vi)
        #expect(SyncctlHelp.chosen(arguments: ["syncctl", "--help", "--config", config], environment: ["LANG": "en_GB.UTF-8"]).status == en)
        #expect(SyncctlHelp.chosen(arguments: ["syncctl", "--help", "--config", directory.appendingPathComponent("none.toml").path],
                                   environment: [:]).status == en)
    }
}
