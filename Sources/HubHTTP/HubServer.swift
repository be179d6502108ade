import HubCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import SyncConfig
import SyncCore

/// The hub as a runnable service: the API on an address, over HTTPS when given `tls` (plain
/// HTTP otherwise), plus folding district edits into the feed every few seconds.
public enum HubServer {
    public static func application(
        store: HubStore, host: String, port: Int, limits: HubLimits = HubLimits(), tls: HubTLS? = nil, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let connections = ConnectionTable(limits: limits, logger: logger)
        let router = HubAPI.router(
            store: store, limits: limits, logger: logger, desk: ReviewRoutes.Options(secureCookies: tls != nil), connections: connections)
        let headTimeout = TimeAmount.milliseconds(Int64(limits.headTimeoutSeconds * 1000))
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [HeadDeadline(table: connections, timeout: headTimeout)],
            idleTimeout: .milliseconds(Int64(limits.idleTimeoutSeconds * 1000)),
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes, maxHeaderFieldCount: 100))
        var app = Application(
            router: router, server: try tls.map { try .tls(.http1(configuration: http1), tlsConfiguration: $0.configuration) } ?? .http1(configuration: http1),
            configuration: .init(address: .hostname(host, port: port), serverName: "synchub"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
        app.addServices(DistrictEditFeed(store: store, logger: logger))
        return app
    }
}

/// Folds what district staff wrote into the feed every few seconds, for as long as the hub
/// runs: a service of the application, so it ends with it (a request folds them too).
struct DistrictEditFeed: Service {
    let store: HubStore
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let added = try await store.ingestLocalEdits()
                if added > 0 { logger.info("district edits added to the feed", metadata: ["changes": "\(added)"]) }
            } catch {
                logger.error("folding district edits failed: \(error)")
            }
            try? await pause()
        }
    }

    /// Waits two seconds, or less when the hub is stopping.
    private func pause() async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(2)) }
    }
}

/// Requests handled at once, over every caller: beyond the limit a request waits for a
/// place (its body unread, first come first served), and after `wait` seconds gets 503 and
/// is retried later (syncd backs off), rather than queueing without end. `/health` and
/// `/metrics` are always answered, so an overloaded hub can still be seen to be one.
struct RequestLimit<Context: RequestContext>: RouterMiddleware {
    let slots: RequestSlots
    let wait: Double

    init(limit: Int, wait: Double) {
        slots = RequestSlots(limit: limit)
        self.wait = wait
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" || request.uri.path == "/metrics" { return try await next(request, context) }
        guard await slots.acquire(waitingAtMost: wait) else {
            let body = #"{"error":"busy","message":"the hub is handling \#(slots.limit) requests already: try again in a few seconds (syncd does by itself)"}"#
            return Response(status: .serviceUnavailable, headers: [.contentType: "application/json", .retryAfter: "2"],
                            body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        do {
            let response = try await next(request, context)
            await slots.release()
            return response
        } catch {
            await slots.release()
            throw error
        }
    }
}

/// A counting semaphore for requests: a place is handed to the longest waiter when one
/// comes free, and a waiter gives up after its time.
actor RequestSlots {
    nonisolated let limit: Int
    private var inUse = 0
    private var waiting: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextWaiter = 0

    init(limit: Int) { self.limit = limit }

    /// True once a place is taken; false when none came free within `seconds`.
    func acquire(waitingAtMost seconds: Double) async -> Bool {
        if inUse < limit {
            inUse += 1
            return true
        }
        let id = nextWaiter
        nextWaiter += 1
        return await withCheckedContinuation { continuation in
            waiting.append((id, continuation))
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                self.giveUp(id)
            }
        }
    }

    func release() {
        if waiting.isEmpty {
            inUse -= 1
        } else {
            // The place passes straight to the longest waiter.
            waiting.removeFirst().continuation.resume(returning: true)
        }
    }

    private func giveUp(_ id: Int) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: index).continuation.resume(returning: false)
    }
}
