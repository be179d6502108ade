import MergeEngine
import Register
import SyncCore

/// The district's changes an office pulled, kept with the hub's seal on each: the office
/// gives them back to a hub put back from an older copy (the hub checks the seal, so only
/// its own changes come back under its name). Kept in `_sync_district_changes`, made when
/// the first sealed change arrives; they survive a rebuild of the replica from the hub.
extension Replica {
    /// Keeps `changes` of the district, each with its seal from `seals` (by counter in
    /// decimal; a change without one is kept unsealed: the hub cannot take it back). Call
    /// in the transaction that applies them.
    public func keepDistrictChanges(_ changes: [Change], seals: [String: String]) throws {
        guard !changes.isEmpty else { return }
        try database.execute(Self.districtChangesSQL)
        try database.runRows(changes.map { change -> [Value] in
            var value = Value.null
            if case .set(_, let written) = change.operation { value = written }
            return [.integer(Int64(change.dot.counter)), .text(change.dot.replica.rawValue), .text(change.table), .text(change.row),
             change.column.map(Value.text) ?? .null, value, .integer(Int64(change.timestamp.rawValue)),
             .text(change.compactContext.text), seals[String(change.dot.counter)].map(Value.text) ?? .null]
        }) { "INSERT OR REPLACE INTO _sync_district_changes(counter, origin, tbl, pk, col, val, hlc, ctx, seal) VALUES \($0)" }
    }

    /// The kept district changes numbered inside one of `ranges` (above `after`, below
    /// `before`), in counter order, with their seals (nil: kept unsealed).
    public func districtChanges(in ranges: [(after: UInt64, before: UInt64)]) throws -> [(change: Change, seal: String?)] {
        guard !ranges.isEmpty, try database.scalar("SELECT 1 FROM sqlite_master WHERE name = '_sync_district_changes'") != nil
        else { return [] }
        var found: [(change: Change, seal: String?)] = []
        for range in ranges {
            try database.forEachRow(
                "SELECT counter, origin, tbl, pk, col, val, hlc, ctx, seal FROM _sync_district_changes WHERE counter > ? AND counter < ? ORDER BY counter",
                [.integer(Int64(min(range.after, UInt64(Int64.max)))), .integer(Int64(min(range.before, UInt64(Int64.max))))]
            ) { row in
                guard case .integer(let counter) = row[0], let origin = row[1].textValue.flatMap(ReplicaID.init(rawValue:)),
                    let table = row[2].textValue, let key = row[3].textValue, case .integer(let hlc) = row[6],
                    let context = row[7].textValue.flatMap(CompactContext.init(text:))
                else { throw ReplicaError.damagedMeta(path: database.path, key: "_sync_district_changes") }
                let dot = Dot(replica: origin, counter: UInt64(counter))
                let operation: Change.Operation = row[4].textValue.map { .set(column: $0, value: row[5]) } ?? .delete
                found.append((Change(table: table, row: key, operation: operation, dot: dot, context: context.context(of: dot),
                                     timestamp: HybridTimestamp(rawValue: UInt64(hlc))), row[8].textValue))
            }
        }
        return found.sorted { $0.change.dot.counter < $1.change.dot.counter }
    }

    /// Records what the last giving back left here: district changes the hub could not take
    /// back (`rows`: where they are, a few), shown by `syncctl status` until they are taken.
    public func recordDistrictChangesNotReturned(_ count: Int, rows: [String]) throws {
        try setMeta("district_unreturned", .integer(Int64(count)))
        try setMeta("district_unreturned_rows", .text(rows.prefix(5).joined(separator: " ")))
    }

    static let districtChangesSQL = """
        CREATE TABLE IF NOT EXISTS _sync_district_changes(
            counter INTEGER PRIMARY KEY, origin TEXT NOT NULL, tbl TEXT NOT NULL, pk TEXT NOT NULL, col TEXT, val,
            hlc INTEGER NOT NULL, ctx TEXT NOT NULL, seal TEXT)
        """
}
