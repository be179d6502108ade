import Foundation

/// What the running daemon knows that the replica file does not: is it up, since when, how
/// did the last round go, did the hub answer, how far apart are the clocks.
public struct DaemonStatus: Codable, Sendable, Equatable {
    public var startedAt: Date
    public var lastRoundAt: Date?
    public var lastRoundOK: Bool?
    public var hubReachable: Bool?
    public var lastError: String?
    /// Local clock minus the hub's, in seconds, from the last round.
    public var clockSkewSeconds: Double?
    public var consecutiveFailures: Int

    public init(startedAt: Date) {
        self.startedAt = startedAt
        consecutiveFailures = 0
    }
}
