import HubCore
import Foundation
import MergeEngine
import Register
import SyncCore

/// The hub's PostgreSQL schema, generated from the one description of the register
/// (`RegisterSchema`, as SQLite's DDL is) and beside it the hub's bookkeeping: merge state,
/// district capture log, conflicts, feed, what replicas delivered or had refused,
/// credentials and reviews. Every statement is idempotent; `PostgresHubStorage` runs them
/// on first use, under the hub's write lock, and records `version` in `_sync_meta`.
enum PostgresRegisterSQL {
    /// The layout of the hub's own tables; raised whenever they change. 2: the conflict kinds
    /// duplicate and placement, persons looked up by citizen id, moves of rows between
    /// communes, the registry of replica ids. 3: district writes numbered when folded
    /// (`_sync_log.block`; rows folded before keep their seq as their block, so their dots).
    /// 4: indexes for what the rule checks look up (`HoldingCheck.lookupIndexes`), and the
    /// register's `*_id` columns in the ids' collation, so that those indexes serve joins.
    static let version = 4

    /// Keys and names compare byte by byte, as in SQLite, whatever the database's locale.
    private static let key = #"text COLLATE "C" NOT NULL"#

    static func type(_ column: ColumnType) -> String {
        switch column {
        case .text: return "text"
        case .integer: return "bigint"
        case .real: return "double precision"
        }
    }

    /// The SQL expression reading `column` of a register row as tagged text (`PostgresValueText`).
    static func tagged(_ column: ColumnSchema, of alias: String) -> String {
        let name = "\(alias).\(column.name)"
        let kind: String
        switch column.type {
        case .text: kind = "t"
        case .integer: kind = "i"
        case .real: kind = "r"
        }
        return "CASE WHEN \(name) IS NULL THEN 'n' ELSE '\(kind)' || \(name)::text END"
    }

    /// The SQL expression turning tagged text `expression` into a value of `column`'s type.
    static func untagged(_ expression: String, for column: ColumnSchema) -> String {
        "_sync_untag_\(column.type.rawValue.lowercased())(\(expression))"
    }

    /// Everything, in order, one statement each (the extended protocol takes one at a time).
    static func all(_ schema: RegisterSchema) -> [String] {
        ([functions] + schema.tables.map(registerTable) + [bookkeeping, conflictKinds, lookups(schema)] + schema.tables.map(captureTrigger))
            .flatMap(statements)
    }

    /// The statements of a script: it ends one at each line ending in ';' outside a `$$` body.
    static func statements(_ script: String) -> [String] {
        var statements: [String] = []
        var current: [Substring] = []
        var quoted = false
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            current.append(line)
            if line.components(separatedBy: "$$").count % 2 == 0 { quoted.toggle() }
            if !quoted, line.hasSuffix(";") {
                statements.append(current.joined(separator: "\n"))
                current = []
            }
        }
        let rest = current.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }

    /// Conversions from tagged text. A value of another kind than the column's converts when
    /// it can (as SQLite's column affinity does) and is NULL when it cannot: the hub refuses
    /// such values at push (`HubStore.valueProblem`), so only a reviewer's typed value gets here.
    static let functions = """
        CREATE OR REPLACE FUNCTION _sync_untag_text(v text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
          SELECT CASE WHEN left(v, 1) = 'n' THEN NULL ELSE substr(v, 2) END $$;
        CREATE OR REPLACE FUNCTION _sync_untag_integer(v text) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
          SELECT CASE WHEN left(v, 1) = 'i' THEN substr(v, 2)::bigint
                      WHEN left(v, 1) IN ('r', 't') AND substr(v, 2) ~ '^\\s*-?[0-9]+(\\.0*)?\\s*$' THEN round(substr(v, 2)::numeric)::bigint
                      ELSE NULL END $$;
        CREATE OR REPLACE FUNCTION _sync_untag_real(v text) RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
          SELECT CASE WHEN left(v, 1) IN ('i', 'r') THEN substr(v, 2)::double precision
                      WHEN left(v, 1) = 't' AND substr(v, 2) ~ '^\\s*-?[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?\\s*$' THEN substr(v, 2)::double precision
                      ELSE NULL END $$;
        """

    /// A register table as `TableSchema` describes it. Its id defaults to a random 128-bit
    /// hex id, as SQLite's does, so a program that inserts without one still mints one.
    /// Columns are only ever appended: a table of an older schema gets the new ones.
    /// A register column's type. A column naming another row (`*_id`) compares byte by byte
    /// as the ids it names do: a join of `assignments.position_id` to `positions.id` of two
    /// collations has none, and no index on either side serves it.
    static func type(of column: ColumnSchema) -> String {
        column.type == .text && column.name.hasSuffix("_id") ? #"text COLLATE "C""# : type(column.type)
    }

    static func registerTable(_ table: TableSchema) -> String {
        let columns = table.columns.map { "    \($0.name) \(type(of: $0))" }
        return """
            CREATE TABLE IF NOT EXISTS \(table.name)(
                id text COLLATE "C" PRIMARY KEY DEFAULT replace(gen_random_uuid()::text, '-', ''),
            \(columns.joined(separator: ",\n"))
            );
            COMMENT ON TABLE \(table.name) IS '\(table.summary.replacingOccurrences(of: "'", with: "''"))';
            """ + table.columns.map { "\nALTER TABLE \(table.name) ADD COLUMN IF NOT EXISTS \($0.name) \(type(of: $0));" }.joined()
            // A store of layout 3 or before made them in the database's collation.
            + table.columns.filter { type(of: $0) != type($0.type) }.map {
                "\nALTER TABLE \(table.name) ALTER COLUMN \($0.name) TYPE \(type(of: $0));"
            }.joined()
    }

    /// Capture of district staff's plain-SQL writes to `table`: one `_sync_log` row per row
    /// written, with the bitmask of the columns it changed (bit j = the table's column j; an
    /// insert changes them all) and the row's version vector as it was when written (the
    /// write supersedes what it saw). Silent in the hub's own transactions, which set
    /// `communesync.applying` (their writes are merges, or logged by `districtWrite`). A
    /// row's id never changes: it names the row on every replica.
    static func captureTrigger(_ table: TableSchema) -> String {
        let name = table.name
        let changed = table.columns.enumerated().map { slot, column in
            "    IF NEW.\(column.name) IS DISTINCT FROM OLD.\(column.name) THEN mask := mask | \(Int64(1) << slot); END IF;"
        }.joined(separator: "\n")
        let all = table.columns.indices.reduce(Int64(0)) { $0 | Int64(1) << $1 }
        return """
            CREATE OR REPLACE FUNCTION _sync_capture_\(name)() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
              mask bigint := 0;
              key text;
            BEGIN
              IF current_setting('communesync.applying', true) = 'on' THEN RETURN NULL; END IF;
              IF TG_OP = 'DELETE' THEN
                key := OLD.id;
              ELSIF TG_OP = 'INSERT' THEN
                key := NEW.id;
                mask := \(all);
              ELSE
                IF NEW.id IS DISTINCT FROM OLD.id THEN
                  RAISE EXCEPTION 'the id of a \(name) row never changes: insert a new row and delete the old one instead';
                END IF;
                key := NEW.id;
            \(changed)
                IF mask = 0 THEN RETURN NULL; END IF;
              END IF;
              INSERT INTO _sync_log(tbl, pk, op, at_ms, ctx, cols) VALUES (
                '\(name)', key, lower(TG_OP), (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
                (SELECT clock FROM _sync_rows WHERE tbl = '\(name)' AND pk = key), mask);
              RETURN NULL;
            END $$;
            DROP TRIGGER IF EXISTS _sync_capture ON \(name);
            CREATE TRIGGER _sync_capture AFTER INSERT OR UPDATE OR DELETE ON \(name)
              FOR EACH ROW EXECUTE FUNCTION _sync_capture_\(name)();
            """
    }

    static let bookkeeping = """
        -- The store's identity and progress: schema versions, district, rules, clock, counters.
        CREATE TABLE IF NOT EXISTS _sync_meta(key \(key) PRIMARY KEY, value text NOT NULL);
        -- District writes: staff's plain SQL (captured by triggers) and the hub's own
        -- (districtWrite, preset = the named columns count as written). seq only orders the
        -- writes as captured: it is taken at INSERT, not at COMMIT. Folding (under the hub's
        -- write lock) completes a row: the next block, op as settled, cols, hlc and vals (JSON
        -- array of tagged values). Column j of a row is the change with dot (district,
        -- block * 64 + j); a delete's is block * 64 + 63.
        CREATE TABLE IF NOT EXISTS _sync_log(
            seq bigserial PRIMARY KEY, tbl \(key), pk \(key), op text NOT NULL, at_ms bigint NOT NULL,
            ctx text, cols bigint NOT NULL DEFAULT 0, preset boolean NOT NULL DEFAULT false, hlc bigint, vals text);
        CREATE INDEX IF NOT EXISTS _sync_log_unfolded ON _sync_log(seq) WHERE hlc IS NULL;
        ALTER TABLE _sync_log ADD COLUMN IF NOT EXISTS block bigint;
        UPDATE _sync_log SET block = seq WHERE hlc IS NOT NULL AND block IS NULL;
        CREATE UNIQUE INDEX IF NOT EXISTS _sync_log_by_block ON _sync_log(block) WHERE block IS NOT NULL;
        -- Merge state per row (version vector, join of deletes) and per field (what it has
        -- seen, its surviving write in dot/hlc/val, concurrent ones as JSON in more).
        CREATE TABLE IF NOT EXISTS _sync_rows(
            tbl \(key), pk \(key), clock text NOT NULL, deletes text NOT NULL, PRIMARY KEY(tbl, pk));
        CREATE TABLE IF NOT EXISTS _sync_fields(
            tbl \(key), pk \(key), col \(key), seen text NOT NULL, dot text NOT NULL, hlc bigint NOT NULL,
            val text NOT NULL, more text, PRIMARY KEY(tbl, pk, col));
        -- Which commune keeps a row (RowScope): the scope column's first write.
        CREATE INDEX IF NOT EXISTS _sync_fields_scope ON _sync_fields(tbl, val, pk) WHERE col = '\(RowScope.column)';
        DO $$ BEGIN
          CREATE TYPE _sync_conflict_kind AS ENUM ('field', 'seat', 'holding', 'quota');
        EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        DO $$ BEGIN
          CREATE TYPE _sync_conflict_state AS ENUM ('open', 'settled', 'closed');
        EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        -- Conflicts: concurrent writes of a field (kind field, col = the column) and what the
        -- rules across rows found (seat, holding, quota; col names the item, as the review API
        -- shows it), or what the hub opened for review (duplicate, placement: conflictKinds).
        -- open waits for review, settled a rule decided, closed superseded since.
        CREATE TABLE IF NOT EXISTS _sync_conflicts(
            tbl \(key), pk \(key), col \(key), kind _sync_conflict_kind NOT NULL, rule text NOT NULL,
            sides text NOT NULL, chosen text NOT NULL, state _sync_conflict_state NOT NULL,
            opened_hlc bigint NOT NULL, closed_hlc bigint, PRIMARY KEY(tbl, pk, col));
        CREATE INDEX IF NOT EXISTS _sync_conflicts_standing ON _sync_conflicts(kind, state) WHERE state <> 'closed';
        -- The change feed (HubTables describes it): seq is handed out under the write lock, so
        -- positions become visible in order.
        CREATE TABLE IF NOT EXISTS _sync_hub_feed(
            seq bigint PRIMARY KEY, scope \(key), origin \(key), counter bigint NOT NULL,
            tbl \(key), pk \(key), col text, val text NOT NULL, hlc bigint NOT NULL, ctx text NOT NULL);
        CREATE INDEX IF NOT EXISTS _sync_hub_feed_by_scope ON _sync_hub_feed(scope, seq);
        -- A row's changes, for the history reviewers read beside a conflict.
        CREATE INDEX IF NOT EXISTS _sync_hub_feed_by_row ON _sync_hub_feed(tbl, pk, seq);
        CREATE UNIQUE INDEX IF NOT EXISTS _sync_hub_feed_by_dot ON _sync_hub_feed(origin, counter);
        CREATE TABLE IF NOT EXISTS _sync_hub_refused(
            origin \(key), counter bigint NOT NULL, tbl text NOT NULL, pk text NOT NULL, col text,
            code text NOT NULL, message text NOT NULL, at text NOT NULL, PRIMARY KEY(origin, counter));
        CREATE TABLE IF NOT EXISTS _sync_hub_received(origin \(key) PRIMARY KEY, counter bigint NOT NULL);
        CREATE TABLE IF NOT EXISTS _sync_hub_credentials(
            replica \(key) PRIMARY KEY, scope text NOT NULL, role text NOT NULL, sha256 text NOT NULL, issued_at text NOT NULL);
        CREATE INDEX IF NOT EXISTS _sync_hub_feed_scope_writes ON _sync_hub_feed(tbl, pk, seq) WHERE col = '\(RowScope.column)';
        CREATE TABLE IF NOT EXISTS _sync_hub_moves(
            seq bigint NOT NULL, tbl \(key), pk \(key), from_scope \(key), to_scope \(key));
        CREATE INDEX IF NOT EXISTS _sync_hub_moves_from ON _sync_hub_moves(from_scope, seq);
        CREATE INDEX IF NOT EXISTS _sync_hub_moves_to ON _sync_hub_moves(to_scope, seq);
        CREATE INDEX IF NOT EXISTS _sync_hub_moves_by_row ON _sync_hub_moves(tbl, pk);
        CREATE TABLE IF NOT EXISTS _sync_hub_told(replica \(key), seq bigint NOT NULL, counter bigint NOT NULL, PRIMARY KEY(replica, seq));
        CREATE TABLE IF NOT EXISTS _sync_hub_forgotten(tbl \(key), pk \(key), at text NOT NULL, PRIMARY KEY(tbl, pk));
        CREATE TABLE IF NOT EXISTS _sync_hub_replicas(replica \(key) PRIMARY KEY, scope text NOT NULL, issued_at text NOT NULL);
        CREATE TABLE IF NOT EXISTS _sync_hub_incarnations(floor bigint PRIMARY KEY, previous bigint NOT NULL, at text NOT NULL);
        INSERT INTO _sync_hub_replicas(replica, scope, issued_at)
            SELECT replica, scope, issued_at FROM _sync_hub_credentials WHERE role = 'commune' ON CONFLICT DO NOTHING;
        INSERT INTO _sync_hub_replicas(replica, scope, issued_at) SELECT origin, '', '' FROM _sync_hub_received ON CONFLICT DO NOTHING;
        CREATE TABLE IF NOT EXISTS _sync_hub_offices(replica \(key) PRIMARY KEY, seen_at text NOT NULL, facts text NOT NULL);
        ALTER TABLE _sync_hub_offices ADD COLUMN IF NOT EXISTS pulled bigint;
        ALTER TABLE _sync_hub_offices ADD COLUMN IF NOT EXISTS numbered bigint;
        CREATE TABLE IF NOT EXISTS _sync_hub_reviews(
            id bigserial PRIMARY KEY, conflict text NOT NULL, reviewer text NOT NULL, at text NOT NULL,
            reason text NOT NULL, pick text, value text, wrote bigint NOT NULL, previous text NOT NULL,
            reverts bigint, reverted_by bigint);
        ALTER TABLE _sync_hub_reviews ADD COLUMN IF NOT EXISTS scopes text NOT NULL DEFAULT '';
        """

    /// Kinds added to `_sync_conflict_kind` after it was first created: a store of an older
    /// layout gets them when a newer hub starts (usable once that transaction commits, which
    /// is before any hub transaction runs: `PostgresHubStorage.prepare`).
    static var conflictKinds: String {
        ConflictRecord.Kind.allCases.map { "ALTER TYPE _sync_conflict_kind ADD VALUE IF NOT EXISTS '\($0.rawValue)';" }.joined(separator: "\n")
    }

    /// Indexes for what the hub itself looks up in the register: persons by citizen id
    /// (`DuplicatePersons`), and what the rule checks read (`HoldingCheck.lookupIndexes`).
    static func lookups(_ schema: RegisterSchema) -> String {
        let citizens = DuplicatePersons.applies(to: schema)
            ? ["CREATE INDEX IF NOT EXISTS _sync_persons_by_citizen_id ON persons(\(DuplicatePersons.citizenIDColumn));"] : []
        return (citizens + HoldingCheck.lookupIndexes(schema)).joined(separator: "\n")
    }
}
