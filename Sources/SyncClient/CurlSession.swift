import CCurl
import Foundation

/// One libcurl easy handle, reused for every request to one hub so that the connection is
/// kept alive (about 3x the request rate of a fresh handle per request, measured here).
/// Not thread-safe: one owner (a sync session) uses it.
final class CurlSession {
    struct Reply {
        let status: Int
        let body: [UInt8]
    }

    /// What failed below HTTP: no connection, a timeout, a TLS problem, or a request this
    /// client refused to send.
    struct Failure: Error, CustomStringConvertible {
        enum Kind: Equatable {
            /// No answer: connection refused, name not found, timeout.
            case link
            /// A connection was made but could not be secured: the hub's certificate, or the
            /// CA bundle to check it with.
            case certificate(HubCertificateProblem)
            /// Plain http to a host that is not this computer (`PlainHTTPRule`).
            case plainHTTP
        }

        let code: UInt32
        let message: String
        var kind: Kind = .link
        var description: String { message }
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    private let handle: UnsafeMutableRawPointer
    private let allowInsecureHTTP: Bool
    /// libcurl's own sentence about the last failure ("SSL certificate problem: certificate
    /// has expired"), more telling than the error code's; CURL_ERROR_SIZE bytes, as it needs.
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    /// Largest response body accepted.
    private let maxReplyBytes = 256 * 1024 * 1024

    init(connectTimeoutSeconds: Double, requestTimeoutSeconds: Double, caFile: String?, allowInsecureHTTP: Bool = false) throws {
        _ = Self.globalInit
        guard let handle = curl_easy_init() else { throw Failure(code: 0, message: "libcurl could not create a handle") }
        self.handle = handle
        self.allowInsecureHTTP = allowInsecureHTTP
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        try check(communesync_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        try set(CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeoutSeconds * 1000))
        try set(CURLOPT_TIMEOUT_MS, Int(requestTimeoutSeconds * 1000))
        // Ask for gzip replies; libcurl inflates them.
        try set(CURLOPT_ACCEPT_ENCODING, "gzip")
        if let caFile { try set(CURLOPT_CAINFO, caFile) }
        try check(communesync_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let sink = Unmanaged<ReplySink>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            guard sink.bytes.count + length <= sink.limit, let data else { return 0 }  // 0 aborts the transfer
            data.withMemoryRebound(to: UInt8.self, capacity: length) { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
            return length
        })
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Sends one request and waits for the whole reply (bounded by the timeouts). Plain http
    /// to another computer is refused before anything is sent, unless allowed.
    func send(_ method: String, _ url: String, headers: [String], body: [UInt8]? = nil) throws -> Reply {
        if let refusal = PlainHTTPRule.refusal(for: url, allowInsecureHTTP: allowInsecureHTTP) {
            throw Failure(code: 0, message: refusal, kind: .plainHTTP)
        }
        errorBuffer[0] = 0
        let sink = ReplySink(limit: maxReplyBytes)
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }
        try set(CURLOPT_URL, url)
        try check(communesync_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, list))
        try check(communesync_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque()))
        let code: CURLcode = withExtendedLifetime(sink) {
            if let body {
                return body.withUnsafeBytes { bytes in
                    _ = communesync_curl_setopt_long(handle, CURLOPT_POST, 1)
                    _ = communesync_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                    _ = communesync_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, bytes.baseAddress)
                    return curl_easy_perform(handle)
                }
            }
            _ = communesync_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
            return curl_easy_perform(handle)
        }
        try check(code)
        var status = 0
        try check(communesync_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status))
        return Reply(status: status, body: sink.bytes)
    }

    private func set(_ option: CURLoption, _ value: Int) throws {
        try check(communesync_curl_setopt_long(handle, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws {
        // libcurl copies string options, so the temporary C string may go away after the call.
        try check(value.withCString { communesync_curl_setopt_pointer(handle, option, $0) })
    }

    private func check(_ code: CURLcode) throws {
        guard code != CURLE_OK else { return }
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        throw Failure(code: code.rawValue, message: message, kind: Self.kind(of: code, detail: message))
    }

    /// Sorts libcurl's failures by what a technician does about them.
    static func kind(of code: CURLcode, detail: String) -> Failure.Kind {
        switch code {
        case CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CRL_BADFILE:
            return .certificate(.unreadableCAFile)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            let text = detail.lowercased()
            if text.contains("expired") || text.contains("not yet valid") { return .certificate(.expired) }
            if text.contains("subject name") || text.contains("does not match") || text.contains("hostname") { return .certificate(.wrongName) }
            return .certificate(.untrusted)
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER:
            return .certificate(.handshake)
        default:
            return .link
        }
    }
}

/// Where libcurl's write callback puts the reply body.
private final class ReplySink {
    let limit: Int
    var bytes: [UInt8] = []
    init(limit: Int) { self.limit = limit }
}
