import Foundation
import MergeEngine
import Register
import SyncCore

/// The district's reports, read from the hub's register on either store and computed once
/// (`RegisterReports`).
extension HubStore {
    /// The register's tables a report reads, in one read transaction. The staffing figures of
    /// one date (`asOf`) read the store's tally of that date's assignments (`SeatTally`) in
    /// place of every assignment and seat.
    public func registerRows(for report: String? = nil, asOf day: String? = nil) async throws -> RegisterRows {
        try await ingestLocalEdits()
        var needed = RegisterRows.tables(for: report)
        let tallied = report == "staffing" ? day : nil
        if tallied != nil { needed.subtract(["assignments", "positions"]) }
        let (tables, open, tally) = try await storage.read { store in
            var tables: [String: [[Value]]] = [:]
            for (table, columns) in RegisterRows.columns where needed.contains(table) {
                tables[table] = try await store.tableRows(table: table, columns: columns)
            }
            let open = try await store.conflicts(state: .open, column: nil)
            let named = SeatTally.Named(open.filter { $0.state == .open }.map(\.namedRows))
            var tally: SeatTally?
            if let tallied { tally = try await store.seatTally(on: tallied, named: named) }
            return (tables, open, tally)
        }
        return RegisterRows(tables: tables, openItems: open, seatTally: tally)
    }
}
