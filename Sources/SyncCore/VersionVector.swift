/// How two version vectors relate causally.
public enum CausalOrder: Sendable, Equatable {
    case equal
    /// The left side happened before the right side (right has seen everything left has).
    case before
    /// The left side happened after the right side.
    case after
    /// Neither has seen all of the other: the histories diverged.
    case concurrent
}

/// A version vector: for each replica, the highest counter of its changes that are known.
///
/// Absent replicas count as 0. A vector *covers* a dot when it knows that replica up to at
/// least that counter. Join (pointwise maximum) is commutative, associative and idempotent,
/// which is what makes the merge built on it independent of delivery order.
public struct VersionVector: Hashable, Sendable, CustomStringConvertible {
    /// Only non-zero entries are stored, so equal vectors compare equal.
    public private(set) var entries: [ReplicaID: UInt64]

    public init() { entries = [:] }

    public init(_ entries: [ReplicaID: UInt64]) {
        self.entries = entries.filter { $0.value > 0 }
    }

    public subscript(replica: ReplicaID) -> UInt64 {
        entries[replica] ?? 0
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// True when the change named by `dot` is part of the history this vector describes.
    public func covers(_ dot: Dot) -> Bool {
        self[dot.replica] >= dot.counter
    }

    /// Adds one dot (raises that replica's entry to the dot's counter if lower).
    public mutating func record(_ dot: Dot) {
        if dot.counter > self[dot.replica] { entries[dot.replica] = dot.counter }
    }

    /// Pointwise maximum.
    public mutating func join(_ other: VersionVector) {
        for (replica, counter) in other.entries where counter > self[replica] {
            entries[replica] = counter
        }
    }

    public func joined(_ other: VersionVector) -> VersionVector {
        var result = self
        result.join(other)
        return result
    }

    /// The same vector without one replica's entry.
    public func removing(_ replica: ReplicaID) -> VersionVector {
        var result = self
        result.entries[replica] = nil
        return result
    }

    public func compare(_ other: VersionVector) -> CausalOrder {
        var someGreater = false
        var someLess = false
        for replica in Set(entries.keys).union(other.entries.keys) {
            let mine = self[replica]
            let theirs = other[replica]
            if mine > theirs { someGreater = true }
            if mine < theirs { someLess = true }
        }
        switch (someGreater, someLess) {
        case (false, false): return .equal
        case (false, true): return .before
        case (true, false): return .after
        case (true, true): return .concurrent
        }
    }

    /// Compact text form `replica:counter` joined by spaces, replicas sorted: the form kept in
    /// SQLite columns. The empty vector is the empty string.
    public var description: String {
        entries.sorted { $0.key < $1.key }.map { "\($0.key.rawValue):\($0.value)" }
            .joined(separator: " ")
    }

    /// Parses the text form written by `description`; nil if it is malformed.
    public init?(text: String) {
        var parsed: [ReplicaID: UInt64] = [:]
        for item in text.split(separator: " ", omittingEmptySubsequences: true) {
            guard let colon = item.lastIndex(of: ":"),
                let replica = ReplicaID(rawValue: String(item[..<colon])),
                let counter = UInt64(item[item.index(after: colon)...])
            else { return nil }
            parsed[replica] = max(parsed[replica] ?? 0, counter)
        }
        self.init(parsed)
    }
}
