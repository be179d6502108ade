import MergeEngine
import Register
import Replica

/// What a commune should hold, read with the sqlite3 shell: its own rows of every register
/// table, all reference data, and the conflicts still standing on them (rule, sides, chosen
/// side, state). Equal text on the hub and on the commune means they converged.
public func scopeContent(_ database: String, unit: String) throws -> String {
    var parts: [String] = []
    for table in RegisterSchema.current.tables {
        let filter = table.owner == .district ? "" : " WHERE commune_id = '\(unit)'"
        parts.append("\(table.name):\n" + (try SQLiteShell.run(database, "SELECT * FROM \(table.name)\(filter) ORDER BY id;")))
    }
    let reference = RegisterSchema.current.tables.filter { $0.owner == .district }.map { "'\($0.name)'" }.joined(separator: ", ")
    parts.append("conflicts:\n" + (try SQLiteShell.run(database, """
        SELECT c.tbl, c.pk, c.col, c.rule, c.sides, c.chosen, c.state FROM _sync_conflicts c
        WHERE c.state <> 'closed' AND (c.tbl IN (\(reference)) OR EXISTS (
            SELECT 1 FROM _sync_fields f WHERE f.tbl = c.tbl AND f.pk = c.pk AND f.col = 'commune_id' AND f.val = '\(unit)'))
        ORDER BY 1, 2, 3;
        """)))
    return parts.joined(separator: "\n")
}
