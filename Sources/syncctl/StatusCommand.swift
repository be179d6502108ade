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
        abstract: "Is this office's data safe at the hub? Exit code 0 healthy, 1 degraded, 2 down, 3 unknown (could not check).")

    @Option(help: "Path of commune.toml.")
    var config: String = "/etc/communesync/commune.toml"

    @Flag(help: "One JSON object (stable keys, for monitoring) instead of text.")
    var json = false

    func run() throws {
        let settings: CommuneSettings
        do {
            settings = try CommuneSettings.load(config)
        } catch {
            throw StatusUnknown(
                error: "cannot read the configuration: \(error)",
                hint: "run as a user who may read \(config) (root, or a member of communesync-writers), or fix it: 'syncctl doctor' says how"
            ).exit(json: json)
        }
        let daemon = (try? ControlSocket.ask("status", at: settings.controlSocket, timeoutSeconds: ControlSocket.clientTimeoutSeconds))
            .flatMap { try? DaemonStatus.decode($0) }
        let health: ReplicaHealth
        do {
            health = try ReplicaHealth.read(path: settings.database)
        } catch {
            throw StatusUnknown(
                error: "cannot read the replica at \(settings.database): \(error)",
                hint: daemon == nil
                    ? "syncd is not running and the replica cannot be read: 'syncctl doctor' checks the file and its permissions"
                    : "syncd runs but this user cannot read its replica: run as root or a member of communesync-writers"
            ).exit(json: json)
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
            print(StatusText.render(report))
        }
        throw ExitCode(report.state.exitCode)
    }
}

/// The human form of the status: fits 80 columns.
enum StatusText {
    static func render(_ report: StatusReport) -> String {
        func yesNo(_ value: Bool) -> String { value ? "yes" : "NO" }
        func age(_ seconds: Double?) -> String {
            guard let seconds else { return "-" }
            if seconds < 120 { return "\(Int(seconds)) s" }
            if seconds < 7_200 { return "\(Int(seconds / 60)) min" }
            if seconds < 172_800 { return "\(Int(seconds / 3_600)) h" }
            return "\(Int(seconds / 86_400)) days"
        }
        func bytes(_ count: Int64?) -> String {
            guard let count else { return "-" }
            return count >= 1 << 30 ? String(format: "%.1f GB", Double(count) / Double(1 << 30))
                : String(format: "%.1f MB", Double(count) / Double(1 << 20))
        }
        var lines = [
            "CommuneSync \(report.replica)\(report.communeName.map { " — \($0)" } ?? "")   state: \(report.state.rawValue.uppercased())",
            "  daemon running     \(yesNo(report.daemonRunning))\(report.daemonUptimeSeconds.map { " (up \(age($0)))" } ?? "")",
            "  hub                \(report.hubURL)  answers: \(report.hubProblem != nil ? "NOT TRUSTED" : yesNo(report.hubReachable))",
            "  last push acked    \(report.lastPushAckAt ?? "never")",
            "  last pull          \(report.lastPullAt ?? "never")",
            "  not yet at hub     \(report.unackedChanges) changes, oldest \(age(report.oldestUnackedAgeSeconds))",
            "  conflicts          \(report.awaitingReview) awaiting district review, \(report.openConflicts - report.awaitingReview) settled by a rule",
            "  schema / rules     \(report.schemaVersion) / \(report.rulesVersion)"
                + (report.hubRulesVersion.map { $0 != report.rulesVersion ? " (the hub has \($0))" : "" } ?? ""),
            "  clock skew         \(report.clockSkewSeconds.map { String(format: "%+.1f s", $0) } ?? "-")",
            "  replica / free     \(bytes(report.replicaBytes)) / \(bytes(report.diskFreeBytes))",
            "  refused by hub     " + (report.refusedRows == 0 ? "nothing"
                : "\(report.refusedChanges) changes in \(report.refusedRows) rows (see 'syncctl refused')"),
            "  same as hub        " + (report.digestDifferingRows > 0 ? "NO: \(report.digestDifferingRows) rows differ"
                : "last checked equal \(report.lastDigestMatchAt ?? "never")"),
        ]
        if let rebasedAt = report.rebasedAt {
            lines += wrapped("  rebuilt from hub   ", "\(rebasedAt): \(report.rebaseReason ?? ""); every unsent change was kept and sent again")
        }
        if let problem = report.hubProblem, problem != report.hint { lines += wrapped("  hub problem        ", problem) }
        if let error = report.lastError, error != report.hubProblem { lines += wrapped("  last error         ", error) }
        if let hint = report.hint { lines += wrapped("  what to do         ", hint) }
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
