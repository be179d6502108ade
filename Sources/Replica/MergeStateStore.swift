import Foundation
import SyncCore

/// The merge state of rows (`RowState` of the core) as kept in `_sync_rows` and
/// `_sync_fields`: loaded before a change is merged, saved after.
struct MergeStateStore {
    let database: SQLiteDatabase
    private let decoder = JSONDecoder()
    private let encoder = JSONEncoder()

    init(database: SQLiteDatabase) {
        self.database = database
    }

    func load(table: String, row: String) throws -> RowState {
        let key: [Value] = [.text(table), .text(row)]
        guard let header = try database.query("SELECT clock, deletes FROM _sync_rows WHERE tbl = ? AND pk = ?", key).first
        else { return RowState() }
        var fields: [String: FieldState] = [:]
        try database.forEachRow("SELECT col, seen, dot, hlc, val, more FROM _sync_fields WHERE tbl = ? AND pk = ?", key) { field in
            guard let column = field[0].textValue, let seen = field[1].textValue.flatMap(VersionVector.init(text:)),
                let dot = field[2].textValue.flatMap(Dot.init(text:)), case .integer(let hlc) = field[3]
            else { throw ReplicaError.damagedMeta(path: database.path, key: "_sync_fields \(table)/\(row)") }
            var writes = [FieldWrite(dot: dot, timestamp: HybridTimestamp(rawValue: UInt64(hlc)), value: field[4])]
            if let more = field[5].textValue {
                writes += try decoder.decode([FieldWrite].self, from: Data(more.utf8))
            }
            fields[column] = FieldState(writes: writes, seen: seen)
        }
        return RowState(
            fields: fields,
            deletes: header[1].textValue.flatMap(VersionVector.init(text:)) ?? VersionVector(),
            clock: header[0].textValue.flatMap(VersionVector.init(text:)) ?? VersionVector())
    }

    /// Saves each row's header and its named fields (the others did not change), many rows
    /// per statement.
    func save(_ rows: [(key: RowKey, state: RowState, columns: Set<String>)]) throws {
        try database.runRows(rows.map { [.text($0.key.table), .text($0.key.row), .text($0.state.clock.description), .text($0.state.deletes.description)] }) {
            """
            INSERT INTO _sync_rows(tbl, pk, clock, deletes) VALUES \($0)
            ON CONFLICT(tbl, pk) DO UPDATE SET clock = excluded.clock, deletes = excluded.deletes
            """
        }
        var fields: [[Value]] = []
        for row in rows {
            for column in row.columns {
                guard let field = row.state.fields[column], let first = field.writes.first else { continue }
                let more: Value = field.writes.count > 1
                    ? .text(String(decoding: try encoder.encode(Array(field.writes.dropFirst())), as: UTF8.self)) : .null
                fields.append([.text(row.key.table), .text(row.key.row), .text(column), .text(field.seen.description),
                               .text(first.dot.description), .integer(Int64(first.timestamp.rawValue)), first.value, more])
            }
        }
        try database.runRows(fields) {
            """
            INSERT INTO _sync_fields(tbl, pk, col, seen, dot, hlc, val, more) VALUES \($0)
            ON CONFLICT(tbl, pk, col) DO UPDATE SET seen = excluded.seen, dot = excluded.dot,
                hlc = excluded.hlc, val = excluded.val, more = excluded.more
            """
        }
    }
}
