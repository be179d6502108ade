import ArgumentParser
import Foundation
import MergeEngine
import Register
import Replica
import SyncClient
import SyncConfig

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: SyncctlHelp.current.status)

    @Option(help: ArgumentHelp(SyncctlHelp.current.configPath))
    var config: String = "/etc/communesync/commune.toml"

    @Flag(help: ArgumentHelp(SyncctlHelp.current.statusJSON))
    var json = false

    @OptionGroup var language: LanguageChoice

    func run() throws {
        let settings: CommuneSettings
        do {
            settings = try CommuneSettings.load(config)
        } catch {
            throw StatusUnknown(CommuneSettings.whyUnreadable(config, error), in: language.catalogue(nil)).exit(json: json)
        }
        let words = language.catalogue(settings)
        let daemon = (try? ControlSocket.ask("status", at: settings.controlSocket, timeoutSeconds: ControlSocket.clientTimeoutSeconds))
            .flatMap { try? DaemonStatus.decode($0) }
        let health: ReplicaHealth
        do {
            health = try ReplicaHealth.read(path: settings.database)
        } catch {
            throw StatusUnknown(.replicaUnreadable(path: settings.database, problem: "\(error)", daemonRunning: daemon != nil), in: words)
                .exit(json: json)
        }
        // The daemon knows whether the hub answered its last round; without it, ask the hub.
        let probe = daemon?.hubReachable == nil
            ? HubProbe.check(settings.hub.url, caFile: settings.hub.caFile, allowInsecureHTTP: settings.hub.allowInsecureHTTP) : nil
        let report = StatusReport(
            health: health, hubURL: settings.hub.url, daemon: daemon,
            hubReachable: daemon?.hubReachable ?? probe?.reachable ?? false, probedSkew: probe?.skew, probedProblem: probe?.problem)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(StatusText.render(report, in: words))
        }
        throw ExitCode(report.state.exitCode)
    }
}

extension CommuneSettings {
    /// Why `path` could not be read as commune.toml: not there, not readable by this user, or wrong.
    static func whyUnreadable(_ path: String, _ error: any Error) -> CannotCheck {
        // Only "no such file" is missing: a directory this user may not enter (/etc/communesync
        // is 0750) hides a file that is there.
        var info = stat()
        if stat(path, &info) != 0 { return errno == ENOENT || errno == ENOTDIR ? .configMissing(path: path) : .configUnreadable(path: path) }
        if access(path, R_OK) != 0 { return .configUnreadable(path: path) }
        return .configInvalid(path: path, problem: "\(error)")
    }
}

/// The human form of the status, in the technician's language and local time: fits 80 columns.
enum StatusText {
    static func render(_ report: StatusReport, in words: any OfficeCatalogue, now: Date = Date()) -> String {
        let width = StatusLabel.allCases.map { words.label($0).count }.max()! + 3
        func line(_ label: StatusLabel, _ text: String) -> [String] {
            wrapped("  " + words.label(label).padding(toLength: width, withPad: " ", startingAt: 0), text)
        }
        let bytes = { (count: Int64?) in OfficeText.megabytes(count, decimalComma: words.language == .vi) }
        var lines = ["CommuneSync \(report.replica)\(report.communeName.map { " — \($0)" } ?? "")   \(words.state(report.state))"]
        lines += line(.daemon, words.daemon(running: report.daemonRunning, upFor: report.daemonUptimeSeconds.map(words.duration)))
        lines += line(.hub, words.hub(url: report.hubURL, answers: report.hubReachable, trusted: report.hubProblem == nil))
        lines += line(.lastSent, OfficeText.moment(report.lastPushAckAt, in: words, now: now))
        lines += line(.lastReceived, OfficeText.moment(report.lastPullAt, in: words, now: now))
        lines += line(.unsent, words.unsent(rows: report.unackedRows, changes: report.unackedChanges, oldest: report.oldestUnackedAgeSeconds.map(words.duration)))
        lines += line(.conflicts, words.conflicts(
            awaitingReview: report.awaitingReview, settledByRule: report.openConflicts - report.awaitingReview))
        lines += line(.versions, words.versions(schema: report.schemaVersion, hubSchema: report.hubSchemaVersion, rules: report.rulesVersion, hubRules: report.hubRulesVersion))
        lines += line(.clock, words.clock(skewSeconds: report.clockSkewSeconds))
        lines += line(.space, words.space(file: bytes(report.replicaBytes), free: bytes(report.diskFreeBytes)))
        lines += line(.refused, words.refused(changes: report.refusedChanges, rows: report.refusedRows))
        lines += line(.sameAsHub, words.sameAsHub(
            differingRows: report.digestDifferingRows,
            lastChecked: report.lastDigestMatchAt.map { OfficeText.moment($0, in: words, now: now) }))
        if let rebasedAt = report.rebasedAt {
            lines += line(.rebuilt, words.rebuilt(at: OfficeText.moment(rebasedAt, in: words, now: now), cause: report.rebaseCause))
        }
        // For a month after this file replaced a computer that had synced before: what did not
        // reach the hub from that one.
        if let previous = report.previousComputer, let filled = report.filledFromHubAt.flatMap({ try? Date($0, strategy: .iso8601) }),
           now.timeIntervalSince(filled) < 30 * 86_400 {
            lines += line(.previousComputer, SyncCommand.previous(previous, in: words, now: now))
        }
        if let problem = report.hubProblem, report.advice != .hubProblem(problem) { lines += line(.hubProblem, problem) }
        // With the hub silent, the last error is that silence: the advice says it, in the office's language.
        // Likewise a clock far off: the hub's refusal of its stamps is what the advice says.
        let clockOff = if case .clockOff = report.advice { true } else { false }
        if let error = report.lastError, report.hubReachable, !clockOff, error != report.hubProblem,
           report.advice != .lastSyncFailed(kind: report.lastErrorKind, detail: error) {
            lines += line(.lastError, words.roundFailed(report.lastErrorKind, detail: error))
        }
        if let advice = report.advice { lines += line(.whatToDo, words.advice(advice)) }
        return lines.joined(separator: "\n")
    }

    /// `text` after `label`, wrapped at word boundaries to fit 80 columns.
    static func wrapped(_ label: String, _ text: String) -> [String] {
        var lines: [String] = []
        var line = label
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > 80 && line.count > label.count {
                lines.append(line)
                line = String(repeating: " ", count: label.count)
            }
            line += (line.count == label.count ? "" : " ") + word
        }
        lines.append(line)
        return lines
    }
}

extension JSONDecoder {
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
