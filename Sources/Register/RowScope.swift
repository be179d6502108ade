import SyncCore

/// Which commune keeps a row, and so which offices may see and change it: the one rule
/// behind the hub's feed, snapshot, digest, row lookups and push screening, and the
/// office's digest.
///
/// Rows of reference tables (kept by the district) belong to everyone. A register row
/// belongs to the commune its `commune_id` names as merged: the first write of that field in
/// the row's merge state, so a deleted row still belongs where it was, and a row whose
/// `commune_id` is not text (or was never written) belongs to nobody.
public enum RowScope: Hashable, Sendable {
    case everyone
    case commune(String)
    case nobody

    /// The column that names a row's commune (a units.id).
    public static let column = "commune_id"

    /// The scope of a row of `table` whose scope column holds `value` in the merge state.
    public init(table: TableSchema, scopeValue value: Value?) {
        if table.owner == .district {
            self = .everyone
        } else if case .text(let unit)? = value {
            self = .commune(unit)
        } else {
            self = .nobody
        }
    }

    /// The scope of a row of `table` with merge state `state`.
    public init(table: TableSchema, state: RowState) {
        self.init(table: table, scopeValue: state.fields[Self.column]?.writes.first?.value)
    }

    /// Whether the office of commune `unit` sees the row.
    public func includes(_ unit: String) -> Bool {
        switch self {
        case .everyone: return true
        case .commune(let owner): return owner == unit
        case .nobody: return false
        }
    }

    /// As kept with a feed entry: `*` for everyone, the unit, or empty for nobody.
    public var feedScope: String {
        switch self {
        case .everyone: return "*"
        case .commune(let unit): return unit
        case .nobody: return ""
        }
    }

    /// The scope value to select rows of `table` by for the office of `unit`: nil (every row)
    /// for a reference table, whose rows are everyone's.
    public static func filter(_ table: TableSchema, for unit: String?) -> String? {
        table.owner == .district ? nil : unit
    }

    /// The SQL condition selecting the `_sync_fields` rows (of table alias `fields`) that give
    /// a row the scope `parameter` (a placeholder): the stored `val` is the first write's, as
    /// `init(table:state:)` reads it.
    package static func condition(fields: String, is parameter: String) -> String {
        "\(fields).col = '\(column)' AND \(fields).val = \(parameter)"
    }
}
