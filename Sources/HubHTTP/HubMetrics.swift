import HubCore
import Foundation
import Prometheus
import MergeEngine
import Register
import SyncProtocol

/// What `/metrics` shows, in the Prometheus text format: requests by route and status and
/// how long they took, push batches and changes (refused ones by office), open conflicts, the feed's length, when
/// each replica was last heard from, which release runs, and the process's own figures.
///
/// The names follow Prometheus's conventions, which the dashboard and alert rules in
/// `Deploy/monitoring/` rely on: counters end in `_total`, a Unix time ends in
/// `_timestamp_seconds`, durations are in seconds. Labels stay bounded: `route` is the
/// pattern a route was added with (never the path asked for), `replica` only a replica that
/// presented a valid credential.
public struct HubMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Made once (at zero from the start, so that a rate over the first push is a rate and
    /// not a gap): looked up in the registry per push they cost a lock and a few strings.
    private let pushCounters: (batches: Counter, applied: Counter, duplicates: Counter)

    /// Upper bounds of the request-duration buckets, in seconds: from a pull answered from
    /// memory to a push of thousands of changes on a slow disk. Few, because every route
    /// carries every bucket.
    static let durationBuckets: [Duration] = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10].map { Duration.seconds($0) }

    public init() {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "communesync", metricName: "build", unitName: "info",
                helpText: "Always 1; the labels say which release, schema and protocol this hub runs."),
            labels: [("version", Release.version), ("schema", String(RegisterSchema.current.version)),
                     ("protocol", String(WireVersion.protocolVersion))]
        ).set(1.0)
        pushCounters = (
            registry.makeCounter(descriptor: Self.name("push_batches", unit: "total", help: "Push batches accepted.")),
            registry.makeCounter(descriptor: Self.name("changes_applied", unit: "total", help: "Changes applied from pushes.")),
            registry.makeCounter(descriptor: Self.name("changes_duplicate", unit: "total", help: "Pushed changes the hub already held.")))
    }

    /// `communesync_hub_NAME_UNIT` (no unit suffix when `unit` is empty).
    private func name(_ metric: String, unit: String = "", help: String) -> MetricNameDescriptor {
        Self.name(metric, unit: unit, help: help)
    }

    private static func name(_ metric: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "communesync", subsystem: "hub", metricName: metric, unitName: unit, helpText: help)
    }

    /// One answer of an API route: counted by route and status, its duration by route.
    func request(route: String, status: Int, took duration: Duration) {
        registry.makeCounter(
            descriptor: name("requests", unit: "total", help: "Sync API requests answered, by route and HTTP status."),
            labels: [("route", route), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: name("request_duration", unit: "seconds", help: "Time to answer a sync API request, by route."),
            labels: [("route", route)], buckets: Self.durationBuckets
        ).record(duration)
    }

    /// By office only, not by reason: one series per office, made at zero when the office is
    /// first seen so that an alert's `increase` counts its first refusal too. The reasons are
    /// on the office (`syncctl refused`) and in the hub's log.
    private func refusedCounter(replica: String) -> Counter {
        registry.makeCounter(
            descriptor: name("changes_refused", unit: "total", help: "Pushed changes the hub refused (out of scope, unknown, too large...), by office."),
            labels: [("replica", replica)])
    }

    func pushed(replica: String, applied: Int, duplicates: Int, refused: Int) {
        let counters = pushCounters
        counters.batches.increment()
        counters.applied.increment(by: Int64(applied))
        counters.duplicates.increment(by: Int64(duplicates))
        refusedCounter(replica: replica).increment(by: Int64(refused))
    }

    /// A request with a valid credential: the time, by replica and role, so that an alert on
    /// offices not heard from passes over reviewers who simply had no work.
    func seen(_ caller: Caller) {
        registry.makeGauge(
            descriptor: name("replica_last_seen_timestamp", unit: "seconds",
                             help: "Unix time of the last authenticated request from each replica (commune office or reviewer)."),
            labels: [("replica", caller.replica.rawValue), ("role", caller.role.rawValue)]
        ).set(Date().timeIntervalSince1970)
        if caller.role == .commune { _ = refusedCounter(replica: caller.replica.rawValue) }
    }

    /// The text format, with the gauges read from the store and the process just now.
    func render(store: HubStore) async throws -> String {
        let figures = try await store.figures()
        registry.makeGauge(descriptor: name("conflicts_open", help: "Conflicts not closed at the hub."))
            .set(Double(figures.openConflicts))
        registry.makeGauge(descriptor: name("conflicts_awaiting_review", help: "Conflicts waiting for district review."))
            .set(Double(figures.awaitingReview))
        registry.makeGauge(descriptor: name("feed_changes", help: "Changes in the hub's feed."))
            .set(Double(figures.feedChanges))
        for office in try await store.progress() {
            guard let facts = office.facts, let seenAt = office.seenAt, let seen = try? Date(seenAt, strategy: .iso8601) else { continue }
            officeGauges(office.replica.rawValue, facts, said: seen)
        }
        return registry.emitToString() + (ProcessFigures.read()?.exposition ?? "")
    }
}

extension HubMetrics {
    /// What one office said of itself with its latest pull (`OfficeFacts`), one series per
    /// office that ever said anything (as many as the district has credentials), so that
    /// alerts see unsent changes, clocks and disks at the offices without anyone logging in.
    /// `office_facts_timestamp_seconds` says when: an office that stopped syncing keeps its
    /// last figures, which the not-seen alerts cover.
    func officeGauges(_ replica: String, _ facts: OfficeFacts, said: Date) {
        func gauge(_ metric: String, unit: String = "", _ help: String, _ value: Double) {
            registry.makeGauge(descriptor: name("office_" + metric, unit: unit, help: help), labels: [("replica", replica)]).set(value)
        }
        gauge("facts", unit: "timestamp_seconds", "Unix time of the pull with which each office last said the figures below.",
              said.timeIntervalSince1970)
        gauge("unsent_changes", "Changes typed at each office not yet at the hub, as it said with its latest pull.", Double(facts.unsent))
        gauge("oldest_unsent", unit: "seconds", "Age of the oldest change each office has not sent yet (0: none waits).",
              Double(facts.unsent > 0 ? facts.oldestUnsentS ?? 0 : 0))
        gauge("refused_rows", "Rows each office holds that the hub refused.", Double(facts.refusedRows))
        gauge("clock_offset", unit: "seconds", "How far each office's clock is from the hub's (positive: ahead).", facts.clockOffsetS ?? 0)
        if let free = facts.freeDiskBytes {
            gauge("free_disk", unit: "bytes", "Free space where each office keeps its replica file.", Double(free))
        }
        gauge("round_failing", "1 when each office's latest sync round failed, else 0.", facts.lastError == nil ? 0 : 1)
    }
}

/// Figures read from the hub's database for metrics.
public struct HubFigures: Sendable {
    public let openConflicts: Int
    public let awaitingReview: Int
    public let feedChanges: Int
}

extension HubStore {
    public func figures() async throws -> HubFigures {
        try await storage.read { store in
            let conflicts = try await store.conflictCounts()
            return HubFigures(openConflicts: conflicts.standing, awaitingReview: conflicts.open, feedChanges: try await store.feedCount())
        }
    }
}
