import HubCore
import Hummingbird
import Logging
import SyncConfig

/// One route the hub serves. The list is what `openapi.yaml` must describe (a test checks).
public struct HubRoute: Sendable {
    public let method: String
    public let path: String
}

/// The hub's HTTP API: the `/v1` sync and review routes, the review desk, health and
/// metrics, each group in its own file, put together here with what guards them.
public enum HubAPI {
    public static let routes = SyncRoutes.routes + MonitoringRoutes.routes + ConflictRoutes.routes + ReviewRoutes.routes

    /// Every route, in front of all of them the method check and the request limit; the API's
    /// routes behind counting and refusals (`RouteOutcome`), the credential check and the
    /// per-caller gate, the sync routes behind the version handshake too.
    public static func router(
        store: HubStore, limits: HubLimits, logger: Logger, metrics: HubMetrics = HubMetrics(),
        desk: ReviewRoutes.Options = ReviewRoutes.Options(), connections: ConnectionTable? = nil
    ) -> Router<HubRequestContext> {
        let router = Router(context: HubRequestContext.self)
        let wire = Wire(store: store, limits: limits)
        // First, so that it sees every request, matched or not.
        router.add(middleware: MethodCheck(wire: wire))
        // Before the routes: a middleware wraps only the routes added after it.
        router.add(middleware: RequestLimit(limit: limits.maxConcurrentRequests, wait: limits.requestTimeoutSeconds / 2))
        MonitoringRoutes(store: store, wire: wire, metrics: metrics).add(to: router)

        let authenticated = router.group()
            .add(middleware: RouteOutcome(wire: wire, metrics: metrics, logger: logger))
            .add(middleware: Authentication(store: store, metrics: metrics, connections: connections))
            .group(context: CallerContext.self)
        // One gate for both groups: a caller's requests count together wherever they go.
        let gate = CallerGate(limit: limits.maxRequestsPerCaller)
        SyncRoutes(store: store, wire: wire, metrics: metrics, logger: logger).add(
            to: authenticated.group()
                .add(middleware: VersionHandshake(schemaVersion: store.schemaVersion, oldestOfficeSchema: limits.oldestOfficeSchema))
                .add(middleware: gate))
        ConflictRoutes(store: store, wire: wire, logger: logger).add(to: authenticated.group().add(middleware: gate))

        ReviewRoutes.add(to: router, store: store, sessions: ReviewSessions(lifetime: desk.sessionLifetime), options: desk, logger: logger)
        return router
    }
}
