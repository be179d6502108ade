import ArgumentParser
import Dispatch
import Foundation
import Logging
import MergeEngine
import Register
import Replica
import SyncClient
import SyncConfig
import SyncCore

/// `syncd`: the commune daemon. Opens (creating on first start) the office's replica and
/// syncs it with the district hub on an interval, backing off while the hub does not answer.
/// Speaks systemd's notify protocol (READY, STATUS, WATCHDOG) and answers `syncctl` on its
/// control socket. SIGTERM stops it between rounds, or abandons the round in flight safely:
/// every step of a round commits on its own, and what did not commit is redone next time.
@main
struct SyncDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syncd",
        abstract: "CommuneSync daemon: keeps a commune office's replica of the register in sync with the district hub.")

    /// COMMUNESYNC_CONFIG stands in for --config where arguments cannot be passed (a systemd
    /// drop-in's Environment=, or a wrapper such as libfaketime that hides them).
    @Option(help: "Path of commune.toml (default: $COMMUNESYNC_CONFIG, else /etc/communesync/commune.toml).")
    var config: String = ProcessInfo.processInfo.environment["COMMUNESYNC_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        ?? "/etc/communesync/commune.toml"

    func run() throws {
        // A client that leaves before its reply must not end the daemon (SIGPIPE would, with an
        // exit status systemd counts as clean, so Restart=on-failure would not bring it back).
        signal(SIGPIPE, SIG_IGN)
        let settings = try CommuneSettings.load(config)
        let level = settings.logLevel
        LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, level: level) }
        var logger = Logger(label: "syncd")
        logger.logLevel = level
        // Only one daemon per office: a second one (an older release still running, say) must
        // not be upgraded under, nor share the replica with.
        if let running = try? ControlSocket.ask("status", at: settings.controlSocket, timeoutSeconds: ControlSocket.clientTimeoutSeconds),
            let other = try? DaemonStatus.decode(running) {
            throw DaemonError.alreadyRunning(socket: settings.controlSocket, pid: other.pid, schema: other.schemaVersion)
        }
        let replica = try CommuneReplica.open(settings)
        let session = try SyncSession(replica: replica, settings: settings)
        let systemd = SystemdNotifier()
        let state = DaemonState()
        let wake = DispatchSemaphore(value: 0)

        let control = try ControlSocket.serve(at: settings.controlSocket) { command in
            switch command {
            case "status":
                return state.json()
            case "sync":
                let asked = Date()
                wake.signal()
                _ = state.waitForRound(after: asked, timeout: settings.hub.requestTimeoutSeconds * 3)
                return state.json()
            default:
                return Data(#"{"error": "unknown command; use status or sync"}"#.utf8)
            }
        }
        for (signalNumber, stops) in [(SIGTERM, true), (SIGINT, true), (SIGUSR1, false)] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                if stops { state.requestStop() }
                wake.signal()
            }
            source.resume()
            state.keep(source)
        }
        // The figures for node_exporter, after every round (and now), when asked for.
        let metrics = settings.metricsTextfile.map(OfficeMetrics.init(path:))
        var metricsFailing = false
        func exportMetrics() {
            guard let metrics else { return }
            do {
                let daemon = state.snapshot
                let report = StatusReport(health: try ReplicaHealth.read(path: settings.database), hubURL: settings.hub.url, daemon: daemon,
                                          hubReachable: daemon.hubReachable ?? false, probedSkew: nil)
                try metrics.write(report, daemon: daemon)
                if metricsFailing { logger.notice("writing the metrics file works again", metadata: ["file": "\(metrics.path)"]) }
                metricsFailing = false
            } catch {
                // Said once, not every round; syncing goes on.
                if !metricsFailing { logger.warning("cannot write the metrics file: \(error)", metadata: ["file": "\(metrics.path)"]) }
                metricsFailing = true
            }
        }
        exportMetrics()
        logger.info("started", metadata: ["replica": "\(replica.id)", "database": "\(settings.database)",
                                           "hub": "\(settings.hub.url)", "control": "\(settings.controlSocket)"])
        systemd.notify("READY=1\nSTATUS=replica \(replica.id) open; first sync round starting")

        let backoff = Backoff(base: 1, cap: settings.sync.maxBackoffSeconds)
        var quiet = 0
        var lastSummary = Date()
        while !state.stopping {
            systemd.notify("WATCHDOG=1")
            let started = ContinuousClock.now
            do {
                let report = try session.round(digestInterval: settings.sync.digestIntervalSeconds)
                state.roundSucceeded(report)
                // A round that moved nothing is routine: at info, syncd says so once an hour.
                let moved = report.pushed + report.pulled + report.applied + report.snapshotRows + report.refused + report.moved > 0
                quiet = moved ? 0 : quiet + 1
                let summaryDue = !moved && Date().timeIntervalSince(lastSummary) >= Self.idleSummarySeconds
                if moved || summaryDue {
                    lastSummary = Date()
                    if !moved {
                        logger.info("idle: nothing sent or received", metadata: ["quiet_rounds": "\(quiet)"])
                    }
                }
                logger.log(level: moved ? .info : .debug, "round", metadata: [
                    "pushed": "\(report.pushed)", "acked": "\(report.acknowledged)", "pulled": "\(report.pulled)",
                    "applied": "\(report.applied)", "checkpoint": "\(report.checkpoint)", "snapshot_rows": "\(report.snapshotRows)",
                    "bytes_out": "\(report.bytesSent)", "bytes_in": "\(report.bytesReceived)", "ms": "\(Self.milliseconds(since: started))",
                    "refused": "\(report.refused)",
                ])
                if let rebase = report.rebase {
                    let why = (try? replica.meta("rebase_reason")?.textValue) ?? "?"
                    logger.warning("replica rebuilt from the hub", metadata: [
                        "why": "\(why)", "renumbered": "\(rebase.renumbered)",
                        "already_at_hub": "\(rebase.alreadyAtHub)", "rows_from_hub": "\(rebase.rowsFromHub)"])
                }
                if report.logRowsDropped > 0 {
                    logger.info("log compacted: rows the hub has held past office_log_days dropped", metadata: [
                        "dropped": "\(report.logRowsDropped)",
                        "office_log_days": "\((try? replica.meta("office_log_days")?.integerValue).flatMap { $0 } ?? 0)"])
                }
                if let digest = report.digest {
                    logger.info("compared with the hub by content", metadata: [
                        "matched": "\(digest.matched)", "repaired": "\(digest.rowsRepaired)", "forgotten": "\(digest.rowsForgotten)",
                        "still_differing": "\(digest.rowsStillDiffering.joined(separator: " "))"])
                }
                systemd.notify("STATUS=last round ok at \(Date().formatted(.iso8601)): sent \(report.pushed), received \(report.pulled)")
            } catch {
                let transient = (error as? SyncError)?.isTransient ?? false
                state.roundFailed(Self.explain(error), kind: RoundFailure(error), hubAnswered: !transient, hubProblem: (error as? SyncError)?.hubProblem,
                                  clockSkewSeconds: session.lastClockOffset)
                logger.warning("round failed", metadata: ["failures": "\(state.failures)", "why": "\(Self.explain(error))"])
                systemd.notify("STATUS=round failed (\(state.failures) in a row): \(Self.explain(error))")
            }
            exportMetrics()
            let pause = state.failures == 0 ? settings.sync.intervalSeconds
                : max(0.2, backoff.delay(afterFailures: state.failures, unit: Double.random(in: 0..<1)))
            // Wait in slices so the watchdog hears from us while idle.
            let until = Date().addingTimeInterval(pause)
            while !state.stopping, Date() < until {
                let slice = min(until.timeIntervalSinceNow, systemd.watchdogInterval ?? pause)
                if wake.wait(timeout: .now() + max(slice, 0.01)) == .success { break }
                systemd.notify("WATCHDOG=1")
            }
        }
        systemd.notify("STOPPING=1")
        // Values are read when folded: folding before stopping leaves a copy of the stopped
        // file (a backup) holding the values of every write, as the hub will.
        do { try replica.fold() } catch { logger.warning("could not fold the last writes before stopping: \(error)") }
        control.stop()
        logger.info("stopped cleanly")
    }

    /// How often an idle syncd says at info level that it is still syncing (every round that
    /// moved something is logged; one that moved nothing only at debug).
    static let idleSummarySeconds: TimeInterval = 3600

    /// What a technician should read about a failed round.
    static func explain(_ error: any Error) -> String {
        if RoundFailure(error) == .diskFull {
            return "the disk holding the replica is full: free some space ('syncctl status' shows how much is left); "
                + "nothing was lost, and sync resumes by itself"
        }
        return "\(error)"
    }

    private static func milliseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
}

/// Why syncd will not start, said so that a technician can act on it.
enum DaemonError: Error, CustomStringConvertible {
    case alreadyRunning(socket: String, pid: Int32?, schema: Int?)

    var description: String {
        switch self {
        case .alreadyRunning(let socket, let pid, let schema):
            return "another syncd\(pid.map { " (pid \($0))" } ?? "") already answers at \(socket)"
                + "\(schema.map { ", with register schema \($0)" } ?? ""): stop it first ('systemctl stop syncd'); "
                + "two daemons must never share one replica, nor may a newer one upgrade it under an older one"
        }
    }
}

/// The daemon's state shared by its loop, its signal handlers and its control socket.
final class DaemonState: @unchecked Sendable {
    // @unchecked: every property is read and written under `condition`'s lock.
    private let condition = NSCondition()
    private var status = DaemonStatus(startedAt: Date(), pid: getpid(), schemaVersion: RegisterSchema.current.version)
    private var stopRequested = false
    private var sources: [DispatchSourceSignal] = []

    var stopping: Bool { condition.withLock { stopRequested } }
    var failures: Int { condition.withLock { status.consecutiveFailures } }

    func requestStop() { condition.withLock { stopRequested = true } }
    func keep(_ source: DispatchSourceSignal) { condition.withLock { sources.append(source) } }

    func roundSucceeded(_ report: RoundReport) {
        condition.withLock {
            status.lastRoundAt = Date()
            status.lastRoundOK = true
            status.hubReachable = true
            status.lastError = nil
            status.lastErrorKind = nil
            status.hubProblem = nil
            status.consecutiveFailures = 0
            status.lastRoundSent = report.pushed
            status.lastRoundReceived = report.pulled
            if let skew = report.clockSkewSeconds { status.clockSkewSeconds = skew }
            condition.broadcast()
        }
    }

    func roundFailed(_ error: String, kind: RoundFailure, hubAnswered: Bool, hubProblem: String?, clockSkewSeconds: Double? = nil) {
        condition.withLock {
            if let clockSkewSeconds { status.clockSkewSeconds = clockSkewSeconds }
            status.lastRoundAt = Date()
            status.lastRoundOK = false
            status.hubReachable = hubAnswered && hubProblem == nil
            status.lastError = error
            status.lastErrorKind = kind
            status.hubProblem = hubProblem
            status.consecutiveFailures += 1
            condition.broadcast()
        }
    }

    /// Blocks until a round ends after `date`, or `timeout` seconds pass.
    func waitForRound(after date: Date, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while (status.lastRoundAt ?? .distantPast) <= date {
                if !condition.wait(until: deadline) { return false }
            }
            return true
        }
    }

    var snapshot: DaemonStatus { condition.withLock { status } }

    func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        encoder.dateEncodingStrategy = .iso8601
        return condition.withLock { (try? encoder.encode(status)) ?? Data("{}".utf8) }
    }
}
