import Foundation

/// What the running daemon knows that the replica file does not: is it up, since when, how
/// did the last round go, did the hub answer, how far apart are the clocks.
public struct DaemonStatus: Codable, Sendable, Equatable {
    public var startedAt: Date
    public var lastRoundAt: Date?
    public var lastRoundOK: Bool?
    public var hubReachable: Bool?
    public var lastError: String?
    /// Its kind, for syncctl to say in the office's language (nil from a daemon of a release
    /// that did not say).
    public var lastErrorKind: RoundFailure?
    /// Set when the last round failed because the hub could not be trusted (its certificate)
    /// or was refused (plain http), not because the link is down: what to tell the technician.
    public var hubProblem: String?
    /// Local clock minus the hub's, in seconds, from the last round.
    public var clockSkewSeconds: Double?
    public var consecutiveFailures: Int
    /// What the last good round sent and received, in changes (nil from a daemon of a release
    /// that did not say).
    public var lastRoundSent: Int?
    public var lastRoundReceived: Int?
    /// The daemon's process id and the register schema it runs with (nil from a daemon of a
    /// release that did not say).
    public var pid: Int32?
    public var schemaVersion: Int?

    public init(startedAt: Date, pid: Int32? = nil, schemaVersion: Int? = nil) {
        self.startedAt = startedAt
        self.pid = pid
        self.schemaVersion = schemaVersion
        consecutiveFailures = 0
    }

    /// The status as the daemon sends it on its control socket (dates in ISO 8601).
    public static func decode(_ data: Data) throws -> DaemonStatus {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(DaemonStatus.self, from: data)
    }
}
