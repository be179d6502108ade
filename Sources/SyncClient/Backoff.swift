/// How long to wait before trying the hub again after `failures` failed attempts in a row:
/// exponential from `base`, capped at `cap`, with full jitter (a uniformly random part of
/// it) so that many offices coming back at once do not hit the hub together. Pure: the
/// random number is passed in.
public struct Backoff: Sendable, Equatable {
    public let base: Double
    public let cap: Double

    public init(base: Double = 1, cap: Double = 300) {
        self.base = base
        self.cap = cap
    }

    /// Seconds to wait; `unit` is a random number in 0..<1.
    public func delay(afterFailures failures: Int, unit: Double) -> Double {
        guard failures > 0 else { return 0 }
        let ceiling = min(cap, base * Double(1 << min(failures - 1, 30)))
        return ceiling * min(max(unit, 0), 1)
    }
}
