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
        abstract: SyncctlHelp.current.doctor)

    @Option(help: ArgumentHelp(SyncctlHelp.current.configPath))
    var config: String = "/etc/communesync/commune.toml"

    @OptionGroup var language: LanguageChoice

    func run() throws {
        var worst = DoctorVerdict.ok
        var words = language.catalogue(nil)
        func report(_ verdict: DoctorVerdict, _ said: DoctorSaid) {
            let (what, fix) = words.doctor(said)
            let width = DoctorVerdict.allCases.map { words.verdict($0).count }.max()!
            print(words.verdict(verdict).padding(toLength: width, withPad: " ", startingAt: 0) + "  " + what
                + (fix.map { "\n" + String(repeating: " ", count: width + 4) + words.fixLabel + " " + $0 } ?? ""))
            if verdict == .failure || (verdict == .warning && worst == .ok) { worst = verdict }
        }

        let settings: CommuneSettings
        do {
            settings = try CommuneSettings.load(config)
            words = language.catalogue(settings)
            report(.ok, .configReads(path: config))
        } catch {
            report(.failure, .configBroken(problem: "\(error)"))
            throw ExitCode(2)
        }

        // The replica file.
        let path = settings.database
        let directory = (path as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: path) {
            report(.warning, .noReplica(path: path))
        } else {
            do {
                let health = try ReplicaHealth.read(path: path)
                if health.replica == settings.replica {
                    report(.ok, .replicaBelongs(path: path, replica: health.replica))
                } else {
                    report(.failure, .replicaOfAnother(path: path, holds: health.replica, configured: settings.replica, config: config))
                }
                let database = try SQLiteDatabase(path: path, create: false, readOnly: true)
                let integrity = try database.scalar("PRAGMA integrity_check")?.description ?? "?"
                if integrity == "ok" {
                    report(.ok, .integrityPassed)
                } else {
                    report(.failure, .integrityFailed(result: integrity, path: path))
                }
                if let free = health.freeDiskBytes, free < StatusReport.minFreeDiskBytes {
                    report(.warning, .diskLow(megabytes: free / 1_048_576, directory: directory))
                }
            } catch {
                report(.failure, .replicaUnreadable(problem: "\(error)"))
            }
        }
        for (item, isDirectory) in [(directory, true), (path, false)] where FileManager.default.fileExists(atPath: item) {
            if access(item, R_OK | W_OK) == 0 {
                report(.ok, .writable(directory: isDirectory, path: item))
            } else {
                report(.failure, .notWritable(directory: isDirectory, path: item))
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
                report(.failure, .permissions(problem: finding.problem, fix: finding.fix))
                modelHolds = false
            }
        }
        if settings.hub.credential != nil, let facts = PermissionsModel.FileFacts.of(config), facts.mode & 0o077 != 0 {
            report(.warning, .credentialInConfig(path: config))
            modelHolds = false
        }
        if modelHolds { report(.ok, .permissionsHold) }

        // Credential, hub, versions, clock. The credential is root's alone: as anyone else,
        // what syncd's last round says about it is the answer.
        let daemon = (try? ControlSocket.ask("status", at: settings.controlSocket, timeoutSeconds: 5)).flatMap { try? DaemonStatus.decode($0) }
        let credential: String?
        do {
            credential = try settings.hub.token()
            report(.ok, .credentialSet)
        } catch {
            if getuid() != 0, let file = settings.hub.credentialFile, FileManager.default.fileExists(atPath: file) {
                credential = nil
                switch (daemon?.lastRoundOK, daemon?.hubReachable) {
                case (true?, _):
                    report(.ok, .credentialRootsAndAccepted(file: file))
                case (false?, true?):
                    report(.failure, .hubRefusedLastRound(why: daemon?.lastError ?? "?"))
                default:
                    report(.ok, .credentialRootsAlone(file: file))
                }
            } else {
                report(.failure, .credentialMissing(problem: "\(error)"))
                throw ExitCode(2)
            }
        }
        let probe = HubProbe.check(settings.hub.url, caFile: settings.hub.caFile, allowInsecureHTTP: settings.hub.allowInsecureHTTP)
        if let problem = probe.problem {
            report(.failure, .hubProblem(problem))
        } else if !probe.reachable {
            report(.failure, .hubSilent(url: settings.hub.url))
        } else {
            report(.ok, .hubAnswers(url: settings.hub.url))
            let answer = credential.map {
                HubProbe.checkCredential(
                    settings.hub.url, credential: $0, schema: RegisterSchema.current.version, caFile: settings.hub.caFile,
                    allowInsecureHTTP: settings.hub.allowInsecureHTTP)
            }
            switch answer?.status {
            case _ where answer == nil: break
            case 200?: report(.ok, .credentialAccepted)
            case 409?: report(.failure, .versionsDiffer(message: answer?.message ?? ""))
            case let status?: report(.failure, .credentialRefused(status: status, message: answer?.message ?? ""))
            case nil: report(.failure, .credentialCheckFailed(message: answer?.message ?? ""))
            }
            if let skew = probe.skew {
                if abs(skew) > StatusReport.maxClockSkewSeconds {
                    report(.warning, .clockOff(seconds: Int(skew.rounded())))
                } else {
                    report(.ok, .clockWithin(seconds: abs(skew)))
                }
            }
        }
        if daemon != nil {
            report(.ok, .daemonAnswers(socket: settings.controlSocket))
        } else {
            report(.warning, .daemonSilent(socket: settings.controlSocket))
        }
        throw ExitCode(worst == .ok ? 0 : worst == .warning ? 1 : 2)
    }
}
