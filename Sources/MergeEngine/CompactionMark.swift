import Foundation

/// Where a log or feed stood at a moment: compaction waits until a mark is older than its
/// horizon, then drops what lay at or below the mark's position and sets a new mark. So
/// whatever goes was in place at least one horizon ago (at most two), with no time kept per
/// entry.
public struct CompactionMark: Sendable, Equatable {
    public let at: Date
    public let position: Int64

    public init(at: Date, position: Int64) {
        self.at = at
        self.position = position
    }

    public init?(text: String) {
        let parts = text.split(separator: " ")
        guard parts.count == 2, let position = Int64(parts[1]), let at = try? Date(String(parts[0]), strategy: .iso8601) else { return nil }
        self.init(at: at, position: position)
    }

    public var text: String { "\(at.formatted(.iso8601)) \(position)" }

    /// Whether the horizon of `days` has passed since the mark, at `now`.
    public func isPast(days: Int, at now: Date) -> Bool { now.timeIntervalSince(at) >= Double(days) * 86_400 }
}
