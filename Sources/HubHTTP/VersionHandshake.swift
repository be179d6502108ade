import HubCore
import HTTPTypes
import Hummingbird
import SyncProtocol

/// The version handshake of the sync routes: a request names the protocol and register
/// schema it speaks. The protocol must be this hub's. The schema may be this hub's or an
/// earlier one down to `oldestOfficeSchema` (an office not upgraded yet: it is served the
/// register as the hub keeps it and keeps what it cannot show yet); a later schema, or one
/// the district no longer serves, is refused before anything is read or applied.
struct VersionHandshake<Context: RequestContext>: RouterMiddleware {
    let schemaVersion: Int
    let oldestOfficeSchema: Int

    init(schemaVersion: Int, oldestOfficeSchema: Int = 1) {
        self.schemaVersion = schemaVersion
        self.oldestOfficeSchema = min(oldestOfficeSchema, schemaVersion)
    }

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
        guard protocolVersion == WireVersion.protocolVersion else {
            throw HubError.versionMismatch(
                "this hub speaks protocol \(WireVersion.protocolVersion); the request says protocol \(protocolVersion). "
                    + "Changes are held, not applied: upgrade the older side")
        }
        if requestSchema > schemaVersion {
            throw HubError.versionMismatch(
                "this hub keeps register schema \(schemaVersion); the request says schema \(requestSchema), a later release's. "
                    + "Changes are held, not applied: upgrade the hub")
        }
        if requestSchema < oldestOfficeSchema {
            throw HubError.versionMismatch(
                "this hub keeps register schema \(schemaVersion) and serves offices of schema \(oldestOfficeSchema) or later "
                    + "(oldest_office_schema); the request says schema \(requestSchema). Changes are held, not applied: upgrade syncd at the office")
        }
        return try await next(request, context)
    }
}
