import HubCore
import Foundation
import NIOSSL

/// The hub's HTTPS: its certificate chain and private key, read and checked at start so that a
/// missing, unreadable or mismatched file stops synchub with a sentence that names the file,
/// rather than the first office's handshake failing later.
public struct HubTLS: Sendable {
    let configuration: TLSConfiguration

    /// Reads the PEM certificate chain (the hub's certificate first, then intermediates) and
    /// its private key, and checks that the key belongs to the certificate.
    public init(certificate: String, key: String) throws {
        let chain: [NIOSSLCertificate]
        let privateKey: NIOSSLPrivateKey
        try Self.requireReadable(certificate, what: "certificate")
        try Self.requireReadable(key, what: "private key")
        try Self.requirePrivate(key)
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw HubTLSError(file: certificate, problem: "holds no PEM certificate (\(error)); it should start with "
                + "'-----BEGIN CERTIFICATE-----': give the hub's certificate, then any intermediate ones")
        }
        guard !chain.isEmpty else {
            throw HubTLSError(file: certificate, problem: "holds no certificate: give the hub's certificate in PEM form")
        }
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw HubTLSError(file: key, problem: "holds no PEM private key (\(error)), or it is encrypted: "
                + "synchub needs the key unencrypted, readable by its user only")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        // TLS 1.2 offers only forward-secret AEAD suites (no CBC, no SHA-1 MACs, no static RSA);
        // TLS 1.3's suites are all AEAD already.
        configuration.cipherSuites = Self.aeadSuites
        do {
            // Building the context is where the TLS library compares the key with the certificate.
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw HubTLSError(file: key, problem: "does not belong to the certificate in \(certificate) (\(error)): "
                + "give the key that was made with that certificate's request")
        }
        self.configuration = configuration
    }

    /// The TLS 1.2 suites offered, in order of preference: ECDHE key exchange with AES-GCM or
    /// ChaCha20-Poly1305.
    static let aeadSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// The key file must be the hub's user's alone: a key that other users can read lets them
    /// pose as the hub to every office.
    private static func requirePrivate(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw HubTLSError(file: path, problem: "can be read by other users (mode \(String(mode, radix: 8))): anyone on this machine "
                + "could pose as the hub. Make it the hub's user's alone: 'chmod 600 \(path)' (and 'chown' it to the user synchub runs as)")
        }
    }

    private static func requireReadable(_ path: String, what: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw HubTLSError(file: path, problem: "does not exist: [tls] \(what == "certificate" ? "certificate" : "key") in hub.toml "
                + "must name the hub's \(what) file (PEM)")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw HubTLSError(file: path, problem: "cannot be read by this user: the \(what) must be readable by the user synchub runs as")
        }
    }
}

/// Why the hub cannot serve HTTPS with the files hub.toml names.
public struct HubTLSError: Error, CustomStringConvertible {
    public let file: String
    public let problem: String

    public var description: String { "cannot serve HTTPS: \(file) \(problem)" }
}
