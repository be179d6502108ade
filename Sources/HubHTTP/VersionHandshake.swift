import HubCore
import HTTPTypes
import Hummingbird
import SyncProtocol

/// The version handshake of the sync routes: a request names the protocol and register
/// schema it speaks, and one that names others is refused before anything is read or applied.
struct VersionHandshake<Context: RequestContext>: RouterMiddleware {
    let schemaVersion: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // No version, or not a number, is a malformed request (400); another version is the
        // handshake's refusal (409), which tells the replica to hold its changes.
        func version(_ header: String) throws -> Int {
            guard let text = request.headers[HTTPField.Name(header)!] else {
                throw HubError.badRequest(
                    "the request has no \(header) header: every sync request names its versions (this hub speaks protocol "
                        + "\(WireVersion.protocolVersion) with register schema \(schemaVersion))")
            }
            guard let number = Int(text) else { throw HubError.badRequest("the \(header) header must be a whole number, not '\(text)'") }
            return number
        }
        let protocolVersion = try version(WireVersion.protocolHeader)
        let requestSchema = try version(WireVersion.schemaHeader)
        guard protocolVersion == WireVersion.protocolVersion, requestSchema == schemaVersion else {
            throw HubError.versionMismatch(
                "this hub speaks protocol \(WireVersion.protocolVersion) with register schema \(schemaVersion); "
                    + "the request says protocol \(protocolVersion), schema \(requestSchema). "
                    + "Changes are held, not applied: upgrade the older side")
        }
        return try await next(request, context)
    }
}
