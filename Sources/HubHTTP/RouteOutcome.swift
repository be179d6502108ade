import HubCore
import HTTPTypes
import Hummingbird
import Logging
import SyncProtocol

/// How every answer of the API's routes ends: counted in `/metrics` by route and status and
/// timed by route (until the response is handed over, not until its body is written), and a
/// refusal (`HubError`) thrown anywhere below turned into its JSON error body and logged.
/// Placed first on a group, it sees the refusals of the group's other middleware too.
struct RouteOutcome<Context: RequestContext>: RouterMiddleware {
    let wire: Wire
    let metrics: HubMetrics
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The path the route was added with, which the router sets before any middleware runs.
        let route = context.endpointPath ?? request.uri.path
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let response = try await next(request, context)
            metrics.request(route: route, status: Int(response.status.code), took: clock.now - start)
            return response
        } catch let refusal as HubError {
            logger.notice("refused", metadata: ["route": "\(route)", "status": "\(refusal.status)", "why": "\(refusal.message)"])
            metrics.request(route: route, status: refusal.status, took: clock.now - start)
            return try wire.reply(ErrorBody(error: refusal.code, message: refusal.message), to: request,
                                  status: HTTPResponse.Status(code: refusal.status))
        }
    }
}
