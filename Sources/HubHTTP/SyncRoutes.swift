import HubCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SyncConfig
import SyncCore
import SyncProtocol

/// The sync routes a commune office's syncd calls: push its changes, pull the feed of its
/// scope, bootstrap from a snapshot, and compare with the hub (digest, rows, own changes).
/// They are added behind `Authentication`, the version handshake and the caller gate, so
/// each handler starts from a checked caller.
struct SyncRoutes {
    static let routes = [
        HubRoute(method: "POST", path: "/v1/push"),
        HubRoute(method: "GET", path: "/v1/pull"),
        HubRoute(method: "GET", path: "/v1/snapshot"),
        HubRoute(method: "GET", path: "/v1/own"),
        HubRoute(method: "GET", path: "/v1/digest"),
        HubRoute(method: "POST", path: "/v1/rows"),
        HubRoute(method: "GET", path: "/v1/recover"),
        HubRoute(method: "POST", path: "/v1/recover"),
    ]

    let store: HubStore
    let wire: Wire
    let metrics: HubMetrics
    let logger: Logger
    var limits: HubLimits { wire.limits }

    func add(to group: RouterGroup<CallerContext>) {
        group.post("/v1/push", use: push)
        group.get("/v1/pull", use: pull)
        group.get("/v1/snapshot", use: snapshot)
        group.get("/v1/own", use: ownChanges)
        group.get("/v1/digest", use: digest)
        group.post("/v1/rows", use: rows)
        group.get("/v1/recover", use: recoveryStatus)
        group.post("/v1/recover", use: recover)
    }

    @Sendable func push(_ request: Request, context: CallerContext) async throws -> Response {
        var request = request
        let caller = context.caller
        let body = try await wire.decode(PushRequest.self, from: &request)
        let batch = try IncomingPush(body, from: caller, limits: limits, now: Date())
        // Run by run, each its own transaction: other offices' requests go in between.
        var response: PushResponse?
        for chunk in batch.chunks(of: limits.applyChunkChanges) {
            let part = try await store.push(chunk.changes, refused: chunk.refused, after: body.after, from: caller)
            response = response.map { whole in
                PushResponse(acknowledged: part.acknowledged, applied: whole.applied + part.applied,
                             duplicates: whole.duplicates + part.duplicates, refused: whole.refused + part.refused,
                             heldBefore: whole.heldBefore)
            } ?? part
        }
        guard let response else { throw HubError.badRequest("the batch holds no changes") }
        metrics.pushed(replica: caller.replica.rawValue, applied: response.applied, duplicates: response.duplicates,
                       refused: response.refused.count)
        logger.info("push", metadata: ["replica": "\(caller.replica)", "changes": "\(batch.changes.count)",
                                       "applied": "\(response.applied)", "refused": "\(response.refused.count)",
                                       "acknowledged": "\(response.acknowledged)"])
        return try wire.reply(response, to: request)
    }

    @Sendable func pull(_ request: Request, context: CallerContext) async throws -> Response {
        let after = try wire.integer("after", in: request) ?? 0
        let limit = try wire.pageSize(in: request, whenAbsent: limits.maxBatch)
        let rules = try wire.integer("rules", in: request).map(Int.init)
        let decided = try wire.integer("decided", in: request)
        var response = try await store.pull(for: context.caller, after: after, limit: limit, rulesVersion: rules, decided: decided)
        response.officeLogDays = limits.officeLogDays
        let numbered = try wire.integer("numbered", in: request).map { UInt64(max(0, $0)) }
        await store.noteOffice(context.caller, header: request.headers[HTTPField.Name(OfficeFacts.header)!], pulledThrough: after,
                               numbered: numbered)
        return try wire.reply(response, to: request)
    }

    @Sendable func snapshot(_ request: Request, context: CallerContext) async throws -> Response {
        let limit = try wire.pageSize(in: request, whenAbsent: 500)
        let page = try await store.snapshot(
            for: context.caller, cursor: request.uri.queryParameters["cursor"].map(String.init),
            checkpoint: try wire.integer("checkpoint", in: request), limit: limit)
        return try wire.reply(page, to: request)
    }

    @Sendable func ownChanges(_ request: Request, context: CallerContext) async throws -> Response {
        let after = UInt64(try wire.integer("after", in: request) ?? 0)
        let limit = try wire.pageSize(in: request, whenAbsent: limits.maxBatch)
        return try wire.reply(try await store.ownChanges(for: context.caller, after: after, limit: limit), to: request)
    }

    @Sendable func digest(_ request: Request, context: CallerContext) async throws -> Response {
        try wire.reply(try await store.digest(for: context.caller), to: request)
    }

    @Sendable func recoveryStatus(_ request: Request, context: CallerContext) async throws -> Response {
        let since = UInt64(max(0, try wire.integer("since", in: request) ?? 0))
        return try wire.reply(try await store.recoveryStatus(for: context.caller, since: since), to: request)
    }

    @Sendable func recover(_ request: Request, context: CallerContext) async throws -> Response {
        var request = request
        let body = try await wire.decode(RecoverRequest.self, from: &request)
        var changes: [Change] = []
        for group in body.changes {
            guard let decoded = group.changes() else { throw HubError.badRequest("a change group given back is malformed") }
            changes += decoded
        }
        guard changes.count <= limits.maxBatch else { throw HubError.badRequest("give back at most \(limits.maxBatch) changes at a time") }
        let response = try await store.recover(changes, seals: body.seals, from: context.caller)
        if response.taken > 0 || !response.refused.isEmpty {
            logger.info("district changes given back", metadata: [
                "replica": "\(context.caller.replica)", "taken": "\(response.taken)", "refused": "\(response.refused.count)"])
        }
        return try wire.reply(response, to: request)
    }

    @Sendable func rows(_ request: Request, context: CallerContext) async throws -> Response {
        var request = request
        let asked = try await wire.decode(RowsRequest.self, from: &request)
        guard (asked.ids?.count ?? 0) <= limits.maxBatch else {
            throw HubError.badRequest("ask for at most \(limits.maxBatch) rows at a time")
        }
        return try wire.reply(try await store.rows(asked, for: context.caller), to: request)
    }
}
