import Register
import Foundation

/// When a replica file was rebuilt from the hub during the last day, kept in `_sync_meta`
/// (`rebase_recent`, unix seconds separated by spaces). One rebuild is a file put back from a
/// copy; several within a day mean two computers are running copies of the same replica at
/// once, each rebuilding after the other's pushes (nothing is lost, but the office must keep
/// one), which `syncctl status` reports as DEGRADED.
public struct RebuildHistory: Sendable, Equatable {
    /// How far back rebuilds are counted.
    public static let window: TimeInterval = 24 * 3600
    /// Rebuilds within the window from which status says two copies are running.
    public static let copiesThreshold = 3
    /// Most times kept (more tell nothing new).
    static let kept = 32

    public private(set) var times: [Date]

    public init(text: String?) {
        times = (text ?? "").split(separator: " ").compactMap { Double($0) }.map { Date(timeIntervalSince1970: $0) }
    }

    /// With a rebuild at `time`; those older than the window before it are dropped.
    public func adding(_ time: Date) -> RebuildHistory {
        var history = self
        history.times = Array((times.filter { time.timeIntervalSince($0) < Self.window } + [time]).suffix(Self.kept))
        return history
    }

    /// Rebuilds within the window before `now`.
    public func count(before now: Date = Date()) -> Int {
        times.filter { now.timeIntervalSince($0) < Self.window }.count
    }

    public var text: String { times.map { String(Int64($0.timeIntervalSince1970)) }.joined(separator: " ") }
}
