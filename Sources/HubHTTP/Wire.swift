import HubCore
import Foundation
import HTTPTypes
import Hummingbird
import SyncConfig
import SyncProtocol

/// The hub's side of the `/v1` wire: request bodies within their limits (size, time, gzip,
/// JSON), query parameters checked, and replies in JSON with the hub's version headers.
struct Wire: Sendable {
    let store: HubStore
    let limits: HubLimits

    /// The request body as sent, refused with 413 above `maxBodyBytes` and with 408 when it
    /// takes longer than `requestTimeoutSeconds` to arrive.
    func body(of request: inout Request) async throws -> [UInt8] {
        Array(try await Self.collect(&request, limits: limits).readableBytesView)
    }

    func decode<Message: Decodable>(_ type: Message.Type, from request: inout Request) async throws -> Message {
        let bytes = try await body(of: &request)
        do throws(WireBody.Failure) {
            return try WireBody.decode(Message.self, from: bytes, contentEncoding: request.headers[.contentEncoding],
                                       maxExpandedBytes: limits.maxExpandedBytes)
        } catch {
            throw HubError(refusing: error)
        }
    }

    /// The whole body, within the size limit and the time allowed: a sender that trickles
    /// its body cannot hold a connection and a request slot for long.
    static func collect(_ request: inout Request, limits: HubLimits) async throws -> ByteBuffer {
        let body = request.body
        let timeout = limits.requestTimeoutSeconds
        let collected = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                do {
                    return try await body.collect(upTo: limits.maxBodyBytes)
                } catch is CancellationError {
                    return nil
                } catch {
                    throw HubError.tooLarge(
                        "the request body is larger than \(limits.maxBodyBytes) bytes: send smaller batches ('batch_changes' in commune.toml)")
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let collected else {
            throw HubError(status: 408, code: "request_timeout",
                           message: "the request body did not arrive within \(Int(timeout)) s: the link is too slow for this batch; "
                               + "syncd retries, and a smaller 'batch_changes' in commune.toml helps")
        }
        request.body = .init(buffer: collected)
        return collected
    }

    /// A whole-number query parameter, nil when absent; anything else than a number from
    /// `minimum` to 2^63 - 1 is refused with 400.
    func integer(_ name: String, in request: Request, minimum: Int64 = 0) throws -> Int64? {
        guard let text = request.uri.queryParameters[Substring(name)] else { return nil }
        guard let value = Int64(text), value >= minimum else {
            throw HubError.badRequest("query parameter '\(name)' must be a whole number from \(minimum) to \(Int64.max), not '\(text)'")
        }
        return value
    }

    /// A page size asked for with `limit`: `whenAbsent` if not given, never more than `maxBatch`.
    func pageSize(in request: Request, whenAbsent: Int) throws -> Int {
        let asked = try integer("limit", in: request, minimum: 1).map(Int.init) ?? whenAbsent
        return max(min(asked, limits.maxBatch), 1)
    }

    func reply<Reply: Encodable>(_ value: Reply, to request: Request, status: HTTPResponse.Status = .ok) throws -> Response {
        // Pulls and snapshots, the largest and most frequent replies: written straight to bytes.
        var bytes = try (value as? any WireJSONEncodable)?.wireJSON() ?? Array(try JSONEncoder().encode(value))
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[HTTPField.Name(WireVersion.protocolHeader)!] = String(WireVersion.protocolVersion)
        headers[HTTPField.Name(WireVersion.schemaHeader)!] = String(store.schemaVersion)
        headers[HTTPField.Name("X-CommuneSync-Hub")!] = store.district.rawValue
        if request.headers[.acceptEncoding]?.contains("gzip") == true {
            bytes = Gzip.compress(bytes)
            headers[.contentEncoding] = "gzip"
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
