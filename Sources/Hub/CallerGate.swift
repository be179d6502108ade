import Hummingbird
import NIOConcurrencyHelpers
import SyncCore

/// How many requests of each credential are being handled: one office cannot take every
/// request slot (and the store's turns) from the others. One gate serves every group of
/// authenticated routes, so the limit counts all of a caller's requests together.
final class CallerGate: RouterMiddleware, Sendable {
    typealias Context = CallerContext
    let limit: Int
    private let counts = NIOLockedValueBox<[ReplicaID: Int]>([:])

    init(limit: Int) { self.limit = limit }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try enter(context.caller)
        defer { leave(context.caller) }
        return try await next(request, context)
    }

    private func enter(_ caller: Caller) throws {
        try counts.withLockedValue { counts in
            guard counts[caller.replica, default: 0] < limit else {
                throw HubError(status: 429, code: "too_many_requests",
                               message: "\(caller.replica) already has \(limit) requests in progress at this hub: wait for them to "
                                   + "finish (two syncd running with one credential would do this: stop the other one)")
            }
            counts[caller.replica, default: 0] += 1
        }
    }

    private func leave(_ caller: Caller) {
        counts.withLockedValue { counts in
            counts[caller.replica, default: 1] -= 1
            if counts[caller.replica] == 0 { counts[caller.replica] = nil }
        }
    }
}
