/// One write of a field that no other known write has superseded.
public struct FieldWrite: Hashable, Sendable {
    public let dot: Dot
    public let timestamp: HybridTimestamp
    public let value: Value

    public init(dot: Dot, timestamp: HybridTimestamp, value: Value) {
        self.dot = dot
        self.timestamp = timestamp
        self.value = value
    }
}

/// What applying one change did.
public enum MergeOutcome: Sendable, Equatable {
    /// The change was already known, or a known write had already superseded it.
    case duplicate
    /// The change superseded everything it competed with (or had nothing to compete with).
    case applied
    /// The change is concurrent with at least one other surviving write: a rule decides.
    case concurrent
}

/// The merge state of one column of one row: a multi-value register.
///
/// `writes` holds the writes that no other known write has seen (normally one; more than one
/// when writers edited the field concurrently), sorted by dot. `seen` is the join of the dots
/// and contexts of every write delivered to the field, so a write that arrives again, or that
/// arrives after something that saw it, is recognised and ignored.
///
/// Both are functions of the *set* of writes delivered, never of their order: the surviving
/// writes are the maximal elements of that set under "its context covers my dot", and `seen`
/// is a join. That is the whole convergence argument.
public struct FieldState: Hashable, Sendable {
    public private(set) var writes: [FieldWrite]
    public private(set) var seen: VersionVector

    public init() {
        writes = []
        seen = VersionVector()
    }

    /// Rebuilds a stored state; `writes` are re-sorted so equal states compare equal.
    public init(writes: [FieldWrite], seen: VersionVector) {
        self.writes = writes.sorted { $0.dot < $1.dot }
        self.seen = seen
    }

    /// Merges one write of this field whose author had seen `context`.
    public mutating func apply(
        dot: Dot, context: VersionVector, timestamp: HybridTimestamp, value: Value
    ) -> MergeOutcome {
        if seen.covers(dot) {
            // A duplicate, or superseded by a write whose context (already joined into
            // `seen`) covers it. Contexts are causally closed, so nothing else changes.
            return .duplicate
        }
        seen.join(context)
        seen.record(dot)
        writes.removeAll { context.covers($0.dot) }
        let write = FieldWrite(dot: dot, timestamp: timestamp, value: value)
        let index = writes.firstIndex { dot < $0.dot } ?? writes.endIndex
        writes.insert(write, at: index)
        return writes.count > 1 ? .concurrent : .applied
    }

    /// Joins another replica's state of the same field: a write survives if both sides keep
    /// it, or if the side that lacks it never saw it.
    public mutating func merge(_ other: FieldState) {
        let mine = writes.filter { other.writes.contains($0) || !other.seen.covers($0.dot) }
        let theirs = other.writes.filter { !seen.covers($0.dot) }
        writes = (mine + theirs).sorted { $0.dot < $1.dot }
        seen.join(other.seen)
    }
}
