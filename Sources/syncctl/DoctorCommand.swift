import ArgumentParser
import Foundation
import MergeEngine
import Register
import Replica
import SyncClient
import SyncConfig
import SyncCore

/// `syncctl doctor`: checks one by one what a commune office needs, and says how to fix what
/// is wrong. Exit code 0 all well, 1 warnings, 2 failures.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check configuration, replica integrity, permissions, credential, clock and hub, with a fix for each problem.")

    @Option(help: "Path of commune.toml.")
    var config: String = "/etc/communesync/commune.toml"

    enum Verdict: String { case ok = "ok  ", warning = "WARN", failure = "FAIL" }

    func run() throws {
        var worst = Verdict.ok
        func report(_ verdict: Verdict, _ what: String, _ fix: String? = nil) {
            print("\(verdict.rawValue)  \(what)" + (fix.map { "\n      fix: \($0)" } ?? ""))
            if verdict == .failure || (verdict == .warning && worst == .ok) { worst = verdict }
        }

        let settings: CommuneSettings
        do {
            settings = try CommuneSettings.load(config)
            report(.ok, "configuration \(config) reads")
        } catch {
            report(.failure, "configuration: \(error)", "compare with Config/commune.toml, where every setting is explained")
            throw ExitCode(2)
        }

        // The replica file.
        let path = settings.database
        let directory = (path as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: path) {
            report(.warning, "no replica at \(path) yet", "start syncd: it creates the replica and bootstraps it from the hub")
        } else {
            do {
                let health = try ReplicaHealth.read(path: path)
                if health.replica == settings.replica {
                    report(.ok, "replica \(path) belongs to \(health.replica)")
                } else {
                    report(.failure, "\(path) is the replica of \(health.replica), but commune.toml says \(settings.replica)", "fix 'replica' or 'database' in \(config)")
                }
                let database = try SQLiteDatabase(path: path, create: false, readOnly: true)
                let integrity = try database.scalar("PRAGMA integrity_check")?.description ?? "?"
                if integrity == "ok" {
                    report(.ok, "integrity check passed")
                } else {
                    report(.failure, "integrity check: \(integrity)", "stop syncd, move \(path) aside (keep it) and start syncd: it rebuilds the replica from the hub")
                }
                if let free = health.freeDiskBytes, free < StatusReport.minFreeDiskBytes {
                    report(.warning, "only \(free / 1_048_576) MB free in \(directory)", "free disk space before writes start to fail")
                }
            } catch {
                report(.failure, "replica: \(error)")
            }
        }
        for (item, needed) in [(directory, "directory"), (path, "replica file")] where FileManager.default.fileExists(atPath: item) {
            if access(item, R_OK | W_OK) == 0 {
                report(.ok, "\(needed) \(item) is readable and writable by this user")
            } else {
                report(.failure, "\(needed) \(item) is not writable by this user",
                       "add this user to the office writers group (usermod -aG communesync-writers NAME, then log in again)")
            }
        }

        // The permissions model: who else may read the register and the credential.
        var modelHolds = true
        let checks: [(PermissionsModel.FileFacts?, (PermissionsModel.FileFacts) -> PermissionsModel.Finding?)] = [
            (.of(path), PermissionsModel.replica),
            (settings.hub.credentialFile.flatMap(PermissionsModel.FileFacts.of), PermissionsModel.credential),
        ]
        for case let (facts?, rule) in checks {
            if let finding = rule(facts) {
                report(.failure, finding.problem, finding.fix)
                modelHolds = false
            }
        }
        if settings.hub.credential != nil, let facts = PermissionsModel.FileFacts.of(config), facts.mode & 0o077 != 0 {
            report(.warning, "\(config) holds the credential itself and others than root can read it",
                   "move it into credential_file (root's alone, chmod 600) and remove 'credential' from \(config)")
            modelHolds = false
        }
        if modelHolds { report(.ok, "permissions: credential root's alone, register the writers', nothing for others") }

        // Credential, hub, versions, clock. The credential is root's alone: as anyone else,
        // what syncd's last round says about it is the answer.
        let daemon = (try? ControlSocket.ask("status", at: settings.controlSocket, timeoutSeconds: 5)).flatMap { try? DaemonStatus.decode($0) }
        let credential: String?
        do {
            credential = try settings.hub.token()
            report(.ok, "credential is set")
        } catch {
            if getuid() != 0, let file = settings.hub.credentialFile, FileManager.default.fileExists(atPath: file) {
                credential = nil
                switch (daemon?.lastRoundOK, daemon?.hubReachable) {
                case (true?, _):
                    report(.ok, "credential \(file) is root's alone; the hub accepted syncd's copy at its last round")
                case (false?, true?):
                    report(.failure, "the hub refused syncd's last round: \(daemon?.lastError ?? "?")", "run 'syncctl doctor' as root to check the credential with the hub")
                default:
                    report(.ok, "credential \(file) is root's alone (run doctor as root to try it at the hub)")
                }
            } else {
                report(.failure, "credential: \(error)", "ask the district office for the commune's credential and save it as credential_file")
                throw ExitCode(2)
            }
        }
        let probe = HubProbe.check(settings.hub.url, caFile: settings.hub.caFile, allowInsecureHTTP: settings.hub.allowInsecureHTTP)
        if let problem = probe.problem {
            report(.failure, problem)
        } else if !probe.reachable {
            report(.failure, "the hub at \(settings.hub.url) does not answer",
                   "check the network link and hub.url; changes are kept here and sent when it answers")
        } else {
            report(.ok, "the hub at \(settings.hub.url) answers")
            let answer = credential.map {
                HubProbe.checkCredential(
                    settings.hub.url, credential: $0, schema: RegisterSchema.current.version, caFile: settings.hub.caFile,
                    allowInsecureHTTP: settings.hub.allowInsecureHTTP)
            }
            switch answer?.status {
            case _ where answer == nil: break
            case 200?: report(.ok, "the hub accepts this commune's credential and versions")
            case 409?: report(.failure, "versions differ: \(answer?.message ?? "")", "upgrade the older side")
            case let status?: report(.failure, "the hub refused the credential (\(status)): \(answer?.message ?? "")", "ask the district office for a new credential")
            case nil: report(.failure, "checking the credential failed: \(answer?.message ?? "")")
            }
            if let skew = probe.skew {
                if abs(skew) > StatusReport.maxClockSkewSeconds {
                    report(.warning, String(format: "this clock is %+.0f s off the hub's", skew), "turn on time sync: timedatectl set-ntp true")
                } else {
                    report(.ok, String(format: "clock within %.1f s of the hub's", abs(skew)))
                }
            }
        }
        if daemon != nil {
            report(.ok, "syncd answers on \(settings.controlSocket)")
        } else {
            report(.warning, "syncd does not answer on \(settings.controlSocket)", "systemctl start syncd; journalctl -u syncd says why it stopped")
        }
        throw ExitCode(worst == .ok ? 0 : worst == .warning ? 1 : 2)
    }
}
