import HubCore
import Hummingbird
import SyncProtocol

/// Any other method on a path the hub serves is answered 405 with `Allow` naming the methods
/// served there (the router alone would say 404, as if the path did not exist).
struct MethodCheck: RouterMiddleware {
    typealias Context = HubRequestContext
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
