import Foundation
import Prometheus

/// What `/metrics` shows, in the Prometheus text format: requests by route and status,
/// push batches and changes, open conflicts, the feed's length, and when each replica was
/// last heard from.
public struct HubMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    public init() {}

    /// `communesync_hub_NAME_UNIT` (no unit suffix when `unit` is empty).
    private func name(_ metric: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "communesync", subsystem: "hub", metricName: metric, unitName: unit, helpText: help)
    }

    func request(route: String, status: Int) {
        registry.makeCounter(
            descriptor: name("requests", unit: "total", help: "Sync API requests answered, by route and HTTP status."),
            labels: [("route", route), ("status", String(status))]
        ).increment()
    }

    func pushed(replica: String, applied: Int, duplicates: Int) {
        registry.makeCounter(descriptor: name("push_batches", unit: "total", help: "Push batches accepted.")).increment()
        registry.makeCounter(descriptor: name("changes_applied", unit: "total", help: "Changes applied from pushes."))
            .increment(by: Int64(applied))
        registry.makeCounter(descriptor: name("changes_duplicate", unit: "total", help: "Pushed changes the hub already held."))
            .increment(by: Int64(duplicates))
    }

    func seen(replica: String) {
        registry.makeGauge(
            descriptor: name("replica_last_seen", unit: "seconds", help: "Unix time of the last authenticated request from each replica."),
            labels: [("replica", replica)]
        ).set(Date().timeIntervalSince1970)
    }

    /// The text format, with the gauges read from the store just now.
    func render(store: HubStore) async throws -> String {
        let figures = try await store.figures()
        registry.makeGauge(descriptor: name("conflicts_open", help: "Conflicts not closed at the hub."))
            .set(Double(figures.openConflicts))
        registry.makeGauge(descriptor: name("conflicts_awaiting_review", help: "Conflicts waiting for district review."))
            .set(Double(figures.awaitingReview))
        registry.makeGauge(descriptor: name("feed_changes", help: "Changes in the hub's feed."))
            .set(Double(figures.feedChanges))
        return registry.emitToString()
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
