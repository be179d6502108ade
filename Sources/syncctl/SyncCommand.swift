import ArgumentParser
import Foundation
import Replica
import SyncClient
import SyncConfig

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync with the hub now (one round: push, then pull) and say how it went.")

    @Option(help: "Path of commune.toml.")
    var config: String = "/etc/communesync/commune.toml"

    func run() throws {
        let settings = try CommuneSettings.load(config)
        let replica = try CommuneReplica.open(settings)
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
