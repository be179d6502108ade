import HubCore
import Hummingbird

/// What the hub knows about a request while answering it: Hummingbird's own context and,
/// on the routes that need a credential, who is calling.
public struct HubRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `Authentication` on the routes behind it; nil before it runs and elsewhere.
    public var caller: Caller?
    /// The IP address the request came from (the review desk throttles logins by it).
    public let peer: String
    /// The connection the request came on: `ConnectionTable` trusts it once a credential checks
    /// out, and `CallerGate` asks whether its client is still there.
    let connection: ClientConnection

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress ?? "unknown"
        connection = ClientConnection(channel: source.channel)
    }
}

/// The context of a route that needs a credential. It is made from the hub's context after
/// `Authentication` has run, so its `caller` is always there: no handler checks a credential.
struct CallerContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let caller: Caller
    let connection: ClientConnection

    init(context: HubRequestContext) throws {
        // Only a route added to a group without `Authentication` in front would get here.
        guard let caller = context.caller else {
            throw HubError.unauthorized("this route needs a credential and none was checked: report this to the hub's developers")
        }
        coreContext = context.coreContext
        self.caller = caller
        connection = context.connection
    }
}

/// Checks the credential in `Authorization` and puts its caller in the context. A request
/// without a valid one goes no further: 401, with what to do in the body (`RouteOutcome`).
struct Authentication: RouterMiddleware {
    typealias Context = HubRequestContext
    let store: HubStore
    let metrics: HubMetrics
    /// The hub's connections, when it serves any (not in tests of the router alone).
    var connections: ConnectionTable? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let caller = try await store.authenticate(request.headers[.authorization])
        // A connection that carried a valid credential keeps its place when connections run out.
        connections?.trust(ObjectIdentifier(context.connection.channel))
        metrics.seen(caller)
        context.caller = caller
        return try await next(request, context)
    }
}
