import HubCore
import Foundation
import Hummingbird
import SyncProtocol

/// What monitoring reads without a credential: `/health` (is the hub up, and which versions
/// it speaks) and `/metrics` (Prometheus text). The request limit lets both through even
/// when the hub is full, so an overloaded hub can be seen to be one.
struct MonitoringRoutes {
    static let routes = [
        HubRoute(method: "GET", path: "/health"),
        HubRoute(method: "GET", path: "/metrics"),
    ]

    let store: HubStore
    let wire: Wire
    let metrics: HubMetrics

    func add(to router: some RouterMethods<HubRequestContext>) {
        router.get("/health", use: health)
        router.get("/metrics", use: render)
    }

    @Sendable func health(_ request: Request, context: HubRequestContext) async throws -> Response {
        try wire.reply(["status": "ok", "replica": store.district.rawValue, "schema": String(store.schemaVersion),
                        "protocol": String(WireVersion.protocolVersion),
                        "time": String(Int64(Date().timeIntervalSince1970 * 1000))], to: request)
    }

    @Sendable func render(_ request: Request, context: HubRequestContext) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(string: try await metrics.render(store: store))))
    }
}
