import Crypto
import _CryptoExtras
import Foundation
import MergeEngine
import Register
import SyncCore

/// Who is calling, once their credential checked out.
public struct Caller: Sendable, Equatable {
    public enum Role: String, Sendable {
        /// A commune office's syncd: pushes and pulls its scope.
        case commune
        /// District staff resolving conflicts on the review desk.
        case reviewer
    }

    public let replica: ReplicaID
    /// The units.id of the commune whose rows this caller may push and pull.
    public let scope: String
    public let role: Role
    /// That unit's last day in force (`effective_to`) when the credential was checked: nil
    /// while it is in force. Reads refuse an office of an ended unit from it (`refuseIfEnded`).
    var scopeLastDay: String? = nil
    /// When the hub recorded that last day (`StoredCredential.scopeEndRecorded`).
    var scopeEndRecorded: HybridTimestamp? = nil
    /// The SHA-256 of the credential this caller was recognised by: a review-desk session
    /// lives only as long as the hub still holds that very credential (`HubStore.stillHolds`).
    var credentialDigest: String? = nil
}

/// A credential as `synchub credential list` shows it.
public struct IssuedCredential: Sendable, Equatable {
    public let replica: ReplicaID
    public let scope: String
    public let role: Caller.Role
    public let issuedAt: String
    /// For the office of a unit that ends: the last day its credential is accepted
    /// (`HubStore.endedOfficeDays` after the unit's last day).
    public var acceptedUntil: String? = nil

    package init(replica: ReplicaID, scope: String, role: Caller.Role, issuedAt: String, acceptedUntil: String? = nil) {
        self.replica = replica
        self.scope = scope
        self.role = role
        self.issuedAt = issuedAt
        self.acceptedUntil = acceptedUntil
    }
}

/// Issuing and checking credentials. A token is `REPLICA.SECRET`; the hub keeps only its
/// SHA-256, so a copy of the hub database does not let anyone sign in.
package enum Credentials {
    /// Makes a new token for `replica` and keeps its digest, replacing any credential it held.
    nonisolated(nonsending) static func issue(replica: ReplicaID, scope: String, role: Caller.Role = .commune, in store: any HubTransaction) async throws -> String {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let token = "\(replica.rawValue).\(secret)"
        try await store.saveCredential(StoredCredential(
            replica: replica, scope: scope, role: role, sha256: digest(token), issuedAt: Date().formatted(.iso8601)))
        return token
    }

    /// The caller an `Authorization` header names, if its token is the one the hub issued.
    nonisolated(nonsending) static func verify(authorization: String?, in storage: any HubStorage) async throws -> Caller {
        guard let authorization, authorization.hasPrefix("Bearer ") else {
            throw HubError.unauthorized(
                "no credential was sent: set 'credential_file' in commune.toml to the credential the district issued "
                    + "('synchub credential issue')")
        }
        let token = String(authorization.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        let replicaText = String(token.prefix { $0 != "." })
        let stored: StoredCredential?
        if let replica = ReplicaID(rawValue: replicaText) {
            stored = try await storage.readOne { try await $0.credential(of: replica) }
        } else {
            stored = nil
        }
        guard let stored, constantTimeEqual(Array(digest(token).utf8), Array(stored.sha256.utf8)) else {
            throw HubError.unauthorized(
                "the credential for '\(IncomingPush.shown(replicaText))' is not valid (wrong, revoked or for another hub): "
                    + "ask the district office for a new one ('synchub credential issue --replica \(IncomingPush.shown(replicaText))')")
        }
        return Caller(
            replica: stored.replica, scope: stored.scope, role: stored.role, scopeLastDay: stored.scopeLastDay,
            scopeEndRecorded: stored.scopeEndRecorded, credentialDigest: stored.sha256)
    }

    package static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Passwords of reviewer accounts, for people to log in to the desk with a name instead of
/// pasting a token. Kept where a token's digest is kept, as a slow salted hash (scrypt,
/// about 16 MiB and tens of milliseconds per try), `scrypt$LOG2N$R$P$SALT$HASH` in base64:
/// a copy of the hub's database does not give the passwords away cheaply.
enum ReviewerPasswords {
    static let prefix = "scrypt$"
    static let log2Rounds = 14
    static let blockSize = 8
    static let parallelism = 1
    static let minimumLength = 10

    static func hash(_ password: String) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let derived = try derive(password, salt: salt, log2Rounds: log2Rounds, blockSize: blockSize, parallelism: parallelism)
        return "\(prefix)\(log2Rounds)$\(blockSize)$\(parallelism)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    static func isPasswordHash(_ stored: String) -> Bool { stored.hasPrefix(prefix) }

    /// Whether `password` is the one `stored` was made from (compared in constant time).
    static func matches(_ password: String, _ stored: String) -> Bool {
        let parts = stored.dropFirst(prefix.count).split(separator: "$").map(String.init)
        guard parts.count == 5, let log2 = Int(parts[0]), (10...20).contains(log2), let block = Int(parts[1]), (1...16).contains(block),
            let lanes = Int(parts[2]), (1...4).contains(lanes), let salt = Data(base64Encoded: parts[3]), let expected = Data(base64Encoded: parts[4]),
            let derived = try? derive(password, salt: Array(salt), log2Rounds: log2, blockSize: block, parallelism: lanes)
        else { return false }
        return Credentials.constantTimeEqual(Array(derived), Array(expected))
    }

    private static func derive(_ password: String, salt: [UInt8], log2Rounds: Int, blockSize: Int, parallelism: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: 1 << log2Rounds, blockSize: blockSize, parallelism: parallelism)
        return key.withUnsafeBytes { Array($0) }
    }
}
