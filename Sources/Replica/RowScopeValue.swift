import Register
import SyncCore

extension Replica {
    /// The value a row's merge state holds for the scope column (see `RowScope`).
    public func scopeValue(table: String, row: String) throws -> Value? {
        try database.scalar(
            "SELECT f.val FROM _sync_fields f WHERE f.tbl = ? AND f.pk = ? AND f.col = '\(RowScope.column)'", [.text(table), .text(row)])
    }
}
