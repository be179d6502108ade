import Foundation

/// A throw-away certificate authority and hub certificates signed by it, made with the
/// openssl command as a district would make its own: for tests of the hub over HTTPS.
public struct TestCertificates: Sendable {
    /// Where the files are; removed when the last copy of this value goes.
    public let directory: TemporaryDirectory
    /// The CA's certificate: what a commune names in [hub] ca_file.
    public let caCertificate: String
    /// A certificate for 127.0.0.1 and localhost, and its key.
    public let hubCertificate: String
    public let hubKey: String
    /// A certificate for another name (hub.other.example) only, and its key.
    public let otherNameCertificate: String
    public let otherNameKey: String

    public init() throws {
        let directory = try TemporaryDirectory("tls-ca")
        self.directory = directory
        caCertificate = directory.path("ca.pem")
        hubCertificate = directory.path("hub-cert.pem")
        hubKey = directory.path("hub-key.pem")
        otherNameCertificate = directory.path("other-cert.pem")
        otherNameKey = directory.path("other-key.pem")
        let caKey = directory.path("ca-key.pem")
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                          "-subj", "/CN=Test district CA", "-keyout", caKey, "-out", caCertificate])
        try Self.sign(certificate: hubCertificate, key: hubKey, names: "IP:127.0.0.1,DNS:localhost", ca: caCertificate, caKey: caKey, in: directory)
        try Self.sign(certificate: otherNameCertificate, key: otherNameKey, names: "DNS:hub.other.example", ca: caCertificate, caKey: caKey, in: directory)
    }

    private static func sign(certificate: String, key: String, names: String, ca: String, caKey: String, in directory: TemporaryDirectory) throws {
        let request = certificate + ".csr"
        let extensions = certificate + ".ext"
        try "subjectAltName = \(names)\nextendedKeyUsage = serverAuth\n".write(toFile: extensions, atomically: true, encoding: .utf8)
        try openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=synchub",
                     "-keyout", key, "-out", request])
        try openssl(["x509", "-req", "-in", request, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-days", "2",
                     "-extfile", extensions, "-out", certificate])
    }

    private static func openssl(_ arguments: [String]) throws {
        let (status, output) = try Programs.runSystem("/usr/bin/openssl", arguments)
        guard status == 0 else { throw ClusterError("openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(output)") }
    }
}
