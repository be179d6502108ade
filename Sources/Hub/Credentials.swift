import Crypto
import Foundation
import Replica
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
}

/// A credential as `synchub credential list` shows it.
public struct IssuedCredential: Sendable, Equatable {
    public let replica: ReplicaID
    public let scope: String
    public let role: Caller.Role
    public let issuedAt: String
}

/// Issuing and checking credentials. A token is `REPLICA.SECRET`; the hub keeps only its
/// SHA-256, so a copy of the hub database does not let anyone sign in.
enum Credentials {
    static func issue(replica: ReplicaID, scope: String, role: Caller.Role = .commune, in database: SQLiteDatabase) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let token = "\(replica.rawValue).\(secret)"
        try database.run(
            """
            INSERT INTO _sync_hub_credentials(replica, scope, role, sha256, issued_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(replica) DO UPDATE SET scope = excluded.scope, role = excluded.role, sha256 = excluded.sha256,
                issued_at = excluded.issued_at
            """,
            [.text(replica.rawValue), .text(scope), .text(role.rawValue), .text(digest(token)), .text(Date().formatted(.iso8601))])
        return token
    }

    static func list(in database: SQLiteDatabase) throws -> [IssuedCredential] {
        try database.query("SELECT replica, scope, role, issued_at FROM _sync_hub_credentials ORDER BY role, replica").compactMap { row in
            guard let replica = row[0].textValue.flatMap(ReplicaID.init(rawValue:)), let scope = row[1].textValue,
                let role = row[2].textValue.flatMap(Caller.Role.init(rawValue:)), let at = row[3].textValue
            else { return nil }
            return IssuedCredential(replica: replica, scope: scope, role: role, issuedAt: at)
        }
    }

    static func verify(authorization: String?, in database: SQLiteDatabase) throws -> Caller {
        guard let authorization, authorization.hasPrefix("Bearer ") else {
            throw HubError.unauthorized(
                "no credential was sent: set 'credential_file' in commune.toml to the credential the district issued "
                    + "('synchub credential issue')")
        }
        let token = String(authorization.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        let replicaText = String(token.prefix { $0 != "." })
        guard let replica = ReplicaID(rawValue: replicaText),
            let row = try database.query("SELECT scope, sha256, role FROM _sync_hub_credentials WHERE replica = ?", [.text(replica.rawValue)]).first,
            let scope = row[0].textValue, let expected = row[1].textValue,
            let role = row[2].textValue.flatMap(Caller.Role.init(rawValue:)),
            constantTimeEqual(Array(digest(token).utf8), Array(expected.utf8))
        else {
            throw HubError.unauthorized(
                "the credential for '\(IncomingPush.shown(replicaText))' is not valid (wrong, revoked or for another hub): "
                    + "ask the district office for a new one ('synchub credential issue --replica \(IncomingPush.shown(replicaText))')")
        }
        return Caller(replica: replica, scope: scope, role: role)
    }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    private static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
