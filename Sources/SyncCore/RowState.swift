/// The merge state of one row of one register table.
///
/// Field writes merge column by column (`FieldState`). Deletes do not erase fields: they are
/// joined into `deletes`, and the row exists while at least one surviving field write is not
/// covered by a delete. So a delete that meets a concurrent update loses, and the row comes
/// back whole ("update wins": nothing a person typed is silently lost); a delete that saw
/// every surviving write removes the row. Inserting captures every column, so a row created
/// again after a delete shows only its new values.
public struct RowState: Hashable, Sendable {
    public private(set) var fields: [String: FieldState]
    /// Join of the dots and contexts of every delete delivered.
    public private(set) var deletes: VersionVector
    /// Join of the dots and contexts of every change delivered: the row's version vector,
    /// which is the context of the next local write.
    public private(set) var clock: VersionVector

    public init() {
        fields = [:]
        deletes = VersionVector()
        clock = VersionVector()
    }

    public init(fields: [String: FieldState], deletes: VersionVector, clock: VersionVector) {
        self.fields = fields
        self.deletes = deletes
        self.clock = clock
    }

    /// Merges one change of this row. Pure: the result depends only on the set of changes
    /// delivered so far, whatever their order and however often each was delivered.
    @discardableResult
    public mutating func apply(_ change: Change) -> MergeOutcome {
        let alreadyKnown = clock.covers(change.dot)
        clock.join(change.context)
        clock.record(change.dot)
        switch change.operation {
        case .set(let column, let value):
            return fields[column, default: FieldState()].apply(
                dot: change.dot, context: change.context, timestamp: change.timestamp, value: value)
        case .delete:
            if alreadyKnown && deletes.covers(change.dot) { return .duplicate }
            deletes.join(change.context)
            deletes.record(change.dot)
            return isLive ? .concurrent : .applied
        }
    }

    /// Joins another replica's state of the same row (state-based merge, used to install a
    /// snapshot): the result is the state of a replica that received both sets of changes.
    public mutating func merge(_ other: RowState) {
        clock.join(other.clock)
        deletes.join(other.deletes)
        for (column, theirs) in other.fields {
            fields[column, default: FieldState()].merge(theirs)
        }
    }

    /// The row exists: some surviving write was not seen by any delete (update wins).
    public var isLive: Bool { isLive(under: .updateWins) }

    /// Whether the row exists under a delete rule. Under `.deleteWins` a delete beats a
    /// concurrent update: the row lives only if some field was written after its writer had
    /// seen every delete (the field's `seen` covers the row's delete vector), i.e. the row was
    /// deliberately created again. Both are functions of the state, so order-independent.
    public func isLive(under rule: DeleteRule) -> Bool {
        switch rule {
        case .updateWins:
            return fields.values.contains { field in field.writes.contains { !deletes.covers($0.dot) } }
        case .deleteWins:
            if deletes.isEmpty { return isLive(under: .updateWins) }
            return fields.values.contains { field in
                field.writes.contains { !deletes.covers($0.dot) } && deletes.compare(field.seen) != .after
                    && deletes.compare(field.seen) != .concurrent
            }
        }
    }

    /// The row was deleted: it has a delete and no write escaped it.
    public var isDeleted: Bool { !deletes.isEmpty && !isLive }
}
