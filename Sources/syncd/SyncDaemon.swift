import ArgumentParser
import Dispatch
import Foundation
import Logging
import Replica
import SyncCore

/// `syncd`: the commune daemon. Opens (creating on first start) the replica, keeps its
/// schema and capture triggers current, and folds captured writes into the merge state.
@main
struct SyncDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syncd",
        abstract: "CommuneSync daemon: keeps a commune office's replica of the register.")

    @Option(help: "Path of the replica's SQLite file.")
    var database: String = "/var/lib/communesync/replica.db"

    @Option(help: "Replica id (official commune code); needed only to create the replica on first start.")
    var replica: String?

    @Option(help: "Seconds between passes that fold captured writes into the merge state.")
    var interval: Double = 5

    func run() throws {
        let logger = Logger(label: "syncd")
        let opened = try openReplica()
        logger.info("replica open", metadata: ["replica": "\(opened.id)", "database": "\(database)"])
        let stop = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }
        while stop.wait(timeout: .now() + interval) == .timedOut {
            do {
                try opened.fold()
            } catch {
                logger.error("folding captured writes failed: \(error)")
            }
        }
        logger.info("stopping cleanly")
    }

    private func openReplica() throws -> Replica {
        if FileManager.default.fileExists(atPath: database) {
            return try Replica(openingExisting: database)
        }
        guard let text = replica else {
            throw ValidationError("no replica at \(database): pass --replica with the commune code to create it")
        }
        guard let id = ReplicaID(rawValue: text) else { throw ValidationError(ReplicaError.invalidReplicaID(text).description) }
        return try Replica.create(at: database, id: id, role: .commune)
    }
}
