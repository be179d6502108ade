import HubCore
import Hummingbird
import Logging
import SyncProtocol

/// The review API: conflicts listed, decided and reverted by district reviewers (`syncctl
/// review`). Added behind `Authentication` and the caller gate but not the version handshake:
/// `GET /v1/conflicts` is a stable interface that scripts call with a credential alone
/// (DESIGN §7). The store refuses every caller that is not a reviewer.
struct ConflictRoutes {
    static let routes = [
        HubRoute(method: "GET", path: "/v1/conflicts"),
        HubRoute(method: "POST", path: "/v1/conflicts/resolve"),
        HubRoute(method: "POST", path: "/v1/conflicts/revert"),
        HubRoute(method: "GET", path: "/v1/reviews"),
    ]

    let store: HubStore
    let wire: Wire
    let logger: Logger

    func add(to group: RouterGroup<CallerContext>) {
        group.get("/v1/conflicts", use: list)
        group.post("/v1/conflicts/resolve", use: resolve)
        group.post("/v1/conflicts/revert", use: revert)
        group.get("/v1/reviews", use: decisions)
    }

    /// The district's decisions, newest first, a page at a time (`before`, `limit`).
    @Sendable func decisions(_ request: Request, context: CallerContext) async throws -> Response {
        let query = request.uri.queryParameters
        func number(_ name: Substring) throws -> Int64? {
            try query[name].map { text in
                guard let number = Int64(String(text)) else { throw HubError.badRequest("\(name) must be a whole number, not '\(text)'") }
                return number
            }
        }
        return try wire.reply(
            try await store.decisions(before: try number("before"), limit: try number("limit").map { Int(clamping: $0) }, for: context.caller),
            to: request)
    }

    @Sendable func list(_ request: Request, context: CallerContext) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = try query["limit"].map { text in
            guard let limit = Int(String(text)) else { throw HubError.badRequest("limit must be a whole number, not '\(text)'") }
            return limit
        }
        return try wire.reply(
            try await store.conflicts(state: query["state"].map(String.init), after: query["after"].map(String.init), limit: limit,
                                      for: context.caller),
            to: request)
    }

    @Sendable func resolve(_ request: Request, context: CallerContext) async throws -> Response {
        var request = request
        let decision = try await wire.decode(ResolveRequest.self, from: &request)
        let response = try await store.resolve(decision, by: context.caller)
        logger.info("review", metadata: ["conflict": "\(decision.id)", "reviewer": "\(context.caller.replica)", "reason": "\(decision.reason)"])
        return try wire.reply(response, to: request)
    }

    @Sendable func revert(_ request: Request, context: CallerContext) async throws -> Response {
        var request = request
        let revert = try await wire.decode(RevertRequest.self, from: &request)
        let response = try await store.revert(revert, by: context.caller)
        logger.info("review reverted", metadata: ["review": "\(revert.review)", "reviewer": "\(context.caller.replica)", "reason": "\(revert.reason)"])
        return try wire.reply(response, to: request)
    }
}
