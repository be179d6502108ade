import Foundation

/// curl(1) for tests that must see a response exactly as sent: every header (Set-Cookie
/// included), redirects not followed, no cookies kept between requests, HTTPS with a CA file.
public enum CurlTool {
    public struct Reply: Sendable {
        public let status: Int
        /// Header lines as sent, names lowercased.
        public let headers: [(name: String, value: String)]
        public let body: String

        public func header(_ name: String) -> String? { headers.first { $0.name == name.lowercased() }?.value }
        public func all(_ name: String) -> [String] { headers.filter { $0.name == name.lowercased() }.map(\.value) }

        /// The Set-Cookie line for `name`, if this reply sets it.
        public func setCookie(_ name: String) -> String? { all("set-cookie").first { $0.hasPrefix(name + "=") } }

        /// The value `Set-Cookie` gives the cookie `name`.
        public func cookieValue(_ name: String) -> String? {
            setCookie(name).map { String($0.dropFirst(name.count + 1).prefix { $0 != ";" }) }
        }
    }

    /// One request. `form` is sent as application/x-www-form-urlencoded (and makes it a POST
    /// unless `method` says otherwise); `cookies` as one Cookie header; `source` the local
    /// address to send from.
    public static func send(
        _ method: String, _ url: String, form: [(String, String)]? = nil, cookies: [String: String] = [:],
        headers: [String: String] = [:], caFile: String? = nil, source: String? = nil
    ) throws -> Reply {
        var arguments = ["-sS", "-i", "--max-time", "10", "-X", method]
        // Another loopback address (127.0.0.2, ...) to come from: a second computer, for the hub.
        if let source { arguments += ["--interface", source] }
        if let caFile { arguments += ["--cacert", caFile] }
        if !cookies.isEmpty { arguments += ["-H", "Cookie: " + cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")] }
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        for (name, value) in form ?? [] { arguments += ["--data-urlencode", "\(name)=\(value)"] }
        let (status, output) = try Programs.runSystem("/usr/bin/curl", arguments + [url])
        guard status == 0 else { throw ClusterError("curl \(method) \(url) failed (\(status)): \(output)") }
        guard let split = output.range(of: "\r\n\r\n") else { throw ClusterError("curl printed no headers: \(output)") }
        let lines = output[..<split.lowerBound].components(separatedBy: "\r\n")
        let code = lines.first?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return Reply(status: code, headers: headers, body: String(output[split.upperBound...]))
    }
}
