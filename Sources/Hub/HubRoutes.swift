import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import SyncConfig
import SyncCore
import SyncProtocol

/// One route the hub serves. The list is what `openapi.yaml` must describe (a test checks).
public struct HubRoute: Sendable {
    public let method: String
    public let path: String
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
        let wire = Wire(store: store, limits: limits, logger: logger, metrics: metrics, gate: CallerGate(limit: limits.maxRequestsPerCaller))
        // First, so that it sees every request, matched or not.
        router.add(middleware: MethodCheck(wire: wire))
        // Before the routes: a middleware wraps only the routes added after it.
        router.add(middleware: RequestLimit(limit: limits.maxConcurrentRequests, wait: limits.requestTimeoutSeconds / 2))
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
            try await wire.handle(request, route: "/v1/push") { request, caller in
                let body = try await wire.decode(PushRequest.self, from: &request)
                let batch = try IncomingPush(body, from: caller, limits: limits, now: Date())
                // Run by run, each its own transaction: other offices' requests go in between.
                var response: PushResponse?
                for chunk in batch.chunks(of: limits.applyChunkChanges) {
                    let part = try await store.push(chunk.changes, refused: chunk.refused, from: caller)
                    response = response.map { whole in
                        PushResponse(acknowledged: part.acknowledged, applied: whole.applied + part.applied,
                                     duplicates: whole.duplicates + part.duplicates, refused: whole.refused + part.refused,
                                     heldBefore: whole.heldBefore)
                    } ?? part
                }
                let changes = batch.changes
                guard let response else { throw HubError.badRequest("the batch holds no changes") }
                metrics.pushed(replica: caller.replica.rawValue, applied: response.applied, duplicates: response.duplicates)
                logger.info("push", metadata: ["replica": "\(caller.replica)", "changes": "\(changes.count)",
                                               "applied": "\(response.applied)", "refused": "\(response.refused.count)",
                                               "acknowledged": "\(response.acknowledged)"])
                return response
            }
        }
        router.get("/v1/pull") { request, _ in
            try await wire.handle(request, route: "/v1/pull") { request, caller in
                let after = try wire.integer("after", in: request) ?? 0
                let limit = min(try wire.integer("limit", in: request, minimum: 1).map(Int.init) ?? limits.maxBatch, limits.maxBatch)
                let rules = try wire.integer("rules", in: request).map(Int.init)
                return try await store.pull(for: caller, after: after, limit: max(limit, 1), rulesVersion: rules)
            }
        }
        router.get("/v1/snapshot") { request, _ in
            try await wire.handle(request, route: "/v1/snapshot") { request, caller in
                let limit = min(try wire.integer("limit", in: request, minimum: 1).map(Int.init) ?? 500, limits.maxBatch)
                return try await store.snapshot(
                    for: caller, cursor: request.uri.queryParameters["cursor"].map(String.init),
                    checkpoint: try wire.integer("checkpoint", in: request), limit: max(limit, 1))
            }
        }
        router.get("/v1/own") { request, _ in
            try await wire.handle(request, route: "/v1/own") { request, caller in
                let after = UInt64(try wire.integer("after", in: request) ?? 0)
                let limit = min(try wire.integer("limit", in: request, minimum: 1).map(Int.init) ?? limits.maxBatch, limits.maxBatch)
                return try await store.ownChanges(for: caller, after: after, limit: max(limit, 1))
            }
        }
        router.get("/v1/digest") { request, _ in
            try await wire.handle(request, route: "/v1/digest") { _, caller in try await store.digest(for: caller) }
        }
        router.post("/v1/rows") { request, _ in
            try await wire.handle(request, route: "/v1/rows") { request, caller in
                let asked = try await wire.decode(RowsRequest.self, from: &request)
                guard (asked.ids?.count ?? 0) <= limits.maxBatch else {
                    throw HubError.badRequest("ask for at most \(limits.maxBatch) rows at a time")
                }
                return try await store.rows(asked, for: caller)
            }
        }
        router.get("/v1/conflicts") { request, _ in
            try await wire.handle(request, route: "/v1/conflicts", versioned: false) { request, caller in
                try await store.conflicts(state: request.uri.queryParameters["state"].map(String.init), for: caller)
            }
        }
        router.post("/v1/conflicts/resolve") { request, _ in
            try await wire.handle(request, route: "/v1/conflicts/resolve", versioned: false) { request, caller in
                let decision = try await wire.decode(ResolveRequest.self, from: &request)
                let response = try await store.resolve(decision, by: caller)
                logger.info("review", metadata: ["conflict": "\(decision.id)", "reviewer": "\(caller.replica)", "reason": "\(decision.reason)"])
                return response
            }
        }
        router.post("/v1/conflicts/revert") { request, _ in
            try await wire.handle(request, route: "/v1/conflicts/revert", versioned: false) { request, caller in
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

/// How many requests of each credential are being handled: one office cannot take every
/// request slot (and the store's turns) from the others.
final class CallerGate: Sendable {
    let limit: Int
    private let counts = NIOLockedValueBox<[ReplicaID: Int]>([:])

    init(limit: Int) { self.limit = limit }

    func enter(_ caller: Caller) throws {
        try counts.withLockedValue { counts in
            guard counts[caller.replica, default: 0] < limit else {
                throw HubError(status: 429, code: "too_many_requests",
                               message: "\(caller.replica) already has \(limit) requests in progress at this hub: wait for them to "
                                   + "finish (two syncd running with one credential would do this: stop the other one)")
            }
            counts[caller.replica, default: 0] += 1
        }
    }

    func leave(_ caller: Caller) {
        counts.withLockedValue { counts in
            counts[caller.replica, default: 1] -= 1
            if counts[caller.replica] == 0 { counts[caller.replica] = nil }
        }
    }
}

/// What every sync request goes through: credential, version handshake, body limits, gzip,
/// JSON, and refusals turned into clear error responses.
struct Wire: Sendable {
    let store: HubStore
    let limits: HubLimits
    let logger: Logger
    let metrics: HubMetrics
    let gate: CallerGate

    func handle<Reply: Encodable>(
        _ request: Request, route: String, versioned: Bool = true, _ body: @Sendable (inout Request, Caller) async throws -> Reply
    ) async throws -> Response {
        var request = request
        do {
            let caller = try await store.authenticate(request.headers[.authorization])
            metrics.seen(replica: caller.replica.rawValue)
            if versioned { try checkVersions(request) }
            try gate.enter(caller)
            defer { gate.leave(caller) }
            let response = try reply(try await body(&request, caller), to: request)
            metrics.request(route: route, status: 200)
            return response
        } catch let refusal as HubError {
            logger.notice("refused", metadata: ["route": "\(route)", "status": "\(refusal.status)", "why": "\(refusal.message)"])
            metrics.request(route: route, status: refusal.status)
            return try reply(ErrorBody(error: refusal.code, message: refusal.message), to: request,
                             status: HTTPResponse.Status(code: refusal.status))
        }
    }

    private func checkVersions(_ request: Request) throws {
        // No version, or not a number, is a malformed request (400); another version is the
        // handshake's refusal (409), which tells the replica to hold its changes.
        func version(_ header: String) throws -> Int {
            guard let text = request.headers[HTTPField.Name(header)!] else {
                throw HubError.badRequest(
                    "the request has no \(header) header: every sync request names its versions (this hub speaks protocol "
                        + "\(WireVersion.protocolVersion) with register schema \(store.schemaVersion))")
            }
            guard let number = Int(text) else { throw HubError.badRequest("the \(header) header must be a whole number, not '\(text)'") }
            return number
        }
        let protocolVersion = try version(WireVersion.protocolHeader)
        let schemaVersion = try version(WireVersion.schemaHeader)
        guard protocolVersion == WireVersion.protocolVersion, schemaVersion == store.schemaVersion else {
            throw HubError.versionMismatch(
                "this hub speaks protocol \(WireVersion.protocolVersion) with register schema \(store.schemaVersion); "
                    + "the request says protocol \(protocolVersion), schema \(schemaVersion). "
                    + "Changes are held, not applied: upgrade the older side")
        }
    }

    /// The request body as sent, refused with 413 above `maxBodyBytes` and with 408 when it
    /// takes longer than `requestTimeoutSeconds` to arrive.
    func body(of request: inout Request) async throws -> [UInt8] {
        Array(try await Self.collect(&request, limits: limits).readableBytesView)
    }

    func decode<Message: Decodable>(_ type: Message.Type, from request: inout Request) async throws -> Message {
        let bytes = try await body(of: &request)
        do throws(WireBody.Failure) {
            return try WireBody.decode(Message.self, from: bytes, contentEncoding: request.headers[.contentEncoding],
                                       maxExpandedBytes: limits.maxExpandedBytes)
        } catch {
            throw HubError(refusing: error)
        }
    }

    /// The whole body, within the size limit and the time allowed: a sender that trickles
    /// its body cannot hold a connection and a request slot for long.
    static func collect(_ request: inout Request, limits: HubLimits) async throws -> ByteBuffer {
        let body = request.body
        let timeout = limits.requestTimeoutSeconds
        let collected = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                do {
                    return try await body.collect(upTo: limits.maxBodyBytes)
                } catch is CancellationError {
                    return nil
                } catch {
                    throw HubError.tooLarge(
                        "the request body is larger than \(limits.maxBodyBytes) bytes: send smaller batches ('batch_changes' in commune.toml)")
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let collected else {
            throw HubError(status: 408, code: "request_timeout",
                           message: "the request body did not arrive within \(Int(timeout)) s: the link is too slow for this batch; "
                               + "syncd retries, and a smaller 'batch_changes' in commune.toml helps")
        }
        request.body = .init(buffer: collected)
        return collected
    }

    /// A whole-number query parameter, nil when absent; anything else than a number from
    /// `minimum` to 2^63 - 1 is refused with 400.
    func integer(_ name: String, in request: Request, minimum: Int64 = 0) throws -> Int64? {
        guard let text = request.uri.queryParameters[Substring(name)] else { return nil }
        guard let value = Int64(text), value >= minimum else {
            throw HubError.badRequest("query parameter '\(name)' must be a whole number from \(minimum) to \(Int64.max), not '\(text)'")
        }
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

/// Any other method on a path the hub serves is answered 405 with `Allow` naming the methods
/// served there (the router alone would say 404, as if the path did not exist).
struct MethodCheck: RouterMiddleware {
    typealias Context = BasicRequestContext
    let wire: Wire
    static let allowed: [String: [String]] = Dictionary(grouping: HubAPI.routes, by: \.path).mapValues { $0.map(\.method).sorted() }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let allowed = Self.allowed[request.uri.path], !allowed.contains(request.method.rawValue) else {
            return try await next(request, context)
        }
        let path = request.uri.path
        var response = try wire.reply(
            ErrorBody(error: "method_not_allowed", message: "\(path) answers \(allowed.joined(separator: " and ")), not \(request.method)"),
            to: request, status: .methodNotAllowed)
        response.headers[.allow] = allowed.joined(separator: ", ")
        return response
    }
}
