import ArgumentParser
import Dispatch
import Foundation
import Logging
import Replica
import SyncClient
import SyncConfig
import SyncCore

/// `syncd`: the commune daemon. Opens (creating on first start) the office's replica, and
/// syncs it with the district hub on an interval, backing off while the hub does not answer.
@main
struct SyncDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syncd",
        abstract: "CommuneSync daemon: keeps a commune office's replica of the register in sync with the district hub.")

    @Option(help: "Path of commune.toml.")
    var config: String = "/etc/communesync/commune.toml"

    func run() throws {
        var logger = Logger(label: "syncd")
        logger.logLevel = .info
        let settings = try CommuneSettings.load(config)
        let replica = try CommuneReplica.open(settings)
        let session = try SyncSession(replica: replica, settings: settings)
        logger.info("started", metadata: ["replica": "\(replica.id)", "database": "\(settings.database)", "hub": "\(settings.hub.url)"])

        let wake = DispatchSemaphore(value: 0)
        let stopping = StopFlag()
        var sources: [DispatchSourceSignal] = []
        for (signalNumber, stops) in [(SIGTERM, true), (SIGINT, true), (SIGUSR1, false)] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                if stops { stopping.set() }
                wake.signal()
            }
            source.resume()
            sources.append(source)
        }

        let backoff = Backoff(base: 1, cap: settings.sync.maxBackoffSeconds)
        var failures = 0
        while !stopping.isSet {
            let started = ContinuousClock.now
            do {
                let report = try session.round()
                failures = 0
                logger.info("round", metadata: [
                    "pushed": "\(report.pushed)", "acked": "\(report.acknowledged)", "pulled": "\(report.pulled)",
                    "applied": "\(report.applied)", "checkpoint": "\(report.checkpoint)", "snapshot_rows": "\(report.snapshotRows)",
                    "bytes_out": "\(report.bytesSent)", "bytes_in": "\(report.bytesReceived)",
                    "ms": "\(Self.milliseconds(since: started))",
                ])
            } catch let error as SyncError where error.isTransient {
                failures += 1
                logger.warning("round failed, will retry", metadata: ["failures": "\(failures)", "why": "\(error)"])
            } catch {
                failures += 1
                logger.error("round failed: \(error)")
            }
            let pause = failures == 0 ? settings.sync.intervalSeconds
                : max(0.2, backoff.delay(afterFailures: failures, unit: Double.random(in: 0..<1)))
            _ = wake.wait(timeout: .now() + pause)
        }
        logger.info("stopped cleanly")
    }

    private static func milliseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
}

/// Set from a signal handler, read by the main loop.
final class StopFlag: @unchecked Sendable {
    // @unchecked: the flag is guarded by the lock.
    private let lock = NSLock()
    private var value = false

    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
