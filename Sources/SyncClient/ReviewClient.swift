import Foundation
import SyncProtocol

/// The review desk's JSON API, for `syncctl review`: district staff with a reviewer
/// credential list conflicts and decide them.
public final class ReviewClient {
    let baseURL: String
    let credential: String
    private let curl: CurlSession

    public init(hubURL: String, credential: String, caFile: String? = nil, allowInsecureHTTP: Bool = false) throws {
        baseURL = hubURL.hasSuffix("/") ? String(hubURL.dropLast()) : hubURL
        self.credential = credential
        curl = try CurlSession(connectTimeoutSeconds: 10, requestTimeoutSeconds: 60, caFile: caFile, allowInsecureHTTP: allowInsecureHTTP)
    }

    /// Every conflict in `state` (`GET /v1/conflicts?state=...`, page after page), as one
    /// JSON array and the same decoded.
    public func conflicts(state: String = "open") throws -> (json: Data, conflicts: [ConflictView]) {
        let pageSize = 500
        var all: [ConflictView] = []
        var after: String?
        while true {
            var path = "/v1/conflicts?state=\(Self.queryValue(state))&limit=\(pageSize)"
            if let after { path += "&after=\(Self.queryValue(after))" }
            let page = try decode([ConflictView].self, try send("GET", path, body: nil))
            all += page
            guard page.count == pageSize, let last = page.last?.id else { break }
            after = last
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try encoder.encode(all), all)
    }

    /// Text as a query parameter's value: everything but unreserved characters percent-encoded.
    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn:
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? text
    }

    /// Every decision kept at the hub, newest first (all pages).
    public func decisions() throws -> (json: Data, decisions: [DecisionView]) {
        let pageSize = 500
        var all: [DecisionView] = []
        var before: Int64?
        while true {
            var path = "/v1/reviews?limit=\(pageSize)"
            if let before { path += "&before=\(before)" }
            let page = try decode([DecisionView].self, try send("GET", path, body: nil))
            all += page
            guard page.count == pageSize, let last = page.last?.id else { break }
            before = last
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try encoder.encode(all), all)
    }

    public func resolve(_ decision: ResolveRequest) throws -> ResolveResponse {
        try decode(ResolveResponse.self, try send("POST", "/v1/conflicts/resolve", body: try JSONEncoder().encode(decision)))
    }

    public func revert(_ request: RevertRequest) throws -> ResolveResponse {
        try decode(ResolveResponse.self, try send("POST", "/v1/conflicts/revert", body: try JSONEncoder().encode(request)))
    }

    private func decode<Reply: Decodable>(_ type: Reply.Type, _ data: Data) throws -> Reply {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw SyncError.badReply("\(error)")
        }
    }

    private func send(_ method: String, _ path: String, body: Data?) throws -> Data {
        var headers = ["Authorization: Bearer \(credential)"]
        if body != nil { headers.append("Content-Type: application/json") }
        let reply: CurlSession.Reply
        do {
            reply = try curl.send(method, baseURL + path, headers: headers, body: body.map(Array.init))
        } catch let failure as CurlSession.Failure {
            throw SyncError(failure, url: baseURL)
        }
        guard reply.status == 200 else {
            let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(reply.body))
            throw SyncError.refused(status: reply.status, code: error?.error ?? "http_\(reply.status)",
                                    message: error?.message ?? String(decoding: reply.body.prefix(300), as: UTF8.self))
        }
        return Data(reply.body)
    }
}
