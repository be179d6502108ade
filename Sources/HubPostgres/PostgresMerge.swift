import HubCore
import Foundation
import PostgresNIO
import MergeEngine
import Register
import SyncCore

/// Merging on the PostgreSQL store, with the same meaning as `Replica.apply` on SQLite: the
/// pure `MergeBatch` does the merge; around it, a batch costs a bounded number of statements
/// however many changes it holds (states loaded with two queries, merge state, register rows
/// per table, conflict records and the rules across rows each saved set-based).
///
/// District staff's plain-SQL writes (captured by `PostgresRegisterSQL.captureTrigger`) are
/// folded first, as a replica folds its own writes before it applies others': they become
/// changes with the district's dots, which supersede every side they saw.
///
/// What keeps every committed district write in the feed: a write's dots are handed out when
/// it is folded, under the hub's write lock, above every district dot handed out before
/// (`_sync_log.block`), never from its `seq`. A `seq` is taken when staff's statement runs,
/// not when their transaction commits, so a write holding seq n may become visible after one
/// holding n + 1 was folded and fed; numbered by its seq, its dots would fall below what the
/// offices already hold of the district and never be fed (issue 28). Folded by "not folded
/// yet" and numbered at fold time, it is fed whenever it commits. The merge also locks the
/// register rows other replicas' changes will write before it reads the log, so a staff write
/// of such a row either committed before (and is folded now, under the merge) or waits for
/// the hub's commit: the hub never writes a row over a staff write it has not folded.
extension PostgresHubTransaction {
    nonisolated(nonsending) func merge(_ changes: [Change]) async throws -> ApplyReport {
        for change in changes {
            guard let table = schema.table(named: change.table) else { throw ApplyError.unknownTable(change.table) }
            if let column = change.column, !table.columns.contains(where: { $0.name == column }) {
                throw ApplyError.unknownColumn(table: change.table, column: column)
            }
        }
        let rules = try await turn.rules(meta)
        try await lockRegisterRows(changes.map { RowKey(table: $0.table, row: $0.row) })
        var (batch, leftForNewer) = try await foldDistrictEdits()
        try await load(changes.map { RowKey(table: $0.table, row: $0.row) }, into: &batch)
        var (report, latest) = batch.apply(changes)
        // The clock moves past every stamp seen, never further than the bound ahead of now.
        latest = min(latest, HybridLogicalClock.bound(physicalMillis: Self.physicalMillis()))
        try await turn.raiseClock(to: Int64(bitPattern: latest.rawValue), meta: meta)
        report.rowsMaterialised = try await save(batch, rules: rules, keeping: leftForNewer)
        return report
    }

    nonisolated(nonsending) func districtWrites(table: String, rows: [(id: String, values: [String: Value])]) async throws {
        try turn.wholeDistrict("a district write")
        guard let described = schema.table(named: table) else { throw ApplyError.unknownTable(table) }
        // Rows that write the same columns go together: one UPDATE and one log insert each.
        for (names, group) in Dictionary(grouping: rows, by: { $0.values.keys.sorted() }) where !names.isEmpty {
            var mask: Int64 = 0
            let columns = try names.map { name in
                guard let slot = described.columns.firstIndex(where: { $0.name == name }) else {
                    throw ApplyError.unknownColumn(table: table, column: name)
                }
                mask |= Int64(1) << slot
                return described.columns[slot]
            }
            let ids = group.map(\.id)
            let arrays = columns.map { column in group.map { PostgresValueText.tag($0.values[column.name]!) } }
            let sets = columns.enumerated().map { index, column in
                "\(column.name) = \(PostgresRegisterSQL.untagged("w.c\(index)", for: column))"
            }
            try await session.run(
                "UPDATE \(table) t SET \(sets.joined(separator: ", ")) FROM unnest($1::text[]"
                    + columns.indices.map { ", $\($0 + 2)::text[]" }.joined() + ") AS w(id"
                    + columns.indices.map { ", c\($0)" }.joined() + ") WHERE t.id = w.id",
                [ids] + arrays)
            // As `districtWrite`: the named columns count as written (preset).
            try await session.run(
                """
                INSERT INTO _sync_log(tbl, pk, op, at_ms, ctx, cols, preset)
                SELECT $1, w.id, 'update', (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
                    (SELECT clock FROM _sync_rows r WHERE r.tbl = $1 AND r.pk = w.id), $3, true
                FROM unnest($2::text[]) WITH ORDINALITY AS w(id, n) ORDER BY w.n
                """, [table, ids, mask])
        }
    }

    nonisolated(nonsending) func presentRows(table: String, ids: [String]) async throws -> Set<String> {
        guard schema.table(named: table) != nil else { throw ApplyError.unknownTable(table) }
        guard !ids.isEmpty else { return [] }
        return Set(try await session.rows("SELECT id FROM \(table) WHERE id = ANY($1::text[])", [ids]).map { try $0.decode(String.self) })
    }

    nonisolated(nonsending) func districtInsert(table: String, row: String, values: [String: Value]) async throws {
        try turn.wholeDistrict("a district write")
        guard let described = schema.table(named: table) else { throw ApplyError.unknownTable(table) }
        let columns = try values.keys.sorted().map { name in
            guard let column = described.columns.first(where: { $0.name == name }) else {
                throw ApplyError.unknownColumn(table: table, column: name)
            }
            return column
        }
        try await session.run(
            "INSERT INTO \(table)(id\(columns.map { ", \($0.name)" }.joined())) VALUES ($1"
                + columns.enumerated().map { ", " + PostgresRegisterSQL.untagged("$\($0.offset + 2)", for: $0.element) }.joined() + ")",
            [row] + columns.map { PostgresValueText.tag(values[$0.name]!) })
        // The hub's own transactions keep the capture triggers silent: logged as the trigger
        // logs an insert by district staff (every column).
        try await session.run(
            "INSERT INTO _sync_log(tbl, pk, op, at_ms, ctx, cols) VALUES ($1, $2, 'insert', "
                + "(extract(epoch FROM clock_timestamp()) * 1000)::bigint, NULL, $3)",
            [table, row, Int64((1 << described.columns.count) - 1)])
    }

    nonisolated(nonsending) func districtDelete(table: String, row: String) async throws {
        try turn.wholeDistrict("a district write")
        guard schema.table(named: table) != nil else { throw ApplyError.unknownTable(table) }
        guard try await !session.rows("DELETE FROM \(table) WHERE id = $1 RETURNING 1", [row]).isEmpty else { return }
        // Logged as the trigger logs a delete by district staff (the hub's transactions keep it silent).
        try await session.run(
            """
            INSERT INTO _sync_log(tbl, pk, op, at_ms, ctx, cols) VALUES ($1, $2, 'delete',
                (extract(epoch FROM clock_timestamp()) * 1000)::bigint, (SELECT clock FROM _sync_rows WHERE tbl = $1 AND pk = $2), 0)
            """, [table, row])
    }

    nonisolated(nonsending) func districtWrite(table: String, row: String, values: [String: Value]) async throws {
        try turn.wholeDistrict("a district write")
        guard let described = schema.table(named: table) else { throw ApplyError.unknownTable(table) }
        var mask: Int64 = 0
        let names = values.keys.sorted()
        for name in names {
            guard let slot = described.columns.firstIndex(where: { $0.name == name }) else {
                throw ApplyError.unknownColumn(table: table, column: name)
            }
            mask |= Int64(1) << slot
        }
        guard !names.isEmpty else { return }
        let assignments = names.enumerated().map { index, name in
            "\(name) = \(PostgresRegisterSQL.untagged("$\(index + 2)", for: described.columns.first { $0.name == name }!))"
        }
        try await session.run(
            "UPDATE \(table) SET \(assignments.joined(separator: ", ")) WHERE id = $1",
            [row] + names.map { PostgresValueText.tag(values[$0]!) })
        // The named columns count as written even if their value did not change (preset).
        try await session.run(
            """
            INSERT INTO _sync_log(tbl, pk, op, at_ms, ctx, cols, preset) VALUES ($1, $2, 'update',
                (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
                (SELECT clock FROM _sync_rows WHERE tbl = $1 AND pk = $2), $3, true)
            """, [table, row, mask])
    }

    nonisolated(nonsending) func unfedDistrictEdits() async throws -> [Change] {
        try turn.wholeDistrict("feeding district edits")
        let (batch, _) = try await foldDistrictEdits()
        if !batch.rows.isEmpty { _ = try await save(batch, rules: try await turn.rules(meta)) }
        let fed = UInt64(max(0, try await meta.integer("fed_counter") ?? 0))
        var changes: [Change] = []
        // Blocks are handed out in fold order under the write lock, so everything above the
        // fed block was folded after it: "above what was fed" is "not fed yet".
        for row in try await session.rows(
            "SELECT block, tbl, pk, op, ctx, cols, hlc, vals FROM _sync_log WHERE block >= $1 ORDER BY block",
            [Int64(fed / DotBlock.size)]) {
            let (block, tableName, key, operation, context, columns, hlc, vals) =
                try row.decode((Int64, String, String, String, String?, Int64, Int64, String?).self)
            // Written by a hub of a later schema sharing the database (a rolling upgrade): this
            // one cannot say those changes, so it leaves the feeding, from here on, to that hub.
            guard let table = expressible(table: tableName, columns: columns) else { return [] }
            let tagged = try vals.map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
            let values = try tagged.map { text in
                guard let value = PostgresValueText.value(text) else { throw PostgresMergeState.damaged("district write \(block)") }
                return value
            }
            guard let folded = WriteFold.Operation(rawValue: operation) else { throw PostgresMergeState.damaged("district write \(block)") }
            changes += districtChanges(
                block: block, table: table, row: key, operation: folded, context: context, slots: WriteFold.slots(of: columns),
                values: values, timestamp: HybridTimestamp(rawValue: UInt64(bitPattern: hlc))
            ).filter { $0.dot.counter > fed }
        }
        return changes
    }

    // MARK: Folding district edits

    /// Locks the register rows `keys` name (`SELECT ... FOR UPDATE`), one statement per table:
    /// staff cannot change them between the fold's read of the log and the hub's commit.
    private nonisolated(nonsending) func lockRegisterRows(_ keys: [RowKey]) async throws {
        for (table, rows) in Dictionary(grouping: keys, by: \.table) where schema.table(named: table) != nil {
            try await session.run(
                "SELECT 1 FROM \(table) WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE", [Array(Set(rows.map(\.row)))])
        }
    }

    /// Folds the district writes not folded yet, in the order they were captured: each is
    /// handed the next block (`_sync_log.block`, above every district dot so far) and becomes
    /// changes with district dots (`block * 64 + slot`), applied to the batch returned as the
    /// district's own (the register row already shows them). Values are read now, as SQLite's
    /// fold does: a staff write committed since is folded next time, with the values then.
    /// Folds district staff's captured writes into a batch. `leftForNewer`: rows with writes
    /// left for a hub of a later schema to fold (see below), with the slots those writes name
    /// (all of them for a delete): the register holds values there that are not in the merge
    /// state yet, so this hub must not write over them.
    private nonisolated(nonsending) func foldDistrictEdits() async throws -> (batch: MergeBatch, leftForNewer: [RowKey: Int64]) {
        var batch = MergeBatch()
        let entries = try await session.rows(
            "SELECT seq, tbl, pk, op, at_ms, ctx, cols, preset FROM _sync_log WHERE hlc IS NULL ORDER BY seq"
        ).map { try $0.decode((Int64, String, String, String, Int64, String?, Int64, Bool).self) }
        guard !entries.isEmpty else { return (batch, [:]) }
        try turn.wholeDistrict("staff edits to fold")
        // During a rolling upgrade a hub of the previous release shares the database with one
        // of the next, whose capture triggers log columns (or tables) this one does not have:
        // such writes, and every district write after them, are left for the newer hub to fold
        // (folding past them here would lose the newer column's value).
        if entries.contains(where: { expressible(table: $0.1, columns: $0.6) == nil }) {
            var pending: [RowKey: Int64] = [:]
            for entry in entries { pending[RowKey(table: entry.1, row: entry.2), default: 0] |= entry.3 == "delete" ? -1 : entry.6 }
            return (batch, pending)
        }
        try await load(entries.map { RowKey(table: $0.1, row: $0.2) }, into: &batch)
        var current: [RowKey: [Value]] = [:]
        for table in schema.tables {
            let ids = Set(entries.filter { $0.1 == table.name }.map(\.2))
            guard !ids.isEmpty, !table.columns.isEmpty else { continue }
            let select = table.columns.map { PostgresRegisterSQL.tagged($0, of: "r") }.joined(separator: ", ")
            for row in try await session.rows("SELECT r.id, \(select) FROM \(table.name) r WHERE r.id = ANY($1::text[])", [Array(ids)]) {
                let cells = row.makeRandomAccess()
                let id = try cells[0].decode(String.self)
                current[RowKey(table: table.name, row: id)] = try (1..<cells.count).map { PostgresValueText.value(try cells[$0].decode(String.self)) ?? .null }
            }
        }
        var clock = HybridLogicalClock(last: try await meta.clock())
        var highest: UInt64 = 0
        // Above every dot handed out, and every block taken (a void write takes one, no dot).
        let taken = try await session.rows("SELECT coalesce(max(block), 0) FROM _sync_log").first?.decode(Int64.self) ?? 0
        var block = max(taken, Int64(DotBlock.of(try await districtCounter())))
        var seqs: [Int64] = [], blocks: [Int64] = [], operations: [String] = [], masks: [Int64] = [], stamps: [Int64] = []
        var vals: [String] = []
        let encoder = JSONEncoder()
        for (seq, tableName, key, written, at, context, columns, preset) in entries {
            guard let table = schema.table(named: tableName) else { throw ApplyError.unknownTable(tableName) }
            let rowKey = RowKey(table: tableName, row: key)
            let row = current[rowKey]
            guard let captured = WriteFold.Operation(rawValue: written) else { throw PostgresMergeState.damaged("district write \(seq)") }
            let (operation, slots) = WriteFold.settle(
                captured, heldAnywhere: batch.rows[rowKey]!.state != RowState(), rowExists: row != nil,
                preset: preset ? WriteFold.slots(of: columns) : nil
            ) { WriteFold.slots(of: columns) }
            let values = slots.map { row?[$0] ?? .null }
            let stamp = clock.now(physicalMillis: UInt64(max(0, at)))
            block += 1
            for change in districtChanges(block: block, table: table, row: key, operation: operation, context: context,
                                          slots: slots, values: values, timestamp: stamp) {
                batch.applyOwn(change)
                highest = max(highest, change.dot.counter)
            }
            seqs.append(seq)
            blocks.append(block)
            operations.append(operation.rawValue)
            masks.append(WriteFold.mask(of: slots))
            stamps.append(Int64(bitPattern: stamp.rawValue))
            vals.append(String(decoding: try encoder.encode(values.map(PostgresValueText.tag)), as: UTF8.self))
        }
        try await session.run(
            """
            UPDATE _sync_log l SET block = u.block, op = u.op, cols = u.cols, hlc = u.hlc, vals = u.vals
            FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) AS u(seq, block, op, cols, hlc, vals)
            WHERE l.seq = u.seq
            """, [seqs, blocks, operations, masks, stamps, vals])
        try await meta.raise("clock", to: Int64(bitPattern: clock.last.rawValue))
        if highest > 0 { try await meta.raise("counter", to: Int64(bitPattern: highest)) }
        return (batch, [:])
    }

    /// The changes of one district write (`WriteFold.changes`), with the district's dots.
    private func districtChanges(
        block: Int64, table: TableSchema, row: String, operation: WriteFold.Operation, context: String?, slots: [Int], values: [Value],
        timestamp: HybridTimestamp
    ) -> [Change] {
        WriteFold.changes(
            block: UInt64(block), replica: district, table: table, row: row, operation: operation,
            context: context.flatMap(VersionVector.init(text:)) ?? VersionVector(), slots: slots, values: values, timestamp: timestamp)
    }


    /// The table of a captured district write when this hub's schema has it and every column
    /// its mask names; nil for a write logged by a hub of a later schema sharing the database.
    private func expressible(table name: String, columns mask: Int64) -> TableSchema? {
        guard let table = schema.table(named: name), WriteFold.slots(of: mask).allSatisfy({ $0 < table.columns.count }) else { return nil }
        return table
    }

    static func physicalMillis() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

    // MARK: Loading and saving a batch

    /// Adds the states of the rows of `keys` the batch does not hold yet: two queries.
    private nonisolated(nonsending) func load(_ keys: [RowKey], into batch: inout MergeBatch) async throws {
        var missing: [RowKey] = []
        var seen: Set<RowKey> = []
        for key in keys where !batch.holds(key) && seen.insert(key).inserted { missing.append(key) }
        for (key, state) in try await mergeState.load(missing) { batch.add(key, loaded: state) }
    }

    /// Saves merge state, writes the register rows remote changes touched, reconciles the
    /// field conflicts and runs the rules across rows. Returns how many register rows were
    /// written or removed.
    /// `keeping`: rows whose register columns named by the slots are left as they are (`foldDistrictEdits`).
    private nonisolated(nonsending) func save(_ batch: MergeBatch, rules: RuleSet, keeping kept: [RowKey: Int64] = [:]) async throws -> Int {
        let now = try await meta.clock()
        let outcomes = batch.outcomes(policy: rules.policy(districtReplicas: [district]))
        try await mergeState.save(outcomes)
        var materialised = 0
        for table in schema.tables {
            let written = outcomes.filter { $0.materialise && $0.key.table == table.name }
            materialised += written.count
            try await writeRegisterRows(table, written.filter { kept[$0.key] == nil })
            for outcome in written {
                guard let pending = kept[outcome.key], let values = outcome.resolved.values else { continue }
                try await writeRegisterColumns(table, row: outcome.key.row, values: values, except: pending)
            }
        }
        let run = RuleRun(touching: batch.rows.keys, rules: rules, district: [district], writtenHere: district)
        let writes = try LedgerWrites.fields(of: outcomes) + (try await run.run(on: PostgresRuleData(session: session)))
        try await PostgresConflictLedger(session: session, now: now).write(writes)
        return materialised
    }

    /// The columns of one register row outside the `except` slots, as resolved (a row with
    /// district writes left for a newer hub; a delete leaves it whole).
    private nonisolated(nonsending) func writeRegisterColumns(_ table: TableSchema, row: String, values: [String: Value], except: Int64) async throws {
        let columns = table.columns.indices.filter { except & (Int64(1) << $0) == 0 }.map { table.columns[$0] }
        guard !columns.isEmpty else { return }
        let sets = columns.enumerated().map { "\($1.name) = " + PostgresRegisterSQL.untagged("$\($0 + 2)", for: $1) }.joined(separator: ", ")
        try await session.run("UPDATE \(table.name) SET \(sets) WHERE id = $1",
                              [row] + columns.map { PostgresValueText.tag(values[$0.name] ?? .null) })
    }

    /// Register rows as resolved: live ones upserted in one statement, deleted ones removed in one.
    private nonisolated(nonsending) func writeRegisterRows(_ table: TableSchema, _ outcomes: [MergeBatch.Outcome]) async throws {
        let live = outcomes.compactMap { outcome in outcome.resolved.values.map { (outcome.key.row, $0) } }
        let gone = outcomes.filter { $0.resolved.values == nil }.map(\.key.row)
        if !gone.isEmpty { try await session.run("DELETE FROM \(table.name) WHERE id = ANY($1::text[])", [gone]) }
        guard !live.isEmpty else { return }
        let slots = table.columns.indices
        let names = table.columns.map(\.name)
        let arrays = (["$1::text[]"] + slots.map { "$\($0 + 2)::text[]" }).joined(separator: ", ")
        let aliases = (["id"] + slots.map { "c\($0)" }).joined(separator: ", ")
        let converted = slots.map { PostgresRegisterSQL.untagged("u.c\($0)", for: table.columns[$0]) }.joined(separator: ", ")
        var binds: [any PostgresThrowingDynamicTypeEncodable] = [live.map(\.0)]
        for name in names { binds.append(live.map { PostgresValueText.tag($0.1[name] ?? .null) }) }
        try await session.run(
            """
            INSERT INTO \(table.name)(id, \(names.joined(separator: ", ")))
            SELECT u.id, \(converted) FROM unnest(\(arrays)) AS u(\(aliases))
            ON CONFLICT (id) DO UPDATE SET \(names.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
            """, binds)
    }
}
