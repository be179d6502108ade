import HubCore
import Foundation

/// Who is signed in to the review desk in a browser: a random session id (the cookie) for
/// each reviewer who logged in through the form, with the per-session token every form must
/// carry back (CSRF) and when the session ends.
///
/// Held in memory, not in the hub database: a session lives hours at most, a restart of the
/// hub only asks reviewers to log in again, and a copy of hub.db (a backup, say) then holds
/// nothing that opens the desk. Only the SHA-256 of a session id is kept, as for credentials.
/// A session is not a credential of its own: every request of it checks that the hub's store
/// still holds the reviewer's credential (`ReviewRoutes.Desk.liveSession`), so a revocation
/// ends it at once, whichever synchub process holds it.
public actor ReviewSessions {
    public struct Session: Sendable, Equatable {
        public let reviewer: Caller
        /// The value every form of this session carries in its hidden `csrf` field.
        public let csrf: String
        public let expires: Date
    }

    /// How long a session lasts after login, however active (a working day).
    public let lifetime: TimeInterval
    private var sessions: [String: Session] = [:]

    public init(lifetime: TimeInterval = 8 * 3600) {
        self.lifetime = lifetime
    }

    /// Starts a session for a reviewer; returns its id, for the cookie.
    public func open(for reviewer: Caller, now: Date = Date()) -> (id: String, session: Session) {
        sessions = sessions.filter { $0.value.expires > now }
        let id = Self.randomToken()
        let session = Session(reviewer: reviewer, csrf: Self.randomToken(), expires: now.addingTimeInterval(lifetime))
        sessions[Self.digest(id)] = session
        return (id, session)
    }

    /// The live session with this id, if any; an expired one is forgotten.
    public func session(_ id: String?, now: Date = Date()) -> Session? {
        guard let id, !id.isEmpty else { return nil }
        let key = Self.digest(id)
        guard let session = sessions[key] else { return nil }
        guard session.expires > now else {
            sessions[key] = nil
            return nil
        }
        return session
    }

    /// Ends a session (logout): its cookie opens nothing afterwards.
    public func close(_ id: String?) {
        guard let id else { return }
        sessions[Self.digest(id)] = nil
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    private static func digest(_ id: String) -> String { Credentials.digest(id) }

    /// Compares two secrets in time that does not depend on where they differ.
    static func same(_ lhs: String?, _ rhs: String?) -> Bool {
        guard let lhs, let rhs else { return false }
        let (left, right) = (Array(lhs.utf8), Array(rhs.utf8))
        guard left.count == right.count, !left.isEmpty else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
