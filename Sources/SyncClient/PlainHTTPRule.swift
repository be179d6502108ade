import Foundation

/// Which hub addresses may be reached over plain `http://`. The credential travels in every
/// request, so plain http is allowed only to this computer (loopback: 127.0.0.0/8, ::1,
/// localhost), unless commune.toml says `allow_insecure_http = true` for a link the district
/// trusts. The check runs before any connection is made.
public enum PlainHTTPRule {
    /// Why `url` may not be used, with what to do; nil when it may.
    public static func refusal(for url: String, allowInsecureHTTP: Bool) -> String? {
        guard url.lowercased().hasPrefix("http://"), !allowInsecureHTTP else { return nil }
        let host = URLComponents(string: url)?.host ?? ""
        if isLoopback(host) { return nil }
        return "refusing to send this office's credential over plain http to \(host.isEmpty ? url : host), which is not this computer: "
            + "anyone on the way could read it and act as this office. Set [hub] url in commune.toml to the hub's https:// address "
            + "(the district gives the hub a certificate: [tls] in hub.toml), or, only on a link the district trusts, "
            + "set allow_insecure_http = true under [hub]"
    }

    /// 127.0.0.0/8, ::1 or localhost: traffic that never leaves the computer.
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare.lowercased() == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, bare, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, bare, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
        }
        return false
    }
}
