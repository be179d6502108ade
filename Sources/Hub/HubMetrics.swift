import Foundation
import Prometheus

/// What `/metrics` shows, in the Prometheus text format: requests by route and status,
/// push batches and changes, open conflicts, the feed's length, and when each replica was
/// last heard from.
public struct HubMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    public init() {}

    func request(route: String, status: Int) {
        registry.makeCounter(
            name: "communesync_hub_requests_total", labels: [("route", route), ("status", String(status))],
            help: "Sync API requests answered, by route and HTTP status."
        ).increment()
    }

    func pushed(replica: String, applied: Int, duplicates: Int) {
        registry.makeCounter(name: "communesync_hub_push_batches_total", help: "Push batches accepted.").increment()
        registry.makeCounter(name: "communesync_hub_changes_applied_total", help: "Changes applied from pushes.")
            .increment(by: Int64(applied))
        registry.makeCounter(name: "communesync_hub_changes_duplicate_total", help: "Pushed changes the hub already held.")
            .increment(by: Int64(duplicates))
    }

    func seen(replica: String) {
        registry.makeGauge(
            name: "communesync_hub_replica_last_seen_seconds", labels: [("replica", replica)],
            help: "Unix time of the last authenticated request from each replica."
        ).set(Date().timeIntervalSince1970)
    }

    /// The text format, with the gauges read from the store just now.
    func render(store: HubStore) async throws -> String {
        let figures = try await store.figures()
        registry.makeGauge(name: "communesync_hub_conflicts_open", help: "Conflicts not closed at the hub.")
            .set(Double(figures.openConflicts))
        registry.makeGauge(name: "communesync_hub_conflicts_awaiting_review", help: "Conflicts waiting for district review.")
            .set(Double(figures.awaitingReview))
        registry.makeGauge(name: "communesync_hub_feed_changes", help: "Changes in the hub's feed.")
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
    public func figures() throws -> HubFigures {
        let database = replica.database
        let conflicts = try database.query("SELECT count(*), coalesce(sum(state = 'open'), 0) FROM _sync_conflicts WHERE state <> 'closed'").first ?? []
        return HubFigures(
            openConflicts: Int(conflicts.first?.integerValue ?? 0),
            awaitingReview: Int(conflicts.count > 1 ? conflicts[1].integerValue ?? 0 : 0),
            feedChanges: Int(try database.scalar("SELECT count(*) FROM _sync_hub_feed")?.integerValue ?? 0))
    }
}
