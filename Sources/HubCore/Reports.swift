import Foundation
import MergeEngine
import Register
import SyncCore

/// The district's reports, read from the hub's register on either store and computed once
/// (`RegisterReports`).
extension HubStore {
    /// The register's tables a report reads, in one read transaction.
    public func registerRows(for report: String? = nil) async throws -> RegisterRows {
        try await ingestLocalEdits()
        let needed = RegisterRows.tables(for: report)
        let (tables, open) = try await storage.read { store in
            var tables: [String: [[Value]]] = [:]
            for (table, columns) in RegisterRows.columns where needed.contains(table) {
                tables[table] = try await store.tableRows(table: table, columns: columns)
            }
            return (tables, try await store.conflicts(state: .open, column: nil))
        }
        return RegisterRows(tables: tables, openItems: open)
    }
}
