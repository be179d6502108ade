import Foundation
import MergeEngine
import Register
import SyncCore

extension Replica {
    /// The digest of the rows this replica holds in `scope` (a commune's units.id: rows of
    /// register tables whose `commune_id` is it, and every row of the reference tables; nil:
    /// every row), leaving out the rows named in `excluding` (table → ids).
    public func digest(scope: String?, excluding: [String: Set<String>] = [:]) throws -> ScopeDigest {
        var tables: [String: ScopeDigest.Table] = [:]
        // Tables of a later schema than this file's are in the merge state only (`checkKnown`);
        // they are summed too (every row: which are in scope is the newer schema's to say).
        let later = scope == nil && role == .commune ? try tablesBeyondSchema() : []
        for (name, filter) in schema.tables.map({ ($0.name, RowScope.filter($0, for: scope)) }) + later.map({ ($0, nil) }) {
            var sums = ScopeDigest.Table()
            let skip = excluding[name] ?? []
            try forEachRowState(table: name, scope: filter) { row, state in
                guard !skip.contains(row) else { return }
                sums.rows += 1
                let bucket = ScopeDigest.bucket(table: name, row: row)
                sums.buckets[bucket] = sums.buckets[bucket] &+ ScopeDigest.hash(table: name, row: row, state: state)
            }
            tables[name] = sums
        }
        return ScopeDigest(tables: tables)
    }

    /// Tables this replica holds merge state of that its schema does not have (a hub of a later
    /// release served them), by name.
    public func tablesBeyondSchema() throws -> [String] {
        try database.query("SELECT DISTINCT tbl FROM _sync_rows ORDER BY tbl").compactMap { $0.first?.textValue }
            .filter { schema.table(named: $0) == nil }
    }

    /// The rows of `table` in `scope` that fall into `buckets`, with their merge state.
    public func rowStates(table: String, scope: String?, buckets: Set<Int>) throws -> [(String, RowState)] {
        var rows: [(String, RowState)] = []
        try forEachRowState(table: table, scope: scope) { row, state in
            if buckets.contains(ScopeDigest.bucket(table: table, row: row)) { rows.append((row, state)) }
        }
        return rows
    }

    /// One row's merge state; nil when this replica holds nothing of it.
    public func rowState(table: String, row: String) throws -> RowState? {
        let state = try mergeStore.load(table: table, row: row)
        return state == RowState() ? nil : state
    }

    /// The merge states of `rows` this replica holds something of.
    public func rowStates(of rows: [RowKey]) throws -> [RowKey: RowState] {
        try mergeStore.load(rows).filter { $0.value != RowState() }
    }

    /// Takes the hub's state of rows it forgot (`HubStore.forgetDeletedRows`): a dead row whose
    /// fields the hub dropped, keeping its clock, deletes and commune. Merging cannot drop
    /// fields, so a row's state is replaced, and only when that loses nothing: the row is dead
    /// here too and the hub's clock covers everything this replica knows of it. Returns the
    /// rows replaced.
    @discardableResult
    public func adoptForgotten(_ rows: [(key: RowKey, state: RowState)]) throws -> [RowKey] {
        var adopted: [RowKey] = []
        try database.transaction {
            let mine = try mergeStore.load(rows.map(\.key))
            for (key, theirs) in rows {
                guard let ours = mine[key], ours != theirs, theirs.isDeleted, ours.isDeleted,
                    Self.covers(theirs.clock, ours.clock), Self.covers(theirs.deletes, ours.deletes),
                    Set(theirs.fields.keys).isSubset(of: ours.fields.keys)
                else { continue }
                try database.run("DELETE FROM _sync_fields WHERE tbl = ? AND pk = ?", [.text(key.table), .text(key.row)])
                try mergeStore.save([(key, theirs, Set(theirs.fields.keys))])
                adopted.append(key)
            }
        }
        return adopted
    }

    static func covers(_ a: VersionVector, _ b: VersionVector) -> Bool {
        let order = a.compare(b)
        return order == .equal || order == .after
    }

    /// Every row of `table` in `scope` with its merge state, read with two queries in row order
    /// rather than two per row.
    public func forEachRowState(table: String, scope: String?, _ body: (String, RowState) throws -> Void) throws {
        let inScope = scope == nil ? "" : """
             AND pk IN (SELECT f.pk FROM _sync_fields f WHERE f.tbl = ?1 AND \(RowScope.condition(fields: "f", is: "?2")))
            """
        let parameters: [Value] = scope.map { [.text(table), .text($0)] } ?? [.text(table)]
        var headers: [(String, VersionVector, VersionVector)] = []
        try database.forEachRow("SELECT pk, clock, deletes FROM _sync_rows WHERE tbl = ?1\(inScope) ORDER BY pk", parameters) { row in
            guard let key = row[0].textValue, let clock = row[1].textValue.flatMap(VersionVector.init(text:)),
                let deletes = row[2].textValue.flatMap(VersionVector.init(text:))
            else { throw ReplicaError.damagedMeta(path: database.path, key: "_sync_rows \(table)") }
            headers.append((key, clock, deletes))
        }
        var fields: [String: [String: FieldState]] = [:]
        let decoder = JSONDecoder()
        try database.forEachRow(
            "SELECT pk, col, seen, dot, hlc, val, more FROM _sync_fields WHERE tbl = ?1\(inScope)", parameters
        ) { field in
            guard let key = field[0].textValue, let column = field[1].textValue,
                let seen = field[2].textValue.flatMap(VersionVector.init(text:)),
                let dot = field[3].textValue.flatMap(Dot.init(text:)), case .integer(let hlc) = field[4]
            else { throw ReplicaError.damagedMeta(path: database.path, key: "_sync_fields \(table)") }
            var writes = [FieldWrite(dot: dot, timestamp: HybridTimestamp(rawValue: UInt64(hlc)), value: field[5])]
            if let more = field[6].textValue {
                writes += try decoder.decode([FieldWrite].self, from: Data(more.utf8))
            }
            fields[key, default: [:]][column] = FieldState(writes: writes, seen: seen)
        }
        for (key, clock, deletes) in headers {
            try body(key, RowState(fields: fields[key] ?? [:], deletes: deletes, clock: clock))
        }
    }
}

extension Replica {
    /// Keeps the outcome of a comparison with the hub, for `syncctl status`.
    public func recordDigestCheck(matched: Bool, differing: [String], repaired: Int, at time: Date) throws {
        try database.transaction {
            let now = time.formatted(.iso8601)
            try setMeta("digest_checked_at", .text(now))
            if matched { try setMeta("digest_matched_at", .text(now)) }
            try setMeta("digest_differing", .integer(Int64(differing.count)))
            try setMeta("digest_differing_rows", .text(differing.prefix(5).joined(separator: " ")))
            try setMeta("digest_repaired", .integer((try meta("digest_repaired")?.integerValue ?? 0) + Int64(repaired)))
        }
    }
}
