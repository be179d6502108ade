/// A change's context as it crosses the wire and as the hub keeps it: without the origin's
/// own entry. An origin's changes are sequential, so each has seen every earlier change of
/// its origin (up to its own counter minus one); that entry is implied, never stored, and put
/// back when the context is read.
public struct CompactContext: Sendable, Equatable {
    /// The context's entries for other replicas.
    public let others: VersionVector

    /// The compact form of `context`, for a change of `origin`.
    public init(_ context: VersionVector, origin: ReplicaID) {
        others = context.removing(origin)
    }

    /// Reads the compact text form; nil when it is malformed.
    public init?(text: String) {
        guard let others = VersionVector(text: text) else { return nil }
        self.others = others
    }

    /// The text kept and sent (`VersionVector`'s compact form).
    public var text: String { others.description }

    /// The whole context of the change named `dot`: the others' entries, and its origin up to
    /// the counter before it.
    public func context(of dot: Dot) -> VersionVector {
        var context = others
        if dot.counter > 1 { context.record(Dot(replica: dot.replica, counter: dot.counter - 1)) }
        return context
    }
}

extension Change {
    /// This change's context without its origin's implied entry.
    public var compactContext: CompactContext { CompactContext(context, origin: dot.replica) }
}
