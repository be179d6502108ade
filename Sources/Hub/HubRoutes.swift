import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SyncCore
import SyncProtocol

/// One route the hub serves. The list is what `openapi.yaml` must describe (a test checks).
public struct HubRoute: Sendable {
    public let method: String
    public let path: String
}

/// Limits a hub enforces on requests.
public struct HubLimits: Sendable {
    /// Largest request body accepted, as sent (compressed).
    public var maxBodyBytes = 8 * 1024 * 1024
    /// Largest request body after decompression.
    public var maxExpandedBytes = 64 * 1024 * 1024
    /// Changes per pull response and rows per snapshot page, at most.
    public var maxBatch = 5_000

    public init() {}
}

/// The `/v1` sync API over Hummingbird.
public enum HubAPI {
    public static let routes = [
        HubRoute(method: "POST", path: "/v1/push"),
        HubRoute(method: "GET", path: "/v1/pull"),
        HubRoute(method: "GET", path: "/v1/snapshot"),
        HubRoute(method: "GET", path: "/v1/own"),
        HubRoute(method: "GET", path: "/v1/digest"),
        HubRoute(method: "POST", path: "/v1/rows"),
        HubRoute(method: "GET", path: "/health"),
        HubRoute(method: "GET", path: "/metrics"),
        HubRoute(method: "GET", path: "/v1/conflicts"),
        HubRoute(method: "POST", path: "/v1/conflicts/resolve"),
        HubRoute(method: "POST", path: "/v1/conflicts/revert"),
        HubRoute(method: "GET", path: "/review"),
        HubRoute(method: "POST", path: "/review/login"),
        HubRoute(method: "POST", path: "/review/logout"),
        HubRoute(method: "POST", path: "/review/resolve"),
    ]

    public static func router(
        store: HubStore, limits: HubLimits, logger: Logger, metrics: HubMetrics = HubMetrics(),
        desk: ReviewRoutes.Options = ReviewRoutes.Options()
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let wire = Wire(store: store, limits: limits, logger: logger, metrics: metrics)
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: try await metrics.render(store: store))))
        }
        router.get("/health") { request, _ in
            try wire.reply(["status": "ok", "replica": store.district.rawValue, "schema": String(store.schemaVersion),
                            "protocol": String(WireVersion.protocolVersion),
                            "time": String(Int64(Date().timeIntervalSince1970 * 1000))], to: request)
        }
        router.post("/v1/push") { request, _ in
            try await wire.handle(request) { request, caller in
                let body = try await wire.decode(PushRequest.self, from: &request)
                var changes: [Change] = []
                for group in body.changes {
                    guard let decoded = group.changes() else {
                        throw HubError.badRequest("a change group has a malformed origin or context: \(group.o) / \(group.x)")
                    }
                    changes += decoded
                }
                let response = try await store.push(changes, from: caller)
                metrics.pushed(replica: caller.replica.rawValue, applied: response.applied, duplicates: response.duplicates)
                logger.info("push", metadata: ["replica": "\(caller.replica)", "changes": "\(changes.count)",
                                               "applied": "\(response.applied)", "refused": "\(response.refused.count)",
                                               "acknowledged": "\(response.acknowledged)"])
                return response
            }
        }
        router.get("/v1/pull") { request, _ in
            try await wire.handle(request) { request, caller in
                let after = try wire.integer("after", in: request) ?? 0
                let limit = min(try wire.integer("limit", in: request).map(Int.init) ?? limits.maxBatch, limits.maxBatch)
                let rules = try wire.integer("rules", in: request).map(Int.init)
                return try await store.pull(for: caller, after: after, limit: max(limit, 1), rulesVersion: rules)
            }
        }
        router.get("/v1/snapshot") { request, _ in
            try await wire.handle(request) { request, caller in
                let limit = min(try wire.integer("limit", in: request).map(Int.init) ?? 500, limits.maxBatch)
                return try await store.snapshot(
                    for: caller, cursor: request.uri.queryParameters["cursor"].map(String.init),
                    checkpoint: try wire.integer("checkpoint", in: request), limit: max(limit, 1))
            }
        }
        router.get("/v1/own") { request, _ in
            try await wire.handle(request) { request, caller in
                let after = UInt64(try wire.integer("after", in: request) ?? 0)
                let limit = min(try wire.integer("limit", in: request).map(Int.init) ?? limits.maxBatch, limits.maxBatch)
                return try await store.ownChanges(for: caller, after: after, limit: max(limit, 1))
            }
        }
        router.get("/v1/digest") { request, _ in
            try await wire.handle(request) { _, caller in try await store.digest(for: caller) }
        }
        router.post("/v1/rows") { request, _ in
            try await wire.handle(request) { request, caller in
                let asked = try await wire.decode(RowsRequest.self, from: &request)
                guard (asked.ids?.count ?? 0) <= limits.maxBatch else {
                    throw HubError.badRequest("ask for at most \(limits.maxBatch) rows at a time")
                }
                return try await store.rows(asked, for: caller)
            }
        }
        router.get("/v1/conflicts") { request, _ in
            try await wire.handle(request, versioned: false) { request, caller in
                try await store.conflicts(state: request.uri.queryParameters["state"].map(String.init), for: caller)
            }
        }
        router.post("/v1/conflicts/resolve") { request, _ in
            try await wire.handle(request, versioned: false) { request, caller in
                let decision = try await wire.decode(ResolveRequest.self, from: &request)
                let response = try await store.resolve(decision, by: caller)
                logger.info("review", metadata: ["conflict": "\(decision.id)", "reviewer": "\(caller.replica)", "reason": "\(decision.reason)"])
                return response
            }
        }
        router.post("/v1/conflicts/revert") { request, _ in
            try await wire.handle(request, versioned: false) { request, caller in
                let revert = try await wire.decode(RevertRequest.self, from: &request)
                let response = try await store.revert(revert, by: caller)
                logger.info("review reverted", metadata: ["review": "\(revert.review)", "reviewer": "\(caller.replica)", "reason": "\(revert.reason)"])
                return response
            }
        }
        ReviewRoutes.add(to: router, store: store, sessions: ReviewSessions(lifetime: desk.sessionLifetime), options: desk, logger: logger)
        return router
    }
}

/// What every sync request goes through: credential, version handshake, body limits, gzip,
/// JSON, and refusals turned into clear error responses.
struct Wire: Sendable {
    let store: HubStore
    let limits: HubLimits
    let logger: Logger
    let metrics: HubMetrics

    func handle<Reply: Encodable>(
        _ request: Request, versioned: Bool = true, _ body: @Sendable (inout Request, Caller) async throws -> Reply
    ) async throws -> Response {
        var request = request
        let route = request.uri.path
        do {
            let caller = try await store.authenticate(request.headers[.authorization])
            metrics.seen(replica: caller.replica.rawValue)
            if versioned { try checkVersions(request) }
            let response = try reply(try await body(&request, caller), to: request)
            metrics.request(route: route, status: 200)
            return response
        } catch let refusal as HubError {
            logger.notice("refused", metadata: ["path": "\(route)", "status": "\(refusal.status)", "why": "\(refusal.message)"])
            metrics.request(route: route, status: refusal.status)
            return try reply(ErrorBody(error: refusal.code, message: refusal.message), to: request,
                             status: HTTPResponse.Status(code: refusal.status))
        }
    }

    private func checkVersions(_ request: Request) throws {
        let protocolVersion = request.headers[HTTPField.Name(WireVersion.protocolHeader)!].flatMap { Int($0) }
        let schemaVersion = request.headers[HTTPField.Name(WireVersion.schemaHeader)!].flatMap { Int($0) }
        guard protocolVersion == WireVersion.protocolVersion, schemaVersion == store.schemaVersion else {
            throw HubError.versionMismatch(
                "this hub speaks protocol \(WireVersion.protocolVersion) with register schema \(store.schemaVersion); "
                    + "the request says protocol \(protocolVersion.map(String.init) ?? "none"), schema \(schemaVersion.map(String.init) ?? "none"). "
                    + "Changes are held, not applied: upgrade the older side")
        }
    }

    func decode<Message: Decodable>(_ type: Message.Type, from request: inout Request) async throws -> Message {
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limits.maxBodyBytes)
        } catch {
            throw HubError.tooLarge("the request body is larger than \(limits.maxBodyBytes) bytes: send smaller batches ('batch_changes' in commune.toml)")
        }
        var bytes = Array(buffer.readableBytesView)
        if request.headers[.contentEncoding]?.lowercased() == "gzip" {
            do {
                bytes = try Gzip.decompress(bytes, limit: limits.maxExpandedBytes)
            } catch let failure as Gzip.Failure {
                if case .tooLarge = failure { throw HubError.tooLarge("the request body \(failure)") }
                throw HubError.badRequest("the request body \(failure)")
            }
        }
        do {
            return try JSONDecoder().decode(Message.self, from: Data(bytes))
        } catch {
            throw HubError.badRequest("the request body is not a valid \(Message.self): \(error)")
        }
    }

    func integer(_ name: String, in request: Request) throws -> Int64? {
        guard let text = request.uri.queryParameters[Substring(name)] else { return nil }
        guard let value = Int64(text), value >= 0 else { throw HubError.badRequest("query parameter '\(name)' must be a whole number ≥ 0, not '\(text)'") }
        return value
    }

    func reply<Reply: Encodable>(_ value: Reply, to request: Request, status: HTTPResponse.Status = .ok) throws -> Response {
        var bytes = Array(try JSONEncoder().encode(value))
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[HTTPField.Name(WireVersion.protocolHeader)!] = String(WireVersion.protocolVersion)
        headers[HTTPField.Name(WireVersion.schemaHeader)!] = String(store.schemaVersion)
        headers[HTTPField.Name("X-CommuneSync-Hub")!] = store.district.rawValue
        if request.headers[.acceptEncoding]?.contains("gzip") == true {
            bytes = Gzip.compress(bytes)
            headers[.contentEncoding] = "gzip"
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
