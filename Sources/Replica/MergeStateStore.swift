import Foundation
import MergeEngine
import Register
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
        try load([RowKey(table: table, row: row)])[RowKey(table: table, row: row)] ?? RowState()
    }

    /// The merge states of `keys` in two queries however many (the keys travel as one JSON
    /// parameter); a row the replica holds nothing of is left out.
    func load(_ keys: some Collection<RowKey>) throws -> [RowKey: RowState] {
        guard !keys.isEmpty else { return [:] }
        // One row (most of an office's writes, each push of one record): plain equality.
        let named = keys.count == 1
            ? "tbl = ?1 AND pk = ?2" : "(tbl, pk) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1))"
        let parameters: [Value] = keys.count == 1
            ? [.text(keys.first!.table), .text(keys.first!.row)] : [.text(JSONText.pairs(keys.map { ($0.table, $0.row) }))]
        var headers: [RowKey: (clock: VersionVector, deletes: VersionVector)] = [:]
        var fields: [RowKey: [String: FieldState]] = [:]
        try database.forEachRow("SELECT tbl, pk, clock, deletes FROM _sync_rows WHERE \(named)", parameters) { header in
            headers[RowKey(table: header[0].description, row: header[1].description)] = (
                header[2].textValue.flatMap(VersionVector.init(text:)) ?? VersionVector(),
                header[3].textValue.flatMap(VersionVector.init(text:)) ?? VersionVector())
        }
        guard !headers.isEmpty else { return [:] }
        try database.forEachRow("SELECT tbl, pk, col, seen, dot, hlc, val, more FROM _sync_fields WHERE \(named)", parameters) { field in
            let key = RowKey(table: field[0].description, row: field[1].description)
            guard headers[key] != nil else { return }  // no header: the row holds no state (as one load finds)
            guard let column = field[2].textValue, let seen = field[3].textValue.flatMap(VersionVector.init(text:)),
                let dot = field[4].textValue.flatMap(Dot.init(text:)), case .integer(let hlc) = field[5]
            else { throw ReplicaError.damagedMeta(path: database.path, key: "_sync_fields \(key.table)/\(key.row)") }
            var writes = [FieldWrite(dot: dot, timestamp: HybridTimestamp(rawValue: UInt64(hlc)), value: field[6])]
            if let more = field[7].textValue {
                writes += try decoder.decode([FieldWrite].self, from: Data(more.utf8))
            }
            fields[key, default: [:]][column] = FieldState(writes: writes, seen: seen)
        }
        return headers.reduce(into: [:]) { states, header in
            states[header.key] = RowState(fields: fields[header.key] ?? [:], deletes: header.value.deletes, clock: header.value.clock)
        }
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
