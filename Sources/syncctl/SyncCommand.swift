import ArgumentParser
import Foundation
import MergeEngine
import Register
import Replica
import SyncClient
import SyncConfig
import SyncCore
import SyncProtocol

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: SyncctlHelp.current.sync)

    @Option(help: ArgumentHelp(SyncctlHelp.current.configPath))
    var config: String = "/etc/communesync/commune.toml"

    @OptionGroup var language: LanguageChoice

    func run() throws {
        let settings = try CommuneSettings.load(config)
        let words = language.catalogue(settings)
        // A running syncd does the round itself: it holds the credential, and two writers of
        // the sync bookkeeping at once would only wait on each other.
        if let reply = try? ControlSocket.ask("sync", at: settings.controlSocket), let daemon = try? DaemonStatus.decode(reply) {
            if daemon.lastRoundOK == true {
                print(words.sync(.daemonRound(hub: settings.hub.url, sent: daemon.lastRoundSent, received: daemon.lastRoundReceived)))
                return
            }
            if let skew = daemon.clockSkewSeconds, abs(skew) > StatusReport.maxClockSkewSeconds {
                // The clock is why: said once, in the office's language, with the fix.
                print(words.advice(.clockOff(seconds: Int(skew))))
            } else {
                print(words.sync(daemon.lastError.map { .daemonRoundFailed(why: Self.why(daemon.lastErrorKind, $0, in: words)) }
                    ?? .daemonDidNotFinish))
            }
            throw ExitCode(daemon.hubReachable == false ? 2 : 1)
        }
        // No daemon: a round from here. A new replica is created as syncd would; an existing
        // one is used only as it is: upgrading its layout is syncd's job alone.
        let replica: Replica
        if FileManager.default.fileExists(atPath: settings.database) {
            guard let id = ReplicaID(rawValue: settings.replica) else { throw ReplicaError.invalidReplicaID(settings.replica) }
            replica = try Replica(openingExisting: settings.database, access: .sameSchema)
            guard replica.id == id else {
                throw SettingsError(file: settings.database, problem: "is the replica of \(replica.id), but commune.toml says replica = \(id): fix one of them")
            }
        } else {
            replica = try CommuneReplica.open(settings)
        }
        let session = try SyncSession(replica: replica, settings: settings)
        do {
            let report = try session.round()
            print(words.sync(.round(hub: settings.hub.url, sent: report.pushed, received: report.pulled, new: report.applied)))
            if report.snapshotRows > 0 { print(words.sync(.bootstrapped(rows: report.snapshotRows))) }
            if let previous = report.previousComputer { print(SyncCommand.previous(previous, in: words)) }
            if let rebase = report.rebase { print(words.sync(.rebuilt(kept: rebase.renumbered, fromHub: rebase.rowsFromHub))) }
            if report.refused > 0 {
                print(words.sync(.refusedInRound(changes: report.refused)))
                throw ExitCode(1)
            }
        } catch let error as SyncError {
            if case .refused(409, "clock_ahead", _) = error, let skew = session.lastClockOffset {
                print(words.advice(.clockOff(seconds: Int(skew))))
                throw ExitCode(1)
            }
            print(words.sync(.failed(why: Self.why(RoundFailure(error), "\(error)", in: words))))
            throw ExitCode(error.isTransient ? 2 : 1)
        }
    }

    /// Why a round failed, after "sync failed:": in the office's words when its kind says it.
    static func why(_ kind: RoundFailure?, _ detail: String, in words: any OfficeCatalogue) -> String {
        kind == nil || kind == .other ? detail : words.roundFailed(kind, detail: detail)
    }

    /// What the hub last heard from the computer a new file replaces, in words.
    static func previous(_ previous: PreviousComputer, in words: any OfficeCatalogue, now: Date = Date()) -> String {
        words.previousComputer(lastSync: OfficeText.moment(previous.seenAt, in: words, now: now), unsent: previous.unsent,
                               oldest: previous.oldestUnsentS.map { words.duration(seconds: Double($0)) })
    }
}
