import ArgumentParser
import Foundation
import MergeEngine
import Register
import Replica
import SyncClient
import SyncConfig
import SyncCore

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync with the hub now (one round: push, then pull) and say how it went.")

    @Option(help: "Path of commune.toml.")
    var config: String = "/etc/communesync/commune.toml"

    func run() throws {
        let settings = try CommuneSettings.load(config)
        // A running syncd does the round itself: it holds the credential, and two writers of
        // the sync bookkeeping at once would only wait on each other.
        if let reply = try? ControlSocket.ask("sync", at: settings.controlSocket), let daemon = try? DaemonStatus.decode(reply) {
            if daemon.lastRoundOK == true {
                print("syncd (pid \(daemon.pid.map(String.init) ?? "?")) ran a round with \(settings.hub.url): ok; 'syncctl status' shows what is at the hub")
                return
            }
            print("sync failed: \(daemon.lastError ?? "the round did not finish in time"); 'journalctl -u syncd' has the details")
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
            print("""
                synced \(replica.id) with \(settings.hub.url)
                  sent      \(report.pushed) changes; the hub holds everything up to \(report.acknowledged)
                  received  \(report.pulled) changes, \(report.applied) new; feed checkpoint \(report.checkpoint)
                """ + (report.snapshotRows > 0 ? "\n  bootstrapped from the hub's snapshot: \(report.snapshotRows) rows" : ""))
            if let rebase = report.rebase {
                print("  this replica was behind the hub (restored or copied file) and was rebuilt from it: "
                    + "\(rebase.renumbered) unsent changes kept and sent under new numbers, \(rebase.rowsFromHub) rows from the hub")
            }
            if report.refused > 0 {
                print("  the hub refused \(report.refused) change(s); the others arrived. See 'syncctl refused' for why and what to do")
                throw ExitCode(1)
            }
        } catch let error as SyncError {
            print("sync failed: \(error)")
            throw ExitCode(error.isTransient ? 2 : 1)
        }
    }
}
