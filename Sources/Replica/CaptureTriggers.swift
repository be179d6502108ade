import MergeEngine
import Register

/// The triggers that capture every write to the register, made by any SQLite client, in the
/// writer's own transaction, using built-in SQL only.
///
/// A written row costs one small `_sync_log` row: the operation, the wall clock and the row's
/// context. Which columns changed, their values and the clock stamp are settled by syncd when
/// it folds the log (`foldLocalChanges`), off the writer's path: the capture keeps more than
/// half of plain SQLite's write rate (`syncbench capture`).
enum CaptureTriggers {
    /// Names of every trigger this module creates start with this prefix.
    static let prefix = "_sync_"

    /// Silent while syncd applies remote changes (they must not be captured again).
    static let notApplying = "NOT EXISTS (SELECT 1 FROM _sync_applying)"

    static func sql(for table: TableSchema, role: ReplicaRole) -> String {
        precondition(table.columns.count <= WriteFold.maxColumns, "\(table.name): more columns than a change mask holds")
        var statements = [capture(table), pinPrimaryKey(table)]
        if role == .commune && table.owner == .district {
            statements.append(refuseLocalWrites(table))
        }
        return statements.joined(separator: "\n")
    }

    private static func capture(_ table: TableSchema) -> String {
        let name = table.name
        return [("INSERT", "NEW", LogEntry.Operation.insert), ("UPDATE", "NEW", .update), ("DELETE", "OLD", .delete)]
            .map { event, row, operation in
                """
                CREATE TRIGGER \(prefix)capture_\(name)_\(operation.rawValue) AFTER \(event) ON \(name)
                WHEN \(notApplying)
                BEGIN
                  INSERT INTO _sync_log(tbl, pk, op, at_ms, ctx) VALUES (
                    '\(name)', \(row).id, '\(operation.rawValue)',
                    CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER),
                    (SELECT clock FROM _sync_rows WHERE tbl = '\(name)' AND pk = \(row).id));
                END;
                """
            }.joined(separator: "\n")
    }

    /// A row's id names it on every replica; changing it would orphan its history.
    private static func pinPrimaryKey(_ table: TableSchema) -> String {
        """
        CREATE TRIGGER \(prefix)pin_\(table.name)_id BEFORE UPDATE OF id ON \(table.name)
        WHEN NEW.id IS NOT OLD.id
        BEGIN
          SELECT RAISE(ABORT, 'the id of a \(table.name) row never changes: insert a new row and delete the old one instead');
        END;
        """
    }

    /// Reference data belongs to the district: a commune replica takes it only from the hub.
    private static func refuseLocalWrites(_ table: TableSchema) -> String {
        let message = "\(table.name) are managed by the district hub; ask the district office to change them"
        return ["INSERT", "UPDATE", "DELETE"].map { operation in
            """
            CREATE TRIGGER \(prefix)refuse_\(table.name)_\(operation.lowercased()) BEFORE \(operation) ON \(table.name)
            WHEN \(notApplying)
            BEGIN
              SELECT RAISE(ABORT, '\(message)');
            END;
            """
        }.joined(separator: "\n")
    }
}
