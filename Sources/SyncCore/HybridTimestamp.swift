/// A hybrid logical clock timestamp: wall-clock milliseconds in the high 48 bits and a
/// logical counter in the low 16 bits, so that it fits one SQLite INTEGER and orders as one.
///
/// It orders concurrent writes for rules that need an order (last-writer-wins) and dates
/// history for people. It never decides causality: version vectors do.
public struct HybridTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(wallMillis: UInt64, logical: UInt16 = 0) {
        rawValue = (wallMillis << 16) | UInt64(logical)
    }

    public static let zero = HybridTimestamp(rawValue: 0)

    public var wallMillis: UInt64 { rawValue >> 16 }
    public var logical: UInt16 { UInt16(truncatingIfNeeded: rawValue) }

    public static func < (lhs: HybridTimestamp, rhs: HybridTimestamp) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    public var description: String { "\(wallMillis).\(logical)" }
}

/// The clock state of one replica. Time is passed in, never read, so the clock is a pure
/// value: `now` and `observe` return timestamps that strictly increase and that are never
/// behind any timestamp this replica has seen.
public struct HybridLogicalClock: Sendable, Equatable {
    public private(set) var last: HybridTimestamp

    /// How far ahead of physical time a received stamp may be and still move the clock: the
    /// same bound hubs keep by default (`max_clock_ahead_s`). A stamp further ahead (from a
    /// computer whose clock is wrong) is merged like any other but leaves the clock alone, so
    /// no stamp can drag a replica's clock into the future.
    public static let maxAheadMillis: UInt64 = 300_000

    public init(last: HybridTimestamp = .zero) { self.last = last }

    /// The timestamp for a local event at physical time `physicalMillis`.
    public mutating func now(physicalMillis: UInt64) -> HybridTimestamp {
        let physical = HybridTimestamp(wallMillis: physicalMillis)
        last = max(physical, HybridTimestamp(rawValue: last.rawValue + 1))
        return last
    }

    /// Takes in a timestamp received from another replica, unless it is further ahead of
    /// physical time than `maxAheadMillis`.
    public mutating func observe(_ remote: HybridTimestamp, physicalMillis: UInt64) {
        guard remote.wallMillis <= physicalMillis + Self.maxAheadMillis else { return }
        last = max(last, remote)
    }

    /// The latest stamp a replica takes in at physical time `physicalMillis`.
    public static func bound(physicalMillis: UInt64) -> HybridTimestamp {
        HybridTimestamp(wallMillis: physicalMillis + maxAheadMillis)
    }
}
