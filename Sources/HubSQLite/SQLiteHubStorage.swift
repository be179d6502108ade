import HubCore
import Foundation
import MergeEngine
import Register
import Replica
import SyncConfig
import SyncCore
import SyncProtocol
import Synchronization

/// The hub's storage in one SQLite file, the embedded default: the district's own replica of
/// the register (the same replica a commune runs, whose capture triggers let district staff
/// edit with plain SQL) and the hub's tables beside it (`HubTables`).
///
/// One writer and readers beside it, as WAL allows: a read never queues behind a push.
/// - The writer connection: every write transaction (and the fold of district staff's edits)
///   takes a turn on it (`TransactionTurns`), so two transactions never interleave on it,
///   whatever actor or thread their bodies run on.
/// - Read-only connections, one per read running at once, kept for the next read
///   (`Readers`): a read sees one consistent snapshot of what was committed when it began.
///
/// `SQLiteDatabase` stops any use of one connection from two threads at once, so a slip in
/// that discipline stops the hub instead of damaging the file.
public final class SQLiteHubStorage: HubStorage, @unchecked Sendable {
    // Unchecked: `replica` (the writer) is used only inside a turn, and a reader only by the
    // read that took it from `readers`.
    let replica: Replica
    private let turns = TransactionTurns()
    private let readers: Readers
    public let district: ReplicaID
    public var schema: RegisterSchema { replica.schema }

    /// Opens the hub database at `path`, creating it (as the replica of `district`) on first
    /// use, and adopts `rules` (nil: keep the rules it holds).
    public init(path: String, district: ReplicaID, rules: RuleSet? = nil) throws {
        let replica = try Replica.openOrCreate(at: path, id: district, role: .district)
        guard replica.id == district, replica.role == .district else {
            throw HubError(status: 500, code: "wrong_database",
                           message: "\(path) is the replica of \(replica.id) (\(replica.role.rawValue)), not of district \(district): check 'database' in hub.toml")
        }
        try replica.database.execute(HubTables.sql)
        try replica.database.execute(HoldingCheck.lookupIndexes(replica.schema).joined(separator: "\n"))
        // Decisions name the communes they concern (offices learn them with their pulls);
        // a hub file from before keeps its earlier decisions unnamed.
        if try replica.database.scalar("SELECT 1 FROM pragma_table_info('_sync_hub_reviews') WHERE name = 'scopes'") == nil {
            try replica.database.execute("ALTER TABLE _sync_hub_reviews ADD COLUMN scopes TEXT NOT NULL DEFAULT ''")
        }
        // How far each office had pulled is kept with what it said (ReplicaProgress); a hub
        // file from before has it from the next pull on.
        if try replica.database.scalar("SELECT 1 FROM pragma_table_info('_sync_hub_offices') WHERE name = 'pulled'") == nil {
            try replica.database.execute("ALTER TABLE _sync_hub_offices ADD COLUMN pulled INTEGER")
        }
        if try replica.database.scalar("SELECT 1 FROM pragma_table_info('_sync_hub_offices') WHERE name = 'numbered'") == nil {
            try replica.database.execute("ALTER TABLE _sync_hub_offices ADD COLUMN numbered INTEGER")
        }
        if let rules, try replica.rules != rules { try replica.adopt(rules) }
        self.replica = replica
        self.district = district
        readers = Readers(path: path, schema: replica.schema)
        // The first office's read finds a connection ready.
        readers.giveBack(try readers.take())
    }

    public nonisolated(nonsending) func read<T>(_ body: nonisolated(nonsending) (any HubTransaction) async throws -> T) async throws -> T {
        let reader = try readers.take()
        defer { readers.giveBack(reader) }
        return try await Self.transaction(on: reader, "BEGIN DEFERRED", body)
    }

    public nonisolated(nonsending) func write<T>(_ body: nonisolated(nonsending) (any HubTransaction) async throws -> T) async throws -> T {
        try await turns.inTurn { try await Self.transaction(on: replica, "BEGIN IMMEDIATE", body) }
    }

    private nonisolated(nonsending) static func transaction<T>(
        on replica: Replica, _ begin: String, _ body: nonisolated(nonsending) (any HubTransaction) async throws -> T
    ) async throws -> T {
        let database = replica.database
        try database.execute(begin)
        do {
            let result = try await body(SQLiteHubTransaction(replica: replica))
            try database.execute("COMMIT")
            return result
        } catch {
            try? database.execute("ROLLBACK")
            throw error
        }
    }

    public nonisolated(nonsending) func hasUnfedDistrictEdits() async throws -> Bool {
        try await read { store in
            let replica = (store as! SQLiteHubTransaction).replica
            let fed = UInt64(try replica.meta(Self.fedCounter)?.integerValue ?? 0)
            return try replica.hasUnfoldedWrites || replica.counter > fed
        }
    }

    /// The read-only connections to the hub file not in use, opened as reads need them.
    final class Readers: @unchecked Sendable {
        // Unchecked: the idle connections are reached only under the mutex, and a taken one
        // belongs to its read alone until given back.
        private let idle = Mutex<[Connection]>([])
        struct Connection: @unchecked Sendable { let replica: Replica }
        private let path: String
        private let schema: RegisterSchema
        /// Idle connections kept, at most: more reads than this at once open and close their own.
        static let kept = 8

        init(path: String, schema: RegisterSchema) {
            self.path = path
            self.schema = schema
        }

        func take() throws -> Replica {
            if let reader = idle.withLock({ $0.popLast() }) { return reader.replica }
            // No memory map: the hub's file grows with every commit, and a mapped reader would
            // map it again (and fault every page in again) at each read (measured: +13 % hub CPU
            // per round under `syncbench load`).
            return try Replica(openingExisting: path, schema: schema, access: .readOnly)
        }

        func giveBack(_ reader: Replica) {
            idle.withLock { idle in
                if idle.count < Self.kept { idle.append(Connection(replica: reader)) }
            }
        }
    }

    /// `_sync_meta` key: the district's own counter up to which its writes are in the feed.
    static let fedCounter = "fed_counter"
}

/// A transaction on the hub's SQLite file: the SQL of every hub read and write.
struct SQLiteHubTransaction: HubTransaction {
    let replica: Replica
    var database: SQLiteDatabase { replica.database }

    // MARK: The district register

    nonisolated(nonsending) func rules() async throws -> RuleSet { try replica.rules }

    nonisolated(nonsending) func merge(_ changes: [Change]) async throws -> ApplyReport { try replica.apply(changes) }

    nonisolated(nonsending) func districtCounter() async throws -> UInt64 { try replica.counter }

    nonisolated(nonsending) func districtWrite(table: String, row: String, values: [String: Value]) async throws {
        try replica.write(table: table, row: row, values: values)
    }

    nonisolated(nonsending) func districtWrites(table: String, rows: [(id: String, values: [String: Value])]) async throws {
        // A local file takes each write at once: no need to batch them.
        for row in rows { try replica.write(table: table, row: row.id, values: row.values) }
    }

    nonisolated(nonsending) func presentRows(table: String, ids: [String]) async throws -> Set<String> {
        guard schema(table) != nil else { throw ApplyError.unknownTable(table) }
        var present: Set<String> = []
        for id in ids where try database.scalar("SELECT 1 FROM \(table) WHERE id = ?", [.text(id)]) != nil { present.insert(id) }
        return present
    }

    nonisolated(nonsending) func districtInsert(table: String, row: String, values: [String: Value]) async throws {
        guard schema(table) != nil else { throw ApplyError.unknownTable(table) }
        let names = values.keys.sorted()
        // The capture triggers record it, as any insert by district staff.
        try database.run(
            "INSERT INTO \(table)(id\(names.map { ", \($0)" }.joined())) VALUES (?\(String(repeating: ", ?", count: names.count)))",
            [.text(row)] + names.map { values[$0]! })
    }

    nonisolated(nonsending) func districtDelete(table: String, row: String) async throws {
        guard schema(table) != nil else { throw ApplyError.unknownTable(table) }
        // The capture triggers record it, as any delete by district staff.
        try database.run("DELETE FROM \(table) WHERE id = ?", [.text(row)])
    }

    private func schema(_ table: String) -> TableSchema? { replica.schema.table(named: table) }

    nonisolated(nonsending) func unfedDistrictEdits() async throws -> [Change] {
        try replica.fold()
        let fed = UInt64(try replica.meta(SQLiteHubStorage.fedCounter)?.integerValue ?? 0)
        return try replica.capturedChanges(after: fed)
    }

    nonisolated(nonsending) func markDistrictEditsFed(through counter: UInt64) async throws {
        try replica.setMeta(SQLiteHubStorage.fedCounter, .integer(Int64(counter)))
    }

    nonisolated(nonsending) func scopeValue(table: String, row: String) async throws -> Value? { try replica.scopeValue(table: table, row: row) }

    nonisolated(nonsending) func scopeValues(of rows: Set<RowKey>) async throws -> [RowKey: Value] {
        // A local file answers each lookup at once: no need to batch them.
        var values: [RowKey: Value] = [:]
        for key in rows { values[key] = try replica.scopeValue(table: key.table, row: key.row) }
        return values
    }

    nonisolated(nonsending) func values(table: String, row: String, columns: [String]) async throws -> [String: Value] {
        let values = try database.query("SELECT \(columns.joined(separator: ", ")) FROM \(table) WHERE id = ?", [.text(row)]).first
        return Dictionary(uniqueKeysWithValues: zip(columns, values ?? columns.map { _ in .null }))
    }

    nonisolated(nonsending) func tableRows(table: String, columns: [String]) async throws -> [[Value]] {
        guard let described = schema(table) else { throw ApplyError.unknownTable(table) }
        for column in columns where column != "id" && !described.columns.contains(where: { $0.name == column }) {
            throw ApplyError.unknownColumn(table: table, column: column)
        }
        return try database.query("SELECT \(columns.joined(separator: ", ")) FROM \(table)")
    }

    /// Two plain scans joined in memory: SQLite joins a national register's assignments to
    /// their seats one index search at a time, several times slower than a hash join here.
    /// Reading the rows out of SQLite and numbering their ids take about as long each, so a
    /// second task numbers one batch while this one reads the next.
    nonisolated(nonsending) func seatTally(on day: String, named: SeatTally.Named) async throws -> SeatTally {
        let seats = Int(try database.scalar("SELECT count(*) FROM positions")?.integerValue ?? 0)
        let (batches, reader) = AsyncStream.makeStream(of: SeatTally.Rows.self)
        let numbering = Task.detached {
            var builder = SeatTally.Builder(day: day, named: named, positions: seats)
            for await batch in batches { builder.add(batch) }
            return builder.tally()
        }
        defer { reader.finish() }
        var batch = SeatTally.Rows()
        func send() {
            reader.yield(batch)
            batch = SeatTally.Rows()
        }
        do {
            try database.forEachTextRow("SELECT id, unit_id, title_id FROM positions") { row in
                guard let id = row.bytes(0) else { return }
                batch.position(id: id, unit: row.text(1), title: row.text(2))
                if batch.count == 4096 { send() }
            }
            try database.forEachTextRow(
                """
                SELECT a.id, a.person_id, a.position_id FROM assignments a
                WHERE \(SeatTally.activeOn("?1", alias: "a")) AND a.person_id <> '' AND a.position_id IS NOT NULL
                """, [.text(day)]
            ) { row in
                guard let id = row.bytes(0), let person = row.bytes(1), let position = row.bytes(2) else { return }
                batch.assignment(id: id, person: person, position: position)
                if batch.count == 4096 { send() }
            }
        } catch {
            numbering.cancel()
            throw error
        }
        send()
        reader.finish()
        return await numbering.value
    }

    nonisolated(nonsending) func rowIDs(table: String, where column: String, is value: String, limit: Int) async throws -> [String] {
        guard let described = schema(table) else { throw ApplyError.unknownTable(table) }
        guard described.columns.contains(where: { $0.name == column }) else { throw ApplyError.unknownColumn(table: table, column: column) }
        return try database.query("SELECT id FROM \(table) WHERE \(column) = ? ORDER BY id LIMIT ?", [.text(value), .integer(Int64(limit))])
            .compactMap { $0[0].textValue }
    }

    nonisolated(nonsending) func isActiveAssignment(_ id: String) async throws -> Bool {
        try database.scalar("SELECT 1 FROM assignments a WHERE a.id = ? AND \(AssignmentTerm.isActive("a"))", [.text(id)]) != nil
    }

    nonisolated(nonsending) func communeUnit(code: String) async throws -> String? {
        try database.scalar(
            "SELECT id FROM units WHERE code = ? AND kind IN ('commune', 'ward', 'township') AND effective_to IS NULL",
            [.text(code)])?.textValue
    }

    nonisolated(nonsending) func personName(_ id: String) async throws -> String? {
        try database.scalar("SELECT full_name FROM persons WHERE id = ?", [.text(id)])?.textValue
    }

    nonisolated(nonsending) func unitName(code: String) async throws -> String? {
        try database.scalar("SELECT name FROM units WHERE code = ? ORDER BY effective_to IS NOT NULL LIMIT 1", [.text(code)])?.textValue
    }

    // MARK: Incarnations

    nonisolated(nonsending) func startIncarnation(_ incarnation: HubIncarnation) async throws {
        try replica.fold()
        try replica.reserveCounters(through: incarnation.floor)
        let floor = Int64(incarnation.floor)
        if try await feedEnd() < floor {
            // A mark, seen by no office (scope '' is nobody's): the next entry is numbered after it.
            try database.run(
                "INSERT INTO _sync_hub_feed(seq, scope, origin, counter, tbl, pk, col, val, hlc, ctx) VALUES (?, '', '', ?, '', '', NULL, NULL, 0, '')",
                [.integer(floor), .integer(floor)])
        }
        try database.run(
            "INSERT OR IGNORE INTO _sync_hub_incarnations(floor, previous, at) VALUES (?, ?, ?)",
            [.integer(floor), .integer(Int64(incarnation.previous)), .text(incarnation.at)])
    }

    nonisolated(nonsending) func incarnations() async throws -> [HubIncarnation] {
        try database.query("SELECT floor, previous, at FROM _sync_hub_incarnations ORDER BY floor").compactMap { row in
            guard case .integer(let floor) = row[0], case .integer(let previous) = row[1] else { return nil }
            return HubIncarnation(floor: UInt64(floor), previous: UInt64(previous), at: row[2].textValue ?? "")
        }
    }

    // MARK: Merge state of rows

    nonisolated(nonsending) func rowStates(table: String, after row: String, scope: String?, limit: Int) async throws -> [(String, RowState)] {
        try replica.rowStates(table: table, after: row, scope: scope, limit: limit)
    }

    nonisolated(nonsending) func rowStates(table: String, scope: String?, buckets: Set<Int>) async throws -> [(String, RowState)] {
        try replica.rowStates(table: table, scope: scope, buckets: buckets)
    }

    nonisolated(nonsending) func rowState(table: String, row: String) async throws -> RowState? { try replica.rowState(table: table, row: row) }

    nonisolated(nonsending) func rowStates(of rows: [RowKey]) async throws -> [RowKey: RowState] { try replica.rowStates(of: rows) }

    nonisolated(nonsending) func digest(scope: String?) async throws -> ScopeDigest { try replica.digest(scope: scope) }

    // MARK: The feed

    nonisolated(nonsending) func appendToFeed(_ entries: [(scope: String, change: Change)]) async throws {
        try database.runRows(entries.map { scope, change in
            [.text(scope), .text(change.dot.replica.rawValue), .integer(Int64(change.dot.counter)),
             .text(change.table), .text(change.row), change.column.map(Value.text) ?? .null, change.operation.value ?? .null,
             .integer(Int64(change.timestamp.rawValue)), .text(change.compactContext.text)]
        }) { "INSERT INTO _sync_hub_feed(scope, origin, counter, tbl, pk, col, val, hlc, ctx) VALUES \($0)" }
    }

    private static let feedColumns = "seq, origin, counter, tbl, pk, col, val, hlc, ctx"

    nonisolated(nonsending) func feed(scope: String, after seq: Int64, notFrom origin: ReplicaID, limit: Int) async throws -> [(seq: Int64, change: Change)] {
        var entries: [(seq: Int64, change: Change)] = []
        try database.forEachRow(
            "SELECT \(Self.feedColumns) FROM _sync_hub_feed WHERE scope IN (?, '*') AND seq > ? AND origin <> ? ORDER BY seq LIMIT ?",
            [.text(scope), .integer(seq), .text(origin.rawValue), .integer(Int64(limit))]
        ) { row in entries.append((row[0].integerValue ?? seq, try Self.feedChange(row))) }
        return entries
    }

    nonisolated(nonsending) func feedEnd() async throws -> Int64 {
        try database.scalar("SELECT max(seq) FROM _sync_hub_feed")?.integerValue ?? 0
    }

    nonisolated(nonsending) func dropSupersededFeed(through seq: Int64) async throws -> Int {
        try database.run(
            """
            DELETE FROM _sync_hub_feed WHERE seq <= ?1 AND col IS NOT NULL AND col <> '\(RowScope.column)'
              AND EXISTS (SELECT 1 FROM _sync_fields f WHERE f.tbl = _sync_hub_feed.tbl AND f.pk = _sync_hub_feed.pk
                          AND f.col = _sync_hub_feed.col AND f.more IS NULL
                          AND f.dot <> _sync_hub_feed.origin || ':' || _sync_hub_feed.counter)
            """, [.integer(seq)])
        return Int(try database.scalar("SELECT changes()")?.integerValue ?? 0)
    }

    nonisolated(nonsending) func deletedRows(through seq: Int64, after cursor: RowKey?, limit: Int) async throws
        -> [(key: RowKey, last: Int64, scope: String)]
    {
        var rows: [(key: RowKey, last: Int64, scope: String)] = []
        try database.forEachRow(
            """
            SELECT r.tbl, r.pk, e.seq, e.scope FROM _sync_rows r
            JOIN _sync_hub_feed e ON e.seq = (SELECT max(seq) FROM _sync_hub_feed WHERE tbl = r.tbl AND pk = r.pk)
            WHERE r.deletes <> '' AND (r.tbl, r.pk) > (?1, ?2) AND e.seq <= ?3
              AND EXISTS (SELECT 1 FROM _sync_fields f WHERE f.tbl = r.tbl AND f.pk = r.pk AND f.col <> '\(RowScope.column)')
            ORDER BY r.tbl, r.pk LIMIT ?4
            """, [.text(cursor?.table ?? ""), .text(cursor?.row ?? ""), .integer(seq), .integer(Int64(limit))]
        ) { row in
            guard let table = row[0].textValue, let key = row[1].textValue, case .integer(let last) = row[2], let scope = row[3].textValue
            else { return }
            rows.append((RowKey(table: table, row: key), last, scope))
        }
        return rows
    }

    nonisolated(nonsending) func forget(_ rows: [RowKey], at time: String) async throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let keys: [Value] = [.text(JSONText.pairs(rows.map { ($0.table, $0.row) }))]
        let named = "(tbl, pk) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1))"
        try database.run("DELETE FROM _sync_fields WHERE \(named) AND col <> '\(RowScope.column)'", keys)
        try database.run("DELETE FROM _sync_hub_feed WHERE \(named) AND col IS NOT NULL AND col <> '\(RowScope.column)'", keys)
        let dropped = Int(try database.scalar("SELECT changes()")?.integerValue ?? 0)
        try database.run(
            """
            INSERT INTO _sync_hub_forgotten(tbl, pk, at)
            SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?2 FROM json_each(?1) WHERE true
            ON CONFLICT(tbl, pk) DO UPDATE SET at = excluded.at
            """, keys + [.text(time)])
        return dropped
    }

    nonisolated(nonsending) func forgotten(among rows: Set<RowKey>) async throws -> Set<RowKey> {
        guard !rows.isEmpty else { return [] }
        var found: Set<RowKey> = []
        try database.forEachRow(
            """
            SELECT tbl, pk FROM _sync_hub_forgotten
            WHERE (tbl, pk) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1))
            """, [.text(JSONText.pairs(rows.map { ($0.table, $0.row) }))]
        ) { row in found.insert(RowKey(table: row[0].description, row: row[1].description)) }
        return found
    }

    nonisolated(nonsending) func hubMeta(_ key: String) async throws -> String? { try replica.meta(key)?.textValue }

    nonisolated(nonsending) func setHubMeta(_ key: String, _ value: String) async throws { try replica.setMeta(key, .text(value)) }

    nonisolated(nonsending) func feed(of origin: ReplicaID, after counter: UInt64, limit: Int) async throws -> [Change] {
        var changes: [Change] = []
        try database.forEachRow(
            "SELECT \(Self.feedColumns) FROM _sync_hub_feed WHERE origin = ? AND counter > ? ORDER BY counter LIMIT ?",
            [.text(origin.rawValue), .integer(Int64(min(counter, UInt64(Int64.max)))), .integer(Int64(limit))]
        ) { row in changes.append(try Self.feedChange(row)) }
        return changes
    }

    private static func feedChange(_ row: [Value]) throws -> Change {
        guard let origin = row[1].textValue.flatMap(ReplicaID.init(rawValue:)), case .integer(let counter) = row[2],
            let table = row[3].textValue, let key = row[4].textValue, case .integer(let hlc) = row[7],
            let context = row[8].textValue.flatMap(CompactContext.init(text:))
        else { throw HubError(status: 500, code: "damaged_feed", message: "a feed row is damaged: run 'syncctl doctor' on the hub") }
        let dot = Dot(replica: origin, counter: UInt64(counter))
        let operation: Change.Operation = row[5].textValue.map { .set(column: $0, value: row[6]) } ?? .delete
        return Change(table: table, row: key, operation: operation, dot: dot, context: context.context(of: dot),
                      timestamp: HybridTimestamp(rawValue: UInt64(hlc)))
    }

    nonisolated(nonsending) func rowHistory(table: String, row: String, limit: Int) async throws -> [Change] {
        var changes: [Change] = []
        try database.forEachRow(
            "SELECT \(Self.feedColumns) FROM _sync_hub_feed WHERE tbl = ? AND pk = ? ORDER BY seq DESC LIMIT ?",
            [.text(table), .text(row), .integer(Int64(limit))]
        ) { row in changes.append(try Self.feedChange(row)) }
        return changes
    }

    nonisolated(nonsending) func feedCount() async throws -> Int {
        Int(try database.scalar("SELECT count(*) FROM _sync_hub_feed")?.integerValue ?? 0)
    }

    nonisolated(nonsending) func saveOfficesSeen(_ offices: [OfficeSeen]) async throws {
        try database.runRows(offices.map {
            [.text($0.replica.rawValue), .text($0.seenAt), .integer($0.pulledThrough), $0.numbered.map { .integer(Int64(min($0, UInt64(Int64.max)))) } ?? .null,
             .text($0.facts ?? "")]
        }) {
            """
            INSERT INTO _sync_hub_offices(replica, seen_at, pulled, numbered, facts) VALUES \($0)
            ON CONFLICT(replica) DO UPDATE SET seen_at = excluded.seen_at, pulled = excluded.pulled, numbered = excluded.numbered,
                facts = CASE excluded.facts WHEN '' THEN _sync_hub_offices.facts ELSE excluded.facts END
                WHERE excluded.seen_at >= _sync_hub_offices.seen_at
            """
        }
    }

    nonisolated(nonsending) func progress() async throws -> [ReplicaProgress] {
        try database.query(ReplicaProgress.query).compactMap { row in
            ReplicaProgress(row: row[0].textValue ?? "", scope: row[1].textValue ?? "", settled: row[2].integerValue ?? 0,
                            pulled: row[3].integerValue, seenAt: row[4].textValue, factsJSON: row[5].textValue, told: row[6].integerValue,
                            numbered: row[7].integerValue)
        }
    }

    // MARK: What replicas delivered

    nonisolated(nonsending) func received(_ origin: ReplicaID) async throws -> UInt64 {
        UInt64(try database.scalar("SELECT counter FROM _sync_hub_received WHERE origin = ?", [.text(origin.rawValue)])?.integerValue ?? 0)
    }

    nonisolated(nonsending) func recordReceived(_ origin: ReplicaID, counter: UInt64) async throws {
        try database.run(
            """
            INSERT INTO _sync_hub_received(origin, counter) VALUES (?, ?)
            ON CONFLICT(origin) DO UPDATE SET counter = max(counter, excluded.counter)
            """, [.text(origin.rawValue), .integer(Int64(counter))])
    }

    nonisolated(nonsending) func settled(_ origin: ReplicaID, counters: [UInt64]) async throws -> [UInt64: SettledChange] {
        guard !counters.isEmpty else { return [:] }
        let wanted: Value = .text("[" + counters.map(String.init).joined(separator: ",") + "]")
        var settled: [UInt64: SettledChange] = [:]
        for row in try database.query(
            "SELECT counter, tbl, pk, col, code, message FROM _sync_hub_refused WHERE origin = ? AND counter IN (SELECT value FROM json_each(?))",
            [.text(origin.rawValue), wanted]) {
            guard case .integer(let counter) = row[0] else { continue }
            settled[UInt64(counter)] = .refused(Refusal(
                counter: UInt64(counter), table: row[1].textValue ?? "", row: row[2].textValue ?? "", column: row[3].textValue,
                code: row[4].textValue ?? "refused", message: row[5].textValue ?? ""))
        }
        for row in try database.query(
            "SELECT \(Self.feedColumns) FROM _sync_hub_feed WHERE origin = ? AND counter IN (SELECT value FROM json_each(?))",
            [.text(origin.rawValue), wanted]) {
            let change = try Self.feedChange(row)
            settled[change.dot.counter] = .held(change)
        }
        return settled
    }

    nonisolated(nonsending) func recordRefusals(_ refusals: [Refusal], of origin: ReplicaID, at time: String) async throws {
        for refusal in refusals {
            try database.run(
                """
                INSERT OR IGNORE INTO _sync_hub_refused(origin, counter, tbl, pk, col, code, message, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(origin.rawValue), .integer(Int64(refusal.counter)), .text(refusal.table), .text(refusal.row),
                 refusal.column.map(Value.text) ?? .null, .text(refusal.code), .text(refusal.message), .text(time)])
        }
    }

    // MARK: Credentials

    nonisolated(nonsending) func credential(of replica: ReplicaID) async throws -> StoredCredential? {
        guard let row = try database.query(
            """
            SELECT c.scope, c.role, c.sha256, c.issued_at, u.effective_to,
                   (SELECT f.hlc FROM _sync_fields f WHERE f.tbl = 'units' AND f.pk = c.scope AND f.col = 'effective_to')
            FROM _sync_hub_credentials c LEFT JOIN units u ON u.id = c.scope WHERE c.replica = ?
            """, [.text(replica.rawValue)]).first,
            let scope = row[0].textValue, let role = row[1].textValue.flatMap(Caller.Role.init(rawValue:)),
            let sha256 = row[2].textValue, let issuedAt = row[3].textValue
        else { return nil }
        return StoredCredential(
            replica: replica, scope: scope, role: role, sha256: sha256, issuedAt: issuedAt, scopeLastDay: row[4].textValue,
            scopeEndRecorded: row[5].integerValue.map { HybridTimestamp(rawValue: UInt64(bitPattern: $0)) })
    }

    nonisolated(nonsending) func credentials() async throws -> [IssuedCredential] {
        try database.query("SELECT replica, scope, role, issued_at FROM _sync_hub_credentials ORDER BY role, replica").compactMap { row in
            guard let replica = row[0].textValue.flatMap(ReplicaID.init(rawValue:)), let scope = row[1].textValue,
                let role = row[2].textValue.flatMap(Caller.Role.init(rawValue:)), let at = row[3].textValue
            else { return nil }
            return IssuedCredential(replica: replica, scope: scope, role: role, issuedAt: at)
        }
    }

    nonisolated(nonsending) func saveCredential(_ credential: StoredCredential) async throws {
        try database.run(
            """
            INSERT INTO _sync_hub_credentials(replica, scope, role, sha256, issued_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(replica) DO UPDATE SET scope = excluded.scope, role = excluded.role, sha256 = excluded.sha256,
                issued_at = excluded.issued_at
            """,
            [.text(credential.replica.rawValue), .text(credential.scope), .text(credential.role.rawValue),
             .text(credential.sha256), .text(credential.issuedAt)])
    }

    nonisolated(nonsending) func deleteCredential(of replica: ReplicaID) async throws -> Bool {
        try database.run("DELETE FROM _sync_hub_credentials WHERE replica = ?", [.text(replica.rawValue)])
        return database.changes > 0
    }

    // MARK: Conflicts and reviews

    nonisolated(nonsending) func conflicts(state: ConflictRecord.State?, column: String?) async throws -> [ConflictRecord] {
        try replica.conflicts(state: state, column: column)
    }

    nonisolated(nonsending) func conflicts(state: ConflictRecord.State?, after: String, limit: Int) async throws -> [ConflictRecord] {
        try replica.conflicts(state: state, after: after, limit: limit)
    }

    nonisolated(nonsending) func conflict(id: String) async throws -> ConflictRecord? {
        try replica.conflicts(id: id).first
    }

    nonisolated(nonsending) func conflictCounts() async throws -> (standing: Int, open: Int) {
        let row = try database.query("SELECT count(*), coalesce(sum(state = 'open'), 0) FROM _sync_conflicts WHERE state <> 'closed'").first
        return (Int(row?[0].integerValue ?? 0), Int(row?[1].integerValue ?? 0))
    }

    nonisolated(nonsending) func review(_ id: Int64) async throws -> ReviewRecord? {
        try database.query(
            "SELECT id, conflict, reviewer, at, reason, pick, value, wrote, previous, reverts, reverted_by FROM _sync_hub_reviews WHERE id = ?",
            [.integer(id)]).first.flatMap(Self.reviewRecord)
    }

    nonisolated(nonsending) func reviews(before: Int64?, limit: Int) async throws -> [ReviewRecord] {
        try database.query(
            """
            SELECT id, conflict, reviewer, at, reason, pick, value, wrote, previous, reverts, reverted_by FROM _sync_hub_reviews
            WHERE id < ? ORDER BY id DESC LIMIT ?
            """,
            [.integer(before ?? Int64.max), .integer(Int64(limit))]).compactMap(Self.reviewRecord)
    }

    nonisolated(nonsending) func decisions(inScope scope: String, after: Int64, limit: Int) async throws -> (decisions: [ReviewRecord], through: Int64) {
        let found = try database.query(
            """
            SELECT id, conflict, reviewer, at, reason, pick, value, wrote, previous, reverts, reverted_by FROM _sync_hub_reviews
            WHERE id > ? AND instr(scopes, ?) > 0 ORDER BY id LIMIT ?
            """,
            [.integer(after), .text("," + scope + ","), .integer(Int64(limit))]).compactMap(Self.reviewRecord)
        if found.count == limit, let last = found.last?.id { return (found, last) }
        return (found, max(after, try database.scalar("SELECT max(id) FROM _sync_hub_reviews")?.integerValue ?? 0))
    }

    private static func reviewRecord(_ row: [Value]) -> ReviewRecord? {
        guard let id = row[0].integerValue, let conflict = row[1].textValue, let reviewer = row[2].textValue.flatMap(ReplicaID.init(rawValue:)),
            let previous = row[8].textValue
        else { return nil }
        return ReviewRecord(
            id: id, conflict: conflict, reviewer: reviewer, at: row[3].textValue ?? "", reason: row[4].textValue ?? "",
            pick: row[5].textValue, value: row[6] == .null ? nil : row[6], wrote: Int(row[7].integerValue ?? 0),
            previous: previous, reverts: row[9].integerValue, revertedBy: row[10].integerValue)
    }

    nonisolated(nonsending) func recordReview(_ review: ReviewRecord) async throws -> Int64 {
        // The number the insert itself gave the decision, as PostgreSQL's store reads it back.
        let inserted = try database.query(
            """
            INSERT INTO _sync_hub_reviews(conflict, reviewer, at, reason, pick, value, wrote, previous, reverts, scopes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [.text(review.conflict), .text(review.reviewer.rawValue), .text(review.at), .text(review.reason),
             review.pick.map(Value.text) ?? .null, review.value ?? .null, .integer(Int64(review.wrote)),
             .text(review.previous), review.reverts.map(Value.integer) ?? .null, .text(ReviewRecord.scopesText(review.scopes))])
        guard let id = inserted.first?.first?.integerValue else {
            throw HubError(status: 500, code: "review_not_kept",
                           message: "the hub's reviews table gave the decision no number, so nothing was written: run 'syncctl doctor' on the hub")
        }
        return id
    }

    nonisolated(nonsending) func markReverted(_ id: Int64, by revert: Int64) async throws {
        try database.run("UPDATE _sync_hub_reviews SET reverted_by = ? WHERE id = ?", [.integer(revert), .integer(id)])
    }

    // MARK: Review items the hub opens itself

    nonisolated(nonsending) func openReviewItem(
        table: String, row: String, column: String, kind: ConflictRecord.Kind, rule: String, sidesJSON: String
    ) async throws -> Bool {
        try database.run(
            """
            INSERT INTO _sync_conflicts(tbl, pk, col, kind, rule, sides, chosen, state, opened_hlc, closed_hlc)
            VALUES (?, ?, ?, ?, ?, ?, '', 'open', ?, NULL)
            ON CONFLICT(tbl, pk, col) DO UPDATE SET kind = excluded.kind, rule = excluded.rule, sides = excluded.sides,
                chosen = excluded.chosen, state = excluded.state, closed_hlc = NULL,
                opened_hlc = CASE WHEN _sync_conflicts.state = 'closed' THEN excluded.opened_hlc ELSE _sync_conflicts.opened_hlc END
            WHERE _sync_conflicts.state = 'closed' OR _sync_conflicts.sides <> excluded.sides
            """,
            [.text(table), .text(row), .text(column), .text(kind.rawValue), .text(rule), .text(sidesJSON),
             .integer(Int64(try replica.clock.rawValue))])
        return database.changes > 0
    }

    nonisolated(nonsending) func closeReviewItem(table: String, row: String, column: String) async throws {
        try database.run(
            "UPDATE _sync_conflicts SET state = 'closed', closed_hlc = ? WHERE tbl = ? AND pk = ? AND col = ? AND state <> 'closed'",
            [.integer(Int64(try replica.clock.rawValue)), .text(table), .text(row), .text(column)])
    }

    nonisolated(nonsending) func closeStaleDuplicateItems() async throws {
        try database.run(
            """
            UPDATE _sync_conflicts SET state = 'closed', closed_hlc = ?
            WHERE kind = 'duplicate' AND tbl = 'persons' AND state <> 'closed' AND CASE
                WHEN col = ? THEN (SELECT count(*) FROM persons p WHERE p.citizen_id = _sync_conflicts.pk
                                   AND trim(coalesce(p.merged_into, '')) = '') < 2
                WHEN substr(col, 1, ?) = ? THEN NOT EXISTS (
                    SELECT 1 FROM persons a JOIN persons b ON b.citizen_id = a.citizen_id
                    WHERE a.id = _sync_conflicts.pk AND b.id = substr(_sync_conflicts.col, ?)
                      AND trim(a.citizen_id) <> '' AND trim(coalesce(a.merged_into, '')) = '' AND trim(coalesce(b.merged_into, '')) = '')
                ELSE 0 END
            """,
            [.integer(Int64(try replica.clock.rawValue)), .text(DuplicatePersons.column),
             .integer(Int64(DuplicatePersons.pairPrefix.count)), .text(DuplicatePersons.pairPrefix),
             .integer(Int64(DuplicatePersons.pairPrefix.count + 1))])
    }

    nonisolated(nonsending) func persons(citizenID: String) async throws -> [PersonRecord] {
        try personRecords(where: "p.citizen_id = ?", [.text(citizenID)])
    }

    nonisolated(nonsending) func rowIDs(table: String, where column: String, equals value: String) async throws -> [String] {
        guard let described = replica.schema.table(named: table) else { throw ApplyError.unknownTable(table) }
        guard described.columns.contains(where: { $0.name == column }) else { throw ApplyError.unknownColumn(table: table, column: column) }
        return try database.query("SELECT id FROM \(table) WHERE \(column) = ? ORDER BY id", [.text(value)]).compactMap { $0.first?.textValue }
    }

    nonisolated(nonsending) func personsSharingCitizenID(with ids: Set<String>) async throws -> [PersonRecord] {
        guard !ids.isEmpty else { return [] }
        // The ids travel as one JSON array: a batch may name more persons than SQLite takes parameters.
        let list = String(decoding: try JSONEncoder().encode(ids.sorted()), as: UTF8.self)
        return try personRecords(
            where: "p.citizen_id IN (SELECT citizen_id FROM persons WHERE id IN (SELECT value FROM json_each(?)) AND trim(citizen_id) <> '')",
            [.text(list)])
    }

    nonisolated(nonsending) func citizenIDs(of ids: Set<String>) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let list = String(decoding: try JSONEncoder().encode(ids.sorted()), as: UTF8.self)
        return Set(try database.query(
            "SELECT DISTINCT citizen_id FROM persons WHERE id IN (SELECT value FROM json_each(?)) AND trim(citizen_id) <> ''", [.text(list)]
        ).compactMap { $0.first?.textValue })
    }

    /// Persons records matching `condition` (on `persons p`), ordered by id, with the replica
    /// whose write of the citizen id stands.
    private func personRecords(where condition: String, _ parameters: [Value]) throws -> [PersonRecord] {
        try database.query(
            """
            SELECT p.id, p.citizen_id, p.full_name, p.birth_date, p.commune_id, p.merged_into, f.dot
            FROM persons p LEFT JOIN _sync_fields f ON f.tbl = 'persons' AND f.pk = p.id AND f.col = 'citizen_id'
            WHERE \(condition) ORDER BY p.id
            """, parameters
        ).compactMap { row in
            guard let id = row[0].textValue, let citizenID = row[1].textValue else { return nil }
            return PersonRecord(id: id, citizenID: citizenID, fullName: row[2].textValue, birthDate: row[3].textValue,
                                communeID: row[4].textValue, mergedInto: row[5].textValue,
                                origin: row[6].textValue.flatMap(Dot.init(text:))?.replica)
        }
    }
}

extension HubStore {
    /// The hub on the SQLite file at `path` (`SQLiteHubStorage`), created as the replica of
    /// `district` on first use, adopting `rules` (nil: keep the rules it holds).
    public init(path: String, district: ReplicaID, rules: RuleSet? = nil, endedOfficeDays: Int = HubLimits().endedOfficeDays,
                officeLogDays: Int = HubLimits().officeLogDays) throws {
        self.init(storage: try SQLiteHubStorage(path: path, district: district, rules: rules), endedOfficeDays: endedOfficeDays,
                  officeLogDays: officeLogDays)
    }
}
