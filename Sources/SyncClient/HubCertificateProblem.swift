/// Why a secure connection to the hub failed, sorted by what a technician does about it.
public enum HubCertificateProblem: String, Sendable, Equatable, Codable {
    /// Signed by no authority this office trusts (a district's own CA, or someone in between).
    case untrusted
    /// Expired or not yet valid: the hub's certificate, or this computer's clock.
    case expired
    /// Made for another name than the one in [hub] url.
    case wrongName
    /// The CA bundle named by [hub] ca_file cannot be read.
    case unreadableCAFile
    /// No TLS at all, or none both sides speak.
    case handshake

    /// The message for a technician: what failed, why, and what to do.
    func explanation(url: String, detail: String) -> String {
        let queued = "; changes stay queued here and are sent once the hub can be trusted"
        switch self {
        case .untrusted:
            return "the hub at \(url) answered with a certificate this office does not trust (\(detail)): if the district uses "
                + "its own certificate authority, copy its CA certificate to this computer and name it in commune.toml "
                + "([hub] ca_file); otherwise report it to the district, as someone may be impersonating the hub\(queued)"
        case .expired:
            return "the hub at \(url) answered with a certificate that has expired or is not yet valid (\(detail)): check this "
                + "computer's clock ('timedatectl'); if it is right, the district must renew the hub's certificate\(queued)"
        case .wrongName:
            return "the hub at \(url) answered with a certificate made for another name (\(detail)): set [hub] url in "
                + "commune.toml to the name on the certificate, or ask the district for a certificate with this name\(queued)"
        case .unreadableCAFile:
            return "the CA bundle named by [hub] ca_file in commune.toml cannot be used (\(detail)): check its path, that it "
                + "holds PEM certificates, and that syncd's user may read it\(queued)"
        case .handshake:
            return "no secure connection could be made with the hub at \(url) (\(detail)): check that the hub serves HTTPS on "
                + "that port ([tls] in hub.toml) and that [hub] url names the right port\(queued)"
        }
    }
}
