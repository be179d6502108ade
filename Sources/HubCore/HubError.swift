import SyncProtocol

/// A refusal by the hub: the HTTP status, a stable code for programs and a sentence that says
/// what failed and what to do. A refused request changes nothing.
public struct HubError: Error, CustomStringConvertible, Equatable {
    public let status: Int
    public let code: String
    public let message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status) \(code): \(message)" }

    package static func badRequest(_ message: String) -> HubError { HubError(status: 400, code: "bad_request", message: message) }
    package static func unauthorized(_ message: String) -> HubError { HubError(status: 401, code: "unauthorized", message: message) }
    static func forbidden(_ message: String) -> HubError { HubError(status: 403, code: "forbidden", message: message) }
    package static func tooLarge(_ message: String) -> HubError { HubError(status: 413, code: "too_large", message: message) }
    package static func versionMismatch(_ message: String) -> HubError { HubError(status: 409, code: "version_mismatch", message: message) }

    /// A body the wire layer would not accept: 413 when it expands past the limit, else 400.
    package init(refusing failure: WireBody.Failure) {
        switch failure {
        case .tooLarge(let why): self = .tooLarge(why)
        case .malformed(let why): self = .badRequest(why)
        }
    }
}
