import Register

/// SQL generated from the register description: the register tables themselves and the
/// sync bookkeeping beside them (tables whose names start with `_sync`).
extension RegisterSchema {
    /// `CREATE TABLE` for every register table. The primary key defaults to a random
    /// 128-bit hex id, so a program that inserts without an id still mints a unique one.
    public var registerTablesSQL: String {
        tables.map { $0.createSQL }.joined(separator: "\n")
    }

    /// The bookkeeping tables. Their layout is described beside each table.
    public static let syncTablesSQL = """
        -- Replica identity and progress: replica_id, role, schema_version, folded_seq, ...
        CREATE TABLE IF NOT EXISTS _sync_meta(key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
        -- Every write made on this replica, captured by triggers in the writer's own
        -- transaction: one row per row written, with the operation, the wall clock (ms) and the
        -- row's version vector as syncd had recorded it (ctx; the replica's own entry is
        -- implied). syncd completes a row when it folds it: cols, the bitmask of the columns
        -- that changed (bit j = the table's column j), vals, their values as a JSON array, and
        -- hlc, the hybrid logical clock stamp. Column j of row seq is the change with dot
        -- (replica_id, seq * 64 + j); a delete's dot is seq * 64 + 63.
        -- Rows are never deleted, so seq (and with it every dot) is never handed out twice.
        CREATE TABLE IF NOT EXISTS _sync_log(
            seq INTEGER PRIMARY KEY,
            tbl TEXT NOT NULL, pk TEXT NOT NULL, op TEXT NOT NULL, at_ms INTEGER NOT NULL, ctx TEXT,
            cols INTEGER, vals TEXT, hlc INTEGER);
        -- The replica's hybrid logical clock (one row), advanced by syncd as it folds local
        -- writes and applies remote changes.
        CREATE TABLE IF NOT EXISTS _sync_clock(hlc INTEGER NOT NULL);
        INSERT INTO _sync_clock(hlc) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM _sync_clock);
        -- Holds a row only inside syncd's own transactions that apply remote changes, so the
        -- capture triggers stay silent for them. Always empty otherwise.
        CREATE TABLE IF NOT EXISTS _sync_applying(since INTEGER);
        -- Merge state per row: its version vector and the join of the deletes it has seen.
        CREATE TABLE IF NOT EXISTS _sync_rows(
            tbl TEXT NOT NULL, pk TEXT NOT NULL, clock TEXT NOT NULL, deletes TEXT NOT NULL,
            PRIMARY KEY(tbl, pk)) WITHOUT ROWID;
        -- Merge state per field: what the field has seen and its surviving write(s): the first
        -- in dot/hlc/val, any concurrent ones (rare) in more.
        CREATE TABLE IF NOT EXISTS _sync_fields(
            tbl TEXT NOT NULL, pk TEXT NOT NULL, col TEXT NOT NULL, seen TEXT NOT NULL,
            dot TEXT NOT NULL, hlc INTEGER NOT NULL, val, more TEXT,
            PRIMARY KEY(tbl, pk, col)) WITHOUT ROWID;
        -- Fields that hold concurrent writes, how the rule settled them, and their state:
        -- open (waits for review), settled (a rule decided), closed (superseded since). kind:
        -- field (concurrent writes of column col), or found by a domain rule across rows: seat,
        -- holding, quota (col then names the rule's record: *holders, *titles, ...); or opened
        -- by the hub: duplicate (*duplicate:OTHER_ID on a persons row), placement.
        \(conflictsTableSQL(named: "_sync_conflicts"))
        -- Changes of this replica the hub refused (out of scope, too large, ...), by dot counter,
        -- with the hub's code and message. state: open (nothing done yet), retried (the row was
        -- sent again as it stands), clearing (the office dropped it: syncd puts the row back as
        -- the hub holds it), cleared.
        CREATE TABLE IF NOT EXISTS _sync_refused(
            counter INTEGER PRIMARY KEY, tbl TEXT NOT NULL, pk TEXT NOT NULL, col TEXT,
            code TEXT NOT NULL, message TEXT NOT NULL, at TEXT NOT NULL, state TEXT NOT NULL);
        """
}

extension RegisterSchema {
    /// The check on `_sync_conflicts.kind`: every kind this build knows (`ConflictRecord.Kind`).
    static var conflictKindCheck: String {
        "CHECK (kind IN (" + ConflictRecord.Kind.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ") + "))"
    }

    /// `_sync_conflicts` as this build has it, under `name` (a file with an older kind check
    /// is rebuilt through a table of another name: `Replica.widenConflictKinds`).
    static func conflictsTableSQL(named name: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(name)(
            tbl TEXT NOT NULL, pk TEXT NOT NULL, col TEXT NOT NULL, rule TEXT NOT NULL,
            sides TEXT NOT NULL, chosen TEXT NOT NULL, state TEXT NOT NULL,
            opened_hlc INTEGER NOT NULL, closed_hlc INTEGER,
            kind TEXT NOT NULL DEFAULT 'field' \(conflictKindCheck),
            PRIMARY KEY(tbl, pk, col)) WITHOUT ROWID;
        """
    }
}

extension TableSchema {
    var createSQL: String {
        let columnsSQL = columns.enumerated().map { index, column in
            "    \(column.name) \(column.type.rawValue)\(index == columns.count - 1 ? "" : ",")  -- \(column.summary)"
        }
        return """
            -- \(summary)
            CREATE TABLE IF NOT EXISTS \(name)(
                id TEXT PRIMARY KEY NOT NULL DEFAULT (lower(hex(randomblob(16)))),  -- minted where the row is created
            \(columnsSQL.joined(separator: "\n"))
            );
            """
    }
}

extension RegisterSchema {
    /// The schema document kept in `Config/schema.sql`: what a replica file holds, for people
    /// and for other SQLite programs. Generated, never edited by hand (`syncctl schema`).
    public var document: String {
        """
        -- CommuneSync register schema, version \(version).
        -- Generated by 'syncctl schema' from Sources/Replica/Register.swift; do not edit.
        -- Register tables: plain SQLite tables any program may read and write.
        -- Columns are only ever appended (captured changes name columns by position).

        \(registerTablesSQL)

        -- Sync bookkeeping (syncd's; other programs only read it).
        \(RegisterSchema.syncTablesSQL)

        """
    }
}
