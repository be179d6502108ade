import CSQLite
import Foundation
import MergeEngine
import Register
import SyncCore

/// Whose replica it is: a commune office's, or the district hub's.
public enum ReplicaRole: String, Sendable {
    case commune
    case district
}

/// A replica of the register in one ordinary SQLite file: the register tables any program may
/// write with plain SQL, the triggers that capture those writes, and the `_sync*` bookkeeping.
/// Used by `syncd` at a commune and, as the hub store, by `synchub`.
///
/// Guarantees, given SQLite's own (WAL journal, `synchronous=FULL` by default):
/// - a committed local write is captured in the same transaction, so after a crash at any
///   instant a write is either present with its captured changes or absent with none;
/// - a dot counter, once committed, is never handed out again;
/// - applying remote changes is one transaction per batch and is never captured again.
///
/// One owner at a time: wrap it in an actor to share it.
public final class Replica {
    public let database: SQLiteDatabase
    public let id: ReplicaID
    public let role: ReplicaRole
    public let schema: RegisterSchema

    /// Creates a new replica file (or adopts an empty SQLite file) for `id`.
    public static func create(
        at path: String, id: ReplicaID, role: ReplicaRole, schema: RegisterSchema = .current
    ) throws -> Replica {
        try ReplicaFileMode.prepare(path)
        let database = try SQLiteDatabase(path: path)
        try configure(database)
        try database.transaction {
            try database.execute(RegisterSchema.syncTablesSQL)
            if let existing = try database.scalar("SELECT value FROM _sync_meta WHERE key = 'replica_id'") {
                throw ReplicaError.alreadyAReplica(path: path, replica: existing.description)
            }
            for (key, value) in [("replica_id", id.rawValue), ("role", role.rawValue)] {
                try database.run("INSERT INTO _sync_meta(key, value) VALUES (?, ?)", [.text(key), .text(value)])
            }
            try database.run("INSERT INTO _sync_meta(key, value) VALUES ('schema_version', 0)")
        }
        return try Replica(database: database, schema: schema)
    }

    /// Opens the replica at `path`, or creates it when there is no file yet or only an empty
    /// SQLite file (someone ran `sqlite3` on the path before the first start). A file that
    /// holds anything else is never taken over.
    public static func openOrCreate(
        at path: String, id: ReplicaID, role: ReplicaRole, schema: RegisterSchema = .current
    ) throws -> Replica {
        if FileManager.default.fileExists(atPath: path) {
            let probe = try SQLiteDatabase(path: path, create: false)
            let isEmpty = try Self.recognising(path) { try probe.scalar("SELECT count(*) FROM sqlite_master")?.integerValue == 0 }
            if !isEmpty { return try Replica(openingExisting: path, schema: schema) }
        }
        return try create(at: path, id: id, role: role, schema: schema)
    }

    /// Turns SQLite's "not a database" and "corrupt" into a replica error that says what to do.
    static func recognising<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SQLiteError where [SQLITE_NOTADB, SQLITE_CORRUPT].contains(error.primaryCode) {
            throw ReplicaError.damaged(path: path, detail: error.message)
        }
    }

    /// Opens an existing replica file; with `.upgrade` (the default, for syncd and the hub) its
    /// schema and triggers are brought up to date in place if needed.
    public convenience init(openingExisting path: String, schema: RegisterSchema = .current, access: ReplicaAccess = .upgrade) throws {
        let database = try SQLiteDatabase(path: path, create: false, readOnly: access == .readOnly)
        try Self.recognising(path) { _ = try database.scalar("SELECT count(*) FROM sqlite_master") }
        try self.init(database: database, schema: schema, access: access)
    }

    private init(database: SQLiteDatabase, schema: RegisterSchema, access: ReplicaAccess = .upgrade) throws {
        let path = database.path
        let hasMeta = try database.scalar(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sync_meta'") != nil
        guard hasMeta else { throw ReplicaError.notAReplica(path: path) }
        func meta(_ key: String) throws -> String {
            guard let value = try database.scalar("SELECT value FROM _sync_meta WHERE key = ?", [.text(key)]) else {
                throw ReplicaError.damagedMeta(path: path, key: key)
            }
            return value.description
        }
        guard let id = ReplicaID(rawValue: try meta("replica_id")) else {
            throw ReplicaError.damagedMeta(path: path, key: "replica_id")
        }
        guard let role = ReplicaRole(rawValue: try meta("role")) else {
            throw ReplicaError.damagedMeta(path: path, key: "role")
        }
        guard let stored = Int(try meta("schema_version")) else {
            throw ReplicaError.damagedMeta(path: path, key: "schema_version")
        }
        guard stored <= schema.version else {
            throw ReplicaError.newerSchema(path: path, found: stored, supported: schema.version)
        }
        self.database = database
        self.id = id
        self.role = role
        self.schema = schema
        switch access {
        case .readOnly: return
        case .sameSchema:
            guard stored == schema.version else { throw ReplicaError.olderSchema(path: path, found: stored, expected: schema.version) }
            return
        case .upgrade: break
        }
        // Only now that the file is known to be a replica does anything change in it.
        try Self.configure(database)
        try migrate()
    }

    private static func configure(_ database: SQLiteDatabase) throws {
        // WAL lets an office program read while syncd writes and the other way round.
        try database.execute("PRAGMA journal_mode = WAL")
    }

    /// Gives conflicts recorded before kinds had a column (the kind was read from the column
    /// name) their kind, once.
    private func addConflictKinds() throws {
        let columns = try database.query("SELECT name FROM pragma_table_info('_sync_conflicts')").compactMap { $0.first?.textValue }
        guard !columns.contains("kind") else { return }
        try database.execute(
            "ALTER TABLE _sync_conflicts ADD COLUMN kind TEXT NOT NULL DEFAULT 'field' \(RegisterSchema.conflictKindCheck)")
        for column in try database.query("SELECT DISTINCT col FROM _sync_conflicts").compactMap({ $0.first?.textValue }) {
            let kind = ConflictRecord.legacyKind(of: column)
            if kind != .field { try database.run("UPDATE _sync_conflicts SET kind = ? WHERE col = ?", [.text(kind.rawValue), .text(column)]) }
        }
    }

    /// Lets `_sync_conflicts` hold every kind this build knows. SQLite cannot change a CHECK
    /// in place: a file whose table checks an older list of kinds gets the table rebuilt, every
    /// record copied with its key (`table/row/column`, the id reviewers see) and state.
    private func widenConflictKinds() throws {
        let created = try database.scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '_sync_conflicts'")?.textValue ?? ""
        guard !created.contains(RegisterSchema.conflictKindCheck) else { return }
        let columns = "tbl, pk, col, rule, sides, chosen, state, opened_hlc, closed_hlc, kind"
        try database.execute("""
            DROP TABLE IF EXISTS _sync_conflicts_widened;
            \(RegisterSchema.conflictsTableSQL(named: "_sync_conflicts_widened"))
            INSERT INTO _sync_conflicts_widened(\(columns)) SELECT \(columns) FROM _sync_conflicts;
            DROP TABLE _sync_conflicts;
            ALTER TABLE _sync_conflicts_widened RENAME TO _sync_conflicts;
            """)
    }

    /// Brings tables, columns and triggers in line with `schema`, in one transaction, keeping
    /// every row and every captured change. Runs at every open: triggers always match the code.
    private func migrate() throws {
        try database.transaction {
            try database.execute(RegisterSchema.syncTablesSQL)
            try addConflictKinds()
            try widenConflictKinds()
            let existing = Set(try database.query("SELECT name FROM sqlite_master WHERE type = 'table'").compactMap { $0.first?.textValue })
            var added: [String: [String]] = [:]
            let newTables = Set(schema.tables.map(\.name).filter { !existing.contains($0) })
            for table in schema.tables where newTables.contains(table.name) { added[table.name] = table.columns.map(\.name) }
            try database.execute(schema.registerTablesSQL)
            for table in schema.tables {
                let present = try database.query("SELECT name FROM pragma_table_info(?)", [.text(table.name)])
                    .compactMap { $0.first?.textValue }.dropFirst()  // the id
                // Captured changes name columns by position: columns are only ever appended.
                guard Array(present) == table.columns.prefix(present.count).map(\.name) else {
                    throw ReplicaError.incompatibleColumns(path: database.path, table: table.name)
                }
                for column in table.columns.dropFirst(present.count) {
                    try database.execute("ALTER TABLE \(table.name) ADD COLUMN \(column.name) \(column.type.rawValue)")
                    added[table.name, default: []].append(column.name)
                }
            }
            let triggers = try database.query(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '\\_sync\\_%' ESCAPE '\\'")
            for trigger in triggers.compactMap({ $0.first?.textValue }) {
                try database.execute("DROP TRIGGER \(trigger)")
            }
            // No capture trigger now: what the hub served before the upgrade shows without
            // being captured as this office's writes.
            try showKeptState(added, newTables: newTables)
            for table in schema.tables {
                try database.execute(CaptureTriggers.sql(for: table, role: role))
            }
            try setMeta("schema_version", .integer(Int64(schema.version)))
        }
    }

    /// Writes into the register the values of tables and columns just added that the merge
    /// state already holds: an office kept what a hub of a later release served it
    /// (`checkKnown`), and shows it as soon as its own schema has the columns.
    /// Only the added columns are written: the other columns may hold writes of this office
    /// not folded yet, which the merge state does not know.
    private func showKeptState(_ added: [String: [String]], newTables: Set<String>) throws {
        guard !added.isEmpty, try database.scalar("SELECT 1 FROM _sync_rows LIMIT 1") != nil else { return }
        let policy = try self.policy
        for (name, columns) in added.sorted(by: { $0.key < $1.key }) where !columns.isEmpty {
            guard let table = schema.table(named: name) else { continue }
            let marks = columns.map { _ in "?" }.joined(separator: ", ")
            let keys = try database.query(
                "SELECT DISTINCT pk FROM _sync_fields WHERE tbl = ? AND col IN (\(marks))", [.text(name)] + columns.map { .text($0) }
            ).compactMap { $0.first?.textValue }.map { RowKey(table: name, row: $0) }
            let update = "UPDATE \(name) SET " + columns.map { "\($0) = ?" }.joined(separator: ", ") + " WHERE id = ?"
            for (key, state) in try mergeStore.load(keys) {
                guard let values = policy.resolve(state, table: name, row: key.row).values else { continue }
                if newTables.contains(name) {
                    try database.run(table.upsertSQL, [.text(key.row)] + table.columns.map { values[$0.name] ?? .null })
                } else {
                    try database.run(update, columns.map { values[$0] ?? .null } + [.text(key.row)])
                }
            }
        }
    }

    // MARK: - Bookkeeping

    public func meta(_ key: String) throws -> Value? {
        try database.scalar("SELECT value FROM _sync_meta WHERE key = ?", [.text(key)])
    }

    public func setMeta(_ key: String, _ value: Value) throws {
        try database.run(
            "INSERT INTO _sync_meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [.text(key), value])
    }

    /// The schema version the file holds.
    public var schemaVersion: Int {
        get throws { Int(try meta("schema_version")?.integerValue ?? 0) }
    }

    /// The rule set this replica merges with: the one the hub served last, or the builtin
    /// one (last-writer-wins everywhere, seat conflicts to review) before that.
    public var rules: RuleSet {
        get throws {
            guard let text = try meta("rules")?.textValue else { return .builtin }
            return try JSONDecoder().decode(RuleSet.self, from: Data(text.utf8))
        }
    }

    /// Stores a rule set (served by the hub, or the hub's own file) inside the caller's
    /// transaction or on its own.
    public func adopt(_ rules: RuleSet) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try setMeta("rules", .text(String(decoding: try encoder.encode(rules), as: UTF8.self)))
        try setMeta("rules_version", .text(String(rules.version)))
    }

    /// The district replicas: the hub (once known) counts as the district.
    public var districtReplicas: Set<ReplicaID> {
        get throws {
            let district = try meta("district_replica")?.textValue.flatMap(ReplicaID.init(rawValue:))
            return Set([district, role == .district ? id : nil].compactMap { $0 })
        }
    }

    /// The field rules of `rules`, with this replica's idea of who the district is.
    public var policy: MergePolicy {
        get throws { try rules.policy(districtReplicas: districtReplicas) }
    }

    /// The replica's hybrid logical clock as last stamped.
    public var clock: HybridTimestamp {
        get throws {
            HybridTimestamp(rawValue: UInt64(try database.scalar("SELECT hlc FROM _sync_clock")?.integerValue ?? 0))
        }
    }
}
