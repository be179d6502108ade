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

    public init(last: HybridTimestamp = .zero) { self.last = last }

    /// The timestamp for a local event at physical time `physicalMillis`.
    public mutating func now(physicalMillis: UInt64) -> HybridTimestamp {
        let physical = HybridTimestamp(wallMillis: physicalMillis)
        last = max(physical, HybridTimestamp(rawValue: last.rawValue + 1))
        return last
    }

    /// Takes in a timestamp received from another replica.
    public mutating func observe(_ remote: HybridTimestamp) {
        last = max(last, remote)
    }
}
