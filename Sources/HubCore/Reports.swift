import Foundation
import MergeEngine
import Register
import SyncCore

/// The district's reports, read from the hub's register on either store and computed once
/// (`RegisterReports`).
extension HubStore {
    /// The register's tables a report reads, in one read transaction.
    public func registerRows() async throws -> RegisterRows {
        try await ingestLocalEdits()
        let (tables, open) = try await storage.read { store in
            var tables: [String: [[Value]]] = [:]
            for (table, columns) in RegisterRows.columns { tables[table] = try await store.tableRows(table: table, columns: columns) }
            return (tables, try await store.conflicts(state: .open, column: nil))
        }
        return RegisterRows(tables: tables, openItems: open)
    }
}
