import Foundation
import Prometheus
import Register
import Replica
import SyncClient
import SyncProtocol

/// The office's own figures for node_exporter's textfile collector (`metrics_textfile` in
/// commune.toml): what `syncctl status` judges, as Prometheus gauges, rewritten after every
/// round. The hub sees the same offices from its side (`/metrics`, the office facts each pull
/// carries); this file is for a district that scrapes its offices' own node_exporter, and it
/// says so even while the hub is unreachable. Names follow the hub's conventions: a Unix time
/// ends in `_timestamp_seconds`, sizes are in bytes, every series carries `replica`.
struct OfficeMetrics {
    let path: String

    /// The text of the file: one registry per write, so a figure that no longer applies
    /// (the oldest unsent change once everything is sent) is gone rather than stale.
    static func text(_ report: StatusReport, daemon: DaemonStatus, now: Date = Date()) -> String {
        let registry = PrometheusCollectorRegistry()
        let replica = [("replica", report.replica)]
        func gauge(_ name: String, _ unit: String = "", _ help: String, _ value: Double?) {
            guard let value else { return }
            registry.makeGauge(
                descriptor: MetricNameDescriptor(namespace: "communesync", subsystem: "office", metricName: name, unitName: unit, helpText: help),
                labels: replica
            ).set(value)
        }
        func seconds(_ iso: String?) -> Double? { iso.flatMap { try? Date($0, strategy: .iso8601) }?.timeIntervalSince1970 }
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "communesync", metricName: "build", unitName: "info",
                helpText: "Always 1; the labels say which release, schema and protocol this office runs."),
            labels: replica + [("version", Release.version), ("schema", String(RegisterSchema.current.version)),
                               ("protocol", String(WireVersion.protocolVersion))]
        ).set(1.0)
        gauge("needs_attention", "", "1 when 'syncctl status' would say the office needs attention or is down, else 0.",
              report.state == .healthy ? 0 : 1)
        gauge("hub_reachable", "", "1 when the hub answered the last round, else 0.", report.hubReachable ? 1 : 0)
        gauge("last_round", "timestamp_seconds", "When the last sync round ended, well or not.", daemon.lastRoundAt?.timeIntervalSince1970)
        gauge("round_failing", "", "1 when the last sync round failed, else 0.", daemon.lastRoundOK.map { $0 ? 0 : 1 })
        gauge("consecutive_failures", "", "Sync rounds failed in a row.", Double(daemon.consecutiveFailures))
        gauge("last_sent", "timestamp_seconds", "When the hub last acknowledged what this office sent.", seconds(report.lastPushAckAt))
        gauge("last_received", "timestamp_seconds", "When this office last applied what the hub sent.", seconds(report.lastPullAt))
        gauge("unsent_changes", "", "Field changes written here that the hub has not acknowledged yet.", Double(report.unackedChanges))
        gauge("unsent_rows", "", "The rows those changes are in.", Double(report.unackedRows))
        gauge("oldest_unsent_age", "seconds", "How long the oldest of those has waited (absent when none waits).",
              report.unackedChanges > 0 ? report.oldestUnackedAgeSeconds : nil)
        gauge("refused_rows", "", "Rows whose changes the hub refused, not yet sent again or dropped.", Double(report.refusedRows))
        gauge("conflicts_awaiting_review", "", "Conflicts touching this office that wait for the district's review.", Double(report.awaitingReview))
        gauge("clock_skew", "seconds", "This computer's clock minus the hub's, at the last round that measured it.", report.clockSkewSeconds)
        gauge("differing_rows", "", "Rows that differed from the hub's at the last comparison by content and could not be repaired.",
              Double(report.digestDifferingRows))
        gauge("data_file", "bytes", "Size of the office's data file (with its write-ahead log).", Double(report.replicaBytes))
        gauge("disk_free", "bytes", "Free space where the data file is.", report.diskFreeBytes.map(Double.init))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Writes the file whole or not at all: node_exporter never reads half of one.
    func write(_ report: StatusReport, daemon: DaemonStatus) throws {
        let temporary = path + ".\(getpid()).tmp"
        try Data(Self.text(report, daemon: daemon).utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            let problem = String(cString: strerror(errno))
            unlink(temporary)
            throw MetricsFileError(description: "cannot put \(path) in place: \(problem)")
        }
    }
}

struct MetricsFileError: Error, CustomStringConvertible {
    let description: String
}
