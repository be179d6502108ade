import HubCore
import Hummingbird
import NIOConcurrencyHelpers
import SyncCore

/// How many requests of each credential are being handled: one office cannot take every
/// request slot (and the store's turns) from the others. One gate serves every group of
/// authenticated routes, so the limit counts all of a caller's requests together.
///
/// A request whose client is gone (a syncd killed, or cut off, while the hub still works on
/// its push) no longer counts once its connection is seen closed (`ClientConnection`): it
/// runs to its end, but the office's next syncd is not refused because of it.
final class CallerGate: RouterMiddleware, Sendable {
    typealias Context = CallerContext
    let limit: Int
    /// Per caller, its requests in progress by ticket, with their connection and whether they count.
    private let requests = NIOLockedValueBox<[ReplicaID: [Int: (connection: ClientConnection, counts: Bool)]]>([:])
    private let tickets = NIOLockedValueBox(0)

    init(limit: Int) { self.limit = limit }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let ticket = try await enter(context.caller, on: context.connection)
        defer { leave(context.caller, ticket) }
        return try await next(request, context)
    }

    private func enter(_ caller: Caller, on connection: ClientConnection) async throws -> Int {
        let ticket = tickets.withLockedValue { next in
            next += 1
            return next
        }
        if admit(caller, ticket, connection) { return ticket }
        // At the limit: those of its requests whose client has gone stop counting.
        let running = requests.withLockedValue { $0[caller.replica] ?? [:] }.filter(\.value.counts)
        var gone: [Int] = []
        for (other, request) in running where await !request.connection.isOpen() { gone.append(other) }
        if !gone.isEmpty {
            requests.withLockedValue { requests in
                for other in gone { requests[caller.replica]?[other]?.counts = false }
            }
        }
        if admit(caller, ticket, connection) { return ticket }
        throw HubError(
            status: 429, code: "too_many_requests",
            message: "\(caller.replica) has \(limit) requests in progress at this hub, as many as one credential may have at once: "
                + "if no other syncd runs with this credential, they are finishing: retry shortly (syncd does by itself). "
                + "Two syncd running with one credential would also do this: then stop the other one")
    }

    /// Takes a place for `ticket` if the caller's counted requests are below the limit.
    private func admit(_ caller: Caller, _ ticket: Int, _ connection: ClientConnection) -> Bool {
        requests.withLockedValue { requests in
            guard (requests[caller.replica] ?? [:]).values.filter(\.counts).count < limit else { return false }
            requests[caller.replica, default: [:]][ticket] = (connection, true)
            return true
        }
    }

    private func leave(_ caller: Caller, _ ticket: Int) {
        requests.withLockedValue { requests in
            requests[caller.replica]?[ticket] = nil
            if requests[caller.replica]?.isEmpty == true { requests[caller.replica] = nil }
        }
    }
}
