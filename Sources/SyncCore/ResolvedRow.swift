/// What a row looks like once its fields are settled: the values a table row shows and the
/// conflicts behind them.
public struct ResolvedRow: Hashable, Sendable {
    /// nil when the row does not exist (never written, or deleted).
    public let values: [String: Value]?
    /// Conflicts in column order.
    public let conflicts: [FieldConflict]
}

extension MergePolicy {
    /// Settles every field of a row.
    public func resolve(_ state: RowState, table: String, row: String) -> ResolvedRow {
        var values: [String: Value] = [:]
        var conflicts: [FieldConflict] = []
        for column in state.fields.keys.sorted() {
            let resolution = resolve(state.fields[column]!, table: table, row: row, column: column)
            values[column] = resolution.value
            if let conflict = resolution.conflict { conflicts.append(conflict) }
        }
        return ResolvedRow(values: state.isLive(under: deleteRule) ? values : nil, conflicts: conflicts)
    }
}
