import HubCore
import Foundation
import PostgresNIO
import MergeEngine
import Register
import SyncCore
import SyncProtocol

/// A transaction of `PostgresHubStorage`: the SQL of every hub read and write. Merging and
/// district edits are in `PostgresMerge.swift`.
struct PostgresHubTransaction: HubTransaction {
    let session: PostgresSession
    let district: ReplicaID
    let schema: RegisterSchema
    /// The locks this transaction holds and what it leaves for its commit.
    let turn: PostgresWriteTurn
    var meta: PostgresMeta { PostgresMeta(session: session) }
    var mergeState: PostgresMergeState { PostgresMergeState(session: session) }

    // MARK: The district register

    nonisolated(nonsending) func rules() async throws -> RuleSet { try await turn.rules(meta) }

    nonisolated(nonsending) func districtCounter() async throws -> UInt64 {
        UInt64(max(0, try await meta.integer("counter") ?? 0))
    }

    nonisolated(nonsending) func markDistrictEditsFed(through counter: UInt64) async throws {
        try turn.wholeDistrict("feeding district edits")
        try await meta.raise("fed_counter", to: Int64(counter))
    }

    nonisolated(nonsending) func scopeValue(table: String, row: String) async throws -> Value? {
        let tagged = try await session.rows(
            "SELECT val FROM _sync_fields WHERE tbl = $1 AND pk = $2 AND col = '\(RowScope.column)'", [table, row]
        ).first?.decode(String.self)
        return tagged.flatMap(PostgresValueText.value)
    }

    nonisolated(nonsending) func scopeValues(of rows: Set<RowKey>) async throws -> [RowKey: Value] {
        guard !rows.isEmpty else { return [:] }
        let keys = Array(rows)
        var values: [RowKey: Value] = [:]
        for row in try await session.rows(
            """
            SELECT f.tbl, f.pk, f.val FROM _sync_fields f
            WHERE f.col = '\(RowScope.column)' AND (f.tbl, f.pk) IN (SELECT * FROM unnest($1::text[], $2::text[]))
            """, [keys.map(\.table), keys.map(\.row)]) {
            let (table, key, tagged) = try row.decode((String, String, String).self)
            values[RowKey(table: table, row: key)] = PostgresValueText.value(tagged)
        }
        return values
    }

    nonisolated(nonsending) func tableRows(table: String, columns: [String]) async throws -> [[Value]] {
        guard let described = schema.table(named: table) else { throw ApplyError.unknownTable(table) }
        let select = try columns.map { name -> String in
            if name == "id" { return "r.id::text" }
            guard let column = described.columns.first(where: { $0.name == name }) else { throw ApplyError.unknownColumn(table: table, column: name) }
            return PostgresRegisterSQL.tagged(column, of: "r")
        }.joined(separator: ", ")
        return try await session.rows("SELECT \(select) FROM \(table) r").map { row in
            try row.makeRandomAccess().enumerated().map { index, cell in
                if columns[index] == "id" { return .text(try cell.decode(String.self)) }
                return PostgresValueText.value(try cell.decode(String.self)) ?? .null
            }
        }
    }

    /// Two queries in the read's snapshot: every active assignment counted by seat (a join
    /// and a grouping the server runs on its parallel workers), then the ones kept whole read
    /// out and taken off those counts. Kept whole here: every assignment of a person with
    /// more than one on the register, active or not (read off the index of people's
    /// assignments without a join; a wider set than "more than one that day" gives the same
    /// figures), and those the open items name.
    nonisolated(nonsending) func seatTally(on day: String, named: SeatTally.Named) async throws -> SeatTally {
        // Sorts and hashes of a national register in memory, and no JIT compiling for one run.
        try await session.run("SET LOCAL work_mem = '128MB'")
        try await session.run("SET LOCAL jit = off")
        var tally = SeatTally(day: day)
        let active = """
            FROM assignments a JOIN positions p ON p.id = a.position_id
            WHERE a.person_id <> '' AND p.unit_id <> '' AND p.title_id <> '' AND \(SeatTally.activeOn("$1", alias: "a"))
            """
        for row in try await session.rows("SELECT p.unit_id, p.title_id, count(*) \(active) GROUP BY p.unit_id, p.title_id", [day]) {
            let (unit, title, count) = try row.decode((String, String, Int64).self)
            tally.counts[SeatTally.Seat(unit: unit, title: title)] = Int(count)
        }
        // The people with more than one assignment: once (not again in each parallel worker),
        // streamed off the index of people's assignments rather than hashed.
        try await session.run("SET LOCAL enable_hashagg = off")
        var whole = """
            WITH several AS MATERIALIZED (SELECT person_id FROM assignments GROUP BY person_id HAVING count(*) > 1)
            SELECT a.id, a.person_id, a.position_id, p.unit_id, p.title_id \(active)
            AND a.person_id IN (SELECT person_id FROM several)
            """
        var binds: [any PostgresThrowingDynamicTypeEncodable] = [day]
        if !named.isEmpty {
            whole += "\nUNION SELECT a.id, a.person_id, a.position_id, p.unit_id, p.title_id \(active) "
                + "AND (a.id = ANY($2::text[]) OR a.person_id = ANY($3::text[]) OR a.position_id = ANY($4::text[]))"
            binds += [named.assignments.sorted(), named.persons.sorted(), named.positions.sorted()]
        }
        for row in try await session.rows(whole, binds) {
            let (assignment, person, position, unit, title) = try row.decode((String, String, String, String, String).self)
            let seat = SeatTally.Seat(unit: unit, title: title)
            tally.holdings.append(SeatTally.Holding(assignment: assignment, person: person, position: position, seat: seat))
            tally.counts[seat, default: 0] -= 1
        }
        tally.counts = tally.counts.filter { $0.value > 0 }
        tally.holdings.sort { $0.assignment < $1.assignment }
        return tally
    }

    nonisolated(nonsending) func rowIDs(table: String, where column: String, is value: String, limit: Int) async throws -> [String] {
        guard let described = schema.table(named: table) else { throw ApplyError.unknownTable(table) }
        guard described.columns.contains(where: { $0.name == column }) else { throw ApplyError.unknownColumn(table: table, column: column) }
        return try await session.rows("SELECT id FROM \(table) WHERE \(column) = $1 ORDER BY id LIMIT $2", [value, Int64(limit)])
            .map { try $0.decode(String.self) }
    }

    nonisolated(nonsending) func values(table: String, row: String, columns: [String]) async throws -> [String: Value] {
        guard let described = schema.table(named: table) else { throw ApplyError.unknownTable(table) }
        let wanted = try columns.map { name in
            guard let column = described.columns.first(where: { $0.name == name }) else {
                throw ApplyError.unknownColumn(table: table, column: name)
            }
            return column
        }
        var values = Dictionary(uniqueKeysWithValues: columns.map { ($0, Value.null) })
        guard !wanted.isEmpty else { return values }
        let select = wanted.map { PostgresRegisterSQL.tagged($0, of: "r") }.joined(separator: ", ")
        guard let found = try await session.rows("SELECT \(select) FROM \(table) r WHERE r.id = $1", [row]).first else { return values }
        for (column, cell) in zip(wanted, found.makeRandomAccess()) {
            values[column.name] = PostgresValueText.value(try cell.decode(String.self)) ?? .null
        }
        return values
    }

    nonisolated(nonsending) func isActiveAssignment(_ id: String) async throws -> Bool {
        try await !session.rows("SELECT 1 FROM assignments a WHERE a.id = $1 AND \(AssignmentTerm.isActive("a"))", [id]).isEmpty
    }

    nonisolated(nonsending) func communeUnit(code: String) async throws -> String? {
        try await session.rows(
            "SELECT id FROM units WHERE code = $1 AND kind IN ('commune', 'ward', 'township') AND effective_to IS NULL ORDER BY id LIMIT 1",
            [code]).first?.decode(String.self)
    }

    nonisolated(nonsending) func personName(_ id: String) async throws -> String? {
        try await session.rows("SELECT full_name FROM persons WHERE id = $1", [id]).first?.decode(String?.self)
    }

    nonisolated(nonsending) func unitName(code: String) async throws -> String? {
        try await session.rows("SELECT name FROM units WHERE code = $1 ORDER BY effective_to IS NOT NULL LIMIT 1", [code])
            .first?.decode(String?.self)
    }

    // MARK: Merge state of rows

    nonisolated(nonsending) func rowStates(table: String, after row: String, scope: String?, limit: Int) async throws -> [(String, RowState)] {
        try await mergeState.rows(table: table, scope: scope, after: row, limit: limit)
    }

    nonisolated(nonsending) func rowStates(table: String, scope: String?, buckets: Set<Int>) async throws -> [(String, RowState)] {
        try await mergeState.rows(table: table, scope: scope).filter { buckets.contains(ScopeDigest.bucket(table: table, row: $0.0)) }
    }

    nonisolated(nonsending) func rowStates(of rows: [RowKey]) async throws -> [RowKey: RowState] {
        try await mergeState.load(rows).filter { $0.value != RowState() }
    }

    nonisolated(nonsending) func rowState(table: String, row: String) async throws -> RowState? {
        let key = RowKey(table: table, row: row)
        let state = try await mergeState.load([key])[key] ?? RowState()
        return state == RowState() ? nil : state
    }

    nonisolated(nonsending) func digest(scope: String?) async throws -> ScopeDigest {
        var tables: [String: ScopeDigest.Table] = [:]
        for table in schema.tables {
            var sums = ScopeDigest.Table()
            for (row, state) in try await mergeState.rows(table: table.name, scope: RowScope.filter(table, for: scope)) {
                sums.rows += 1
                let bucket = ScopeDigest.bucket(table: table.name, row: row)
                sums.buckets[bucket] = sums.buckets[bucket] &+ ScopeDigest.hash(table: table.name, row: row, state: state)
            }
            tables[table.name] = sums
        }
        return ScopeDigest(tables: tables)
    }

    // MARK: The feed

    nonisolated(nonsending) func appendToFeed(_ entries: [(scope: String, change: Change)]) async throws {
        guard !entries.isEmpty else { return }
        let changes = entries.map(\.change)
        // Positions one past the highest, handed out under the district or feed lock (PostgresWriteTurn).
        try await turn.lockFeed(session)
        try await session.run(
            """
            INSERT INTO _sync_hub_feed(seq, scope, origin, counter, tbl, pk, col, val, hlc, ctx)
            SELECT (SELECT coalesce(max(seq), 0) FROM _sync_hub_feed) + e.n, e.scope, e.origin, e.counter, e.tbl, e.pk,
                   _sync_untag_text(e.col), e.val, e.hlc, e.ctx
            FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[])
                WITH ORDINALITY AS e(scope, origin, counter, tbl, pk, col, val, hlc, ctx, n)
            """,
            [entries.map(\.scope), changes.map(\.dot.replica.rawValue), changes.map { Int64(bitPattern: $0.dot.counter) },
             changes.map(\.table), changes.map(\.row), changes.map { PostgresValueText.tag($0.column) },
             changes.map { PostgresValueText.tag($0.operation.value ?? .null) },
             changes.map { Int64(bitPattern: $0.timestamp.rawValue) }, changes.map(\.compactContext.text)])
    }

    // MARK: Incarnations

    nonisolated(nonsending) func startIncarnation(_ incarnation: HubIncarnation) async throws {
        try turn.wholeDistrict("a new incarnation")
        let floor = Int64(incarnation.floor)
        // The district's next log row is numbered above the floor's block (dot = seq * 64 + slot).
        try await session.run(
            """
            SELECT setval(pg_get_serial_sequence('_sync_log', 'seq'), $1::bigint)
            WHERE $1::bigint > (SELECT coalesce(max(seq), 0) FROM _sync_log)
            """, [floor / Int64(DotBlock.size)])
        try await meta.raise("counter", to: floor)
        // A mark, seen by no office (scope '' is nobody's): the next entry is numbered after it.
        try await session.run(
            """
            INSERT INTO _sync_hub_feed(seq, scope, origin, counter, tbl, pk, col, val, hlc, ctx)
            SELECT $1::bigint, '', '', $1::bigint, '', '', NULL, '', 0, '' WHERE $1::bigint > (SELECT coalesce(max(seq), 0) FROM _sync_hub_feed)
            """, [floor])
        try await session.run(
            "INSERT INTO _sync_hub_incarnations(floor, previous, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            [floor, Int64(incarnation.previous), incarnation.at])
    }

    nonisolated(nonsending) func incarnations() async throws -> [HubIncarnation] {
        try await session.rows("SELECT floor, previous, at FROM _sync_hub_incarnations ORDER BY floor").map { row in
            let (floor, previous, at) = try row.decode((Int64, Int64, String).self)
            return HubIncarnation(floor: UInt64(floor), previous: UInt64(previous), at: at)
        }
    }

    private static let feedColumns = "seq, origin, counter, tbl, pk, col, val, hlc, ctx"

    nonisolated(nonsending) func feed(scope: String, after seq: Int64, notFrom origin: ReplicaID, limit: Int) async throws -> [(seq: Int64, change: Change)] {
        try await session.rows(
            """
            SELECT \(Self.feedColumns) FROM _sync_hub_feed WHERE scope IN ($1, '*') AND seq > $2 AND origin <> $3
            ORDER BY seq LIMIT $4
            """, [scope, seq, origin.rawValue, Int64(limit)]
        ).map { row in try Self.feedEntry(row) }
    }

    nonisolated(nonsending) func feedEnd() async throws -> Int64 {
        try await session.rows("SELECT coalesce(max(seq), 0) FROM _sync_hub_feed").first?.decode(Int64.self) ?? 0
    }

    nonisolated(nonsending) func dropSupersededFeed(through seq: Int64) async throws -> Int {
        try turn.wholeDistrict("compacting the feed")
        let dropped = try await session.rows(
            """
            WITH gone AS (
              DELETE FROM _sync_hub_feed e WHERE e.seq <= $1 AND e.col IS NOT NULL AND e.col <> '\(RowScope.column)'
                AND EXISTS (SELECT 1 FROM _sync_fields f WHERE f.tbl = e.tbl AND f.pk = e.pk AND f.col = e.col AND f.more IS NULL
                            AND f.dot <> e.origin || ':' || e.counter)
              RETURNING 1)
            SELECT count(*) FROM gone
            """, [seq]).first?.decode(Int64.self)
        return Int(dropped ?? 0)
    }

    nonisolated(nonsending) func deletedRows(through seq: Int64, after cursor: RowKey?, limit: Int) async throws
        -> [(key: RowKey, last: Int64, scope: String)]
    {
        try await session.rows(
            """
            SELECT r.tbl, r.pk, e.seq, e.scope FROM _sync_rows r
            CROSS JOIN LATERAL (SELECT seq, scope FROM _sync_hub_feed WHERE tbl = r.tbl AND pk = r.pk ORDER BY seq DESC LIMIT 1) e
            WHERE r.deletes <> '' AND (r.tbl, r.pk) > ($1, $2) AND e.seq <= $3
              AND EXISTS (SELECT 1 FROM _sync_fields f WHERE f.tbl = r.tbl AND f.pk = r.pk AND f.col <> '\(RowScope.column)')
            ORDER BY r.tbl, r.pk LIMIT $4
            """, [cursor?.table ?? "", cursor?.row ?? "", seq, Int64(limit)]
        ).map { row in
            let (table, key, last, scope) = try row.decode((String, String, Int64, String).self)
            return (RowKey(table: table, row: key), last, scope)
        }
    }

    nonisolated(nonsending) func forget(_ rows: [RowKey], at time: String) async throws -> Int {
        try turn.wholeDistrict("forgetting rows")
        guard !rows.isEmpty else { return 0 }
        let keys = [rows.map(\.table), rows.map(\.row)]
        let named = "(tbl, pk) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
        try await session.run("DELETE FROM _sync_fields WHERE \(named) AND col <> '\(RowScope.column)'", keys)
        let dropped = try await session.rows(
            """
            WITH gone AS (DELETE FROM _sync_hub_feed WHERE \(named) AND col IS NOT NULL AND col <> '\(RowScope.column)' RETURNING 1)
            SELECT count(*) FROM gone
            """, keys).first?.decode(Int64.self)
        try await session.run(
            """
            INSERT INTO _sync_hub_forgotten(tbl, pk, at) SELECT tbl, pk, $3 FROM unnest($1::text[], $2::text[]) AS k(tbl, pk)
            ON CONFLICT (tbl, pk) DO UPDATE SET at = excluded.at
            """, [rows.map(\.table), rows.map(\.row), time])
        return Int(dropped ?? 0)
    }

    nonisolated(nonsending) func forgotten(among rows: Set<RowKey>) async throws -> Set<RowKey> {
        guard !rows.isEmpty else { return [] }
        let keys = Array(rows)
        return Set(try await session.rows(
            "SELECT tbl, pk FROM _sync_hub_forgotten WHERE (tbl, pk) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
            [keys.map(\.table), keys.map(\.row)]
        ).map { row in
            let (table, key) = try row.decode((String, String).self)
            return RowKey(table: table, row: key)
        })
    }

    nonisolated(nonsending) func hubMeta(_ key: String) async throws -> String? { try await meta.text(key) }

    nonisolated(nonsending) func setHubMeta(_ key: String, _ value: String) async throws { try await meta.set(key, value) }

    nonisolated(nonsending) func feed(of origin: ReplicaID, after counter: UInt64, limit: Int) async throws -> [Change] {
        try await session.rows(
            "SELECT \(Self.feedColumns) FROM _sync_hub_feed WHERE origin = $1 AND counter > $2 ORDER BY counter LIMIT $3",
            [origin.rawValue, Int64(min(counter, UInt64(Int64.max))), Int64(limit)]
        ).map { row in try Self.feedEntry(row).change }
    }

    private static func feedEntry(_ row: PostgresRow) throws -> (seq: Int64, change: Change) {
        let (seq, origin, counter, table, key, column, tagged, hlc, context) =
            try row.decode((Int64, String, Int64, String, String, String?, String, Int64, String).self)
        guard let origin = ReplicaID(rawValue: origin), let context = CompactContext(text: context), let value = PostgresValueText.value(tagged)
        else { throw HubError(status: 500, code: "damaged_feed", message: "a feed row is damaged: run 'syncctl doctor' on the hub") }
        let dot = Dot(replica: origin, counter: UInt64(bitPattern: counter))
        let operation: Change.Operation = column.map { .set(column: $0, value: value) } ?? .delete
        return (seq, Change(table: table, row: key, operation: operation, dot: dot, context: context.context(of: dot),
                            timestamp: HybridTimestamp(rawValue: UInt64(bitPattern: hlc))))
    }

    nonisolated(nonsending) func rowHistory(table: String, row: String, limit: Int) async throws -> [Change] {
        try await session.rows(
            "SELECT \(Self.feedColumns) FROM _sync_hub_feed WHERE tbl = $1 AND pk = $2 ORDER BY seq DESC LIMIT $3",
            [table, row, Int64(limit)]
        ).map { row in try Self.feedEntry(row).change }
    }

    nonisolated(nonsending) func feedCount() async throws -> Int {
        Int(try await session.rows("SELECT count(*) FROM _sync_hub_feed").first?.decode(Int64.self) ?? 0)
    }

    nonisolated(nonsending) func saveOfficesSeen(_ offices: [OfficeSeen]) async throws {
        guard !offices.isEmpty else { return }
        // -1: the office did not say (arrays of PostgreSQL parameters hold no NULL here).
        let numbered: [Int64] = offices.map { office in office.numbered.map { Int64(min($0, UInt64(Int64.max))) } ?? -1 }
        try await session.run(
            """
            INSERT INTO _sync_hub_offices(replica, seen_at, pulled, facts, numbered)
            SELECT r, s, p, f, nullif(n, -1) FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[]) AS o(r, s, p, f, n)
            ON CONFLICT (replica) DO UPDATE SET seen_at = excluded.seen_at, pulled = excluded.pulled, numbered = excluded.numbered,
                facts = CASE excluded.facts WHEN '' THEN _sync_hub_offices.facts ELSE excluded.facts END
                WHERE excluded.seen_at >= _sync_hub_offices.seen_at
            """, [offices.map(\.replica.rawValue), offices.map(\.seenAt), offices.map(\.pulledThrough), offices.map { $0.facts ?? "" }, numbered])
    }

    nonisolated(nonsending) func progress() async throws -> [ReplicaProgress] {
        try await session.rows(ReplicaProgress.query).compactMap { row in
            let (replica, scope, settled, pulled, seenAt, facts, told, numbered) = try row.decode(
                (String, String, Int64, Int64?, String?, String?, Int64?, Int64?).self)
            return ReplicaProgress(row: replica, scope: scope, settled: settled, pulled: pulled, seenAt: seenAt, factsJSON: facts, told: told,
                                   numbered: numbered)
        }
    }

    // MARK: What replicas delivered

    nonisolated(nonsending) func received(_ origin: ReplicaID) async throws -> UInt64 {
        UInt64(max(0, try await session.rows("SELECT counter FROM _sync_hub_received WHERE origin = $1", [origin.rawValue])
            .first?.decode(Int64.self) ?? 0))
    }

    nonisolated(nonsending) func recordReceived(_ origin: ReplicaID, counter: UInt64) async throws {
        try await session.run(
            """
            INSERT INTO _sync_hub_received(origin, counter) VALUES ($1, $2)
            ON CONFLICT (origin) DO UPDATE SET counter = greatest(_sync_hub_received.counter, excluded.counter)
            """, [origin.rawValue, Int64(bitPattern: counter)])
    }

    nonisolated(nonsending) func settled(_ origin: ReplicaID, counters: [UInt64]) async throws -> [UInt64: SettledChange] {
        guard !counters.isEmpty else { return [:] }
        var settled: [UInt64: SettledChange] = [:]
        // Feed entries and refusals in one round trip; a dot in the feed is what it holds.
        for row in try await session.rows(
            """
            SELECT 0 AS kind, counter, tbl::text, pk::text, col, val, hlc, ctx, NULL::text AS code, NULL::text AS message
                FROM _sync_hub_feed WHERE origin = $1 AND counter = ANY($2::bigint[])
            UNION ALL
            SELECT 1, counter, tbl::text, pk::text, col, NULL, NULL, NULL, code, message
                FROM _sync_hub_refused WHERE origin = $1 AND counter = ANY($2::bigint[])
            ORDER BY kind DESC
            """, [origin.rawValue, counters.map { Int64(bitPattern: $0) }]) {
            let (kind, counter, table, key, column, tagged, hlc, context, code, message) =
                try row.decode((Int32, Int64, String, String, String?, String?, Int64?, String?, String?, String?).self)
            let dot = Dot(replica: origin, counter: UInt64(bitPattern: counter))
            if kind == 1 {
                settled[dot.counter] = .refused(Refusal(
                    counter: dot.counter, table: table, row: key, column: column, code: code ?? "refused", message: message ?? ""))
                continue
            }
            guard let tagged, let hlc, let context = context.flatMap(CompactContext.init(text:)), let value = PostgresValueText.value(tagged)
            else { throw HubError(status: 500, code: "damaged_feed", message: "a feed row is damaged: run 'syncctl doctor' on the hub") }
            let operation: Change.Operation = column.map { .set(column: $0, value: value) } ?? .delete
            settled[dot.counter] = .held(Change(table: table, row: key, operation: operation, dot: dot, context: context.context(of: dot),
                                                timestamp: HybridTimestamp(rawValue: UInt64(bitPattern: hlc))))
        }
        return settled
    }

    nonisolated(nonsending) func recordRefusals(_ refusals: [Refusal], of origin: ReplicaID, at time: String) async throws {
        guard !refusals.isEmpty else { return }
        try await session.run(
            """
            INSERT INTO _sync_hub_refused(origin, counter, tbl, pk, col, code, message, at)
            SELECT $1, r.counter, r.tbl, r.pk, _sync_untag_text(r.col), r.code, r.message, $2
            FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS r(counter, tbl, pk, col, code, message)
            ON CONFLICT (origin, counter) DO NOTHING
            """,
            [origin.rawValue, time, refusals.map { Int64(bitPattern: $0.counter) }, refusals.map(\.table), refusals.map(\.row),
             refusals.map { PostgresValueText.tag($0.column) }, refusals.map(\.code), refusals.map(\.message)])
    }

    // MARK: Credentials

    nonisolated(nonsending) func credential(of replica: ReplicaID) async throws -> StoredCredential? {
        guard let row = try await session.rows(
            """
            SELECT c.scope, c.role, c.sha256, c.issued_at, u.effective_to,
                   (SELECT f.hlc FROM _sync_fields f WHERE f.tbl = 'units' AND f.pk = c.scope AND f.col = 'effective_to')
            FROM _sync_hub_credentials c LEFT JOIN units u ON u.id = c.scope WHERE c.replica = $1
            """, [replica.rawValue]).first
        else { return nil }
        let (scope, role, sha256, issuedAt, lastDay, recorded) = try row.decode((String, String, String, String, String?, Int64?).self)
        guard let role = Caller.Role(rawValue: role) else { return nil }
        return StoredCredential(replica: replica, scope: scope, role: role, sha256: sha256, issuedAt: issuedAt, scopeLastDay: lastDay,
                                scopeEndRecorded: recorded.map { HybridTimestamp(rawValue: UInt64(bitPattern: $0)) })
    }

    nonisolated(nonsending) func credentials() async throws -> [IssuedCredential] {
        try await session.rows("SELECT replica, scope, role, issued_at FROM _sync_hub_credentials ORDER BY role, replica").compactMap { row in
            let (replica, scope, role, at) = try row.decode((String, String, String, String).self)
            guard let replica = ReplicaID(rawValue: replica), let role = Caller.Role(rawValue: role) else { return nil }
            return IssuedCredential(replica: replica, scope: scope, role: role, issuedAt: at)
        }
    }

    nonisolated(nonsending) func saveCredential(_ credential: StoredCredential) async throws {
        try await session.run(
            """
            INSERT INTO _sync_hub_credentials(replica, scope, role, sha256, issued_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (replica) DO UPDATE SET scope = excluded.scope, role = excluded.role, sha256 = excluded.sha256,
                issued_at = excluded.issued_at
            """,
            [credential.replica.rawValue, credential.scope, credential.role.rawValue, credential.sha256, credential.issuedAt])
    }

    nonisolated(nonsending) func deleteCredential(of replica: ReplicaID) async throws -> Bool {
        try await !session.rows("DELETE FROM _sync_hub_credentials WHERE replica = $1 RETURNING 1", [replica.rawValue]).isEmpty
    }

    // MARK: Conflicts and reviews

    nonisolated(nonsending) func conflicts(state: ConflictRecord.State?, column: String?) async throws -> [ConflictRecord] {
        var sql = "SELECT tbl, pk, col, kind::text, rule, sides, chosen, state::text, opened_hlc FROM _sync_conflicts WHERE true"
        var binds: [any PostgresThrowingDynamicTypeEncodable] = []
        if let state {
            binds.append(state.rawValue)
            sql += " AND state = $\(binds.count)::_sync_conflict_state"
        }
        if let column {
            binds.append(column)
            sql += " AND col = $\(binds.count)"
        }
        return try await conflictRecords(sql + " ORDER BY tbl, pk, col", binds)
    }

    private nonisolated(nonsending) func conflictRecords(
        _ sql: String, _ binds: [any PostgresThrowingDynamicTypeEncodable]
    ) async throws -> [ConflictRecord] {
        try await session.rows(sql, binds).map { row in
            let (table, key, column, kind, rule, sides, chosen, state, opened) = try row.decode(
                (String, String, String, String, String, String, String, String, Int64?).self)
            var record = ConflictRecord(table: table, row: key, column: column, kind: ConflictRecord.Kind(rawValue: kind) ?? .field, rule: rule,
                                        sidesJSON: sides, chosen: chosen, state: ConflictRecord.State(rawValue: state) ?? .open)
            record.openedHLC = opened.map { UInt64(bitPattern: $0) }
            return record
        }
    }

    nonisolated(nonsending) func conflicts(state: ConflictRecord.State?, after: String, limit: Int) async throws -> [ConflictRecord] {
        var sql = "SELECT tbl, pk, col, kind::text, rule, sides, chosen, state::text, opened_hlc FROM _sync_conflicts WHERE (tbl || '/' || pk || '/' || col) COLLATE \"C\" > $1"
        var binds: [any PostgresThrowingDynamicTypeEncodable] = [after, Int64(max(0, limit))]
        if let state {
            binds.append(state.rawValue)
            sql += " AND state = $3::_sync_conflict_state"
        }
        return try await conflictRecords(sql + " ORDER BY (tbl || '/' || pk || '/' || col) COLLATE \"C\" LIMIT $2", binds)
    }

    nonisolated(nonsending) func conflict(id: String) async throws -> ConflictRecord? {
        try await conflictRecords(
            "SELECT tbl, pk, col, kind::text, rule, sides, chosen, state::text, opened_hlc FROM _sync_conflicts WHERE tbl || '/' || pk || '/' || col = $1",
            [id]).first
    }

    nonisolated(nonsending) func conflictCounts() async throws -> (standing: Int, open: Int) {
        guard let row = try await session.rows(
            "SELECT count(*), count(*) FILTER (WHERE state = 'open') FROM _sync_conflicts WHERE state <> 'closed'").first
        else { return (0, 0) }
        let (standing, open) = try row.decode((Int64, Int64).self)
        return (Int(standing), Int(open))
    }

    nonisolated(nonsending) func review(_ id: Int64) async throws -> ReviewRecord? {
        try await session.rows(
            "SELECT id, conflict, reviewer, at, reason, pick, value, wrote, previous, reverts, reverted_by FROM _sync_hub_reviews WHERE id = $1",
            [id]).first.flatMap(Self.reviewRecord)
    }

    nonisolated(nonsending) func reviews(before: Int64?, limit: Int) async throws -> [ReviewRecord] {
        try await session.rows(
            """
            SELECT id, conflict, reviewer, at, reason, pick, value, wrote, previous, reverts, reverted_by FROM _sync_hub_reviews
            WHERE id < $1 ORDER BY id DESC LIMIT $2
            """,
            [before ?? Int64.max, Int64(limit)]).compactMap(Self.reviewRecord)
    }

    nonisolated(nonsending) func decisions(inScope scope: String, after: Int64, limit: Int) async throws -> (decisions: [ReviewRecord], through: Int64) {
        let found = try await session.rows(
            """
            SELECT id, conflict, reviewer, at, reason, pick, value, wrote, previous, reverts, reverted_by FROM _sync_hub_reviews
            WHERE id > $1 AND strpos(scopes, $2) > 0 ORDER BY id LIMIT $3
            """,
            [after, "," + scope + ",", Int64(limit)]).compactMap(Self.reviewRecord)
        if found.count == limit, let last = found.last?.id { return (found, last) }
        let end = try await session.rows("SELECT coalesce(max(id), 0) FROM _sync_hub_reviews").first?.decode(Int64.self) ?? 0
        return (found, max(after, end))
    }

    private static func reviewRecord(_ row: PostgresRow) throws -> ReviewRecord? {
        let (id, conflict, reviewer, at, reason, pick, value, wrote, previous, reverts, revertedBy) =
            try row.decode((Int64, String, String, String, String, String?, String?, Int64, String, Int64?, Int64?).self)
        guard let reviewer = ReplicaID(rawValue: reviewer) else { return nil }
        return ReviewRecord(
            id: id, conflict: conflict, reviewer: reviewer, at: at, reason: reason, pick: pick,
            value: value.flatMap(PostgresValueText.value), wrote: Int(wrote), previous: previous, reverts: reverts, revertedBy: revertedBy)
    }

    nonisolated(nonsending) func recordReview(_ review: ReviewRecord) async throws -> Int64 {
        // Absent values travel as '' and 0 (no decision has number 0).
        try await session.rows(
            """
            INSERT INTO _sync_hub_reviews(conflict, reviewer, at, reason, pick, value, wrote, previous, reverts, scopes)
            VALUES ($1, $2, $3, $4, _sync_untag_text($5), nullif($6, ''), $7, $8, nullif($9, 0), $10) RETURNING id
            """,
            [review.conflict, review.reviewer.rawValue, review.at, review.reason, PostgresValueText.tag(review.pick),
             review.value.map(PostgresValueText.tag) ?? "", Int64(review.wrote), review.previous, review.reverts ?? 0,
             ReviewRecord.scopesText(review.scopes)]
        ).first?.decode(Int64.self) ?? 0
    }

    nonisolated(nonsending) func markReverted(_ id: Int64, by revert: Int64) async throws {
        try await session.run("UPDATE _sync_hub_reviews SET reverted_by = $1 WHERE id = $2", [revert, id])
    }

    // MARK: Review items the hub opens itself

    nonisolated(nonsending) func openReviewItem(
        table: String, row: String, column: String, kind: ConflictRecord.Kind, rule: String, sidesJSON: String
    ) async throws -> Bool {
        try await !session.rows(
            """
            INSERT INTO _sync_conflicts(tbl, pk, col, kind, rule, sides, chosen, state, opened_hlc, closed_hlc)
            VALUES ($1, $2, $3, $4::_sync_conflict_kind, $5, $6, '', 'open', $7, NULL)
            ON CONFLICT (tbl, pk, col) DO UPDATE SET kind = excluded.kind, rule = excluded.rule, sides = excluded.sides,
                chosen = excluded.chosen, state = excluded.state, closed_hlc = NULL,
                opened_hlc = CASE WHEN _sync_conflicts.state = 'closed' THEN excluded.opened_hlc ELSE _sync_conflicts.opened_hlc END
            WHERE _sync_conflicts.state = 'closed' OR _sync_conflicts.sides <> excluded.sides
            RETURNING 1
            """,
            [table, row, column, kind.rawValue, rule, sidesJSON, Int64(bitPattern: try await meta.clock().rawValue)]).isEmpty
    }

    nonisolated(nonsending) func closeReviewItem(table: String, row: String, column: String) async throws {
        try await PostgresConflictLedger(session: session, now: try await meta.clock()).close([ConflictKey(table: table, row: row, column: column)])
    }

    nonisolated(nonsending) func closeStaleDuplicateItems() async throws {
        try await turn.lockPersons(session)
        try await session.run(
            """
            UPDATE _sync_conflicts c SET state = 'closed', closed_hlc = $1
            WHERE c.kind = 'duplicate' AND c.tbl = 'persons' AND c.state <> 'closed' AND CASE
                WHEN c.col = $2 THEN (SELECT count(*) FROM persons p WHERE p.citizen_id = c.pk
                                      AND trim(coalesce(p.merged_into, '')) = '') < 2
                WHEN starts_with(c.col, $3) THEN NOT EXISTS (
                    SELECT 1 FROM persons a JOIN persons b ON b.citizen_id = a.citizen_id
                    WHERE a.id = c.pk AND b.id = substr(c.col, length($3) + 1)
                      AND trim(a.citizen_id) <> '' AND trim(coalesce(a.merged_into, '')) = '' AND trim(coalesce(b.merged_into, '')) = '')
                ELSE false END
            """, [Int64(bitPattern: try await meta.clock().rawValue), DuplicatePersons.column, DuplicatePersons.pairPrefix])
    }

    nonisolated(nonsending) func persons(citizenID: String) async throws -> [PersonRecord] {
        try await turn.lockPersons(session)
        return try await personRecords(where: "p.citizen_id = $1", [citizenID])
    }

    nonisolated(nonsending) func rowIDs(table: String, where column: String, equals value: String) async throws -> [String] {
        guard let described = schema.table(named: table) else { throw ApplyError.unknownTable(table) }
        guard described.columns.contains(where: { $0.name == column && $0.type == .text }) else {
            throw ApplyError.unknownColumn(table: table, column: column)
        }
        return try await session.rows("SELECT id FROM \(table) WHERE \(column) = $1 ORDER BY id", [value]).map { try $0.decode(String.self) }
    }

    nonisolated(nonsending) func personsSharingCitizenID(with ids: Set<String>) async throws -> [PersonRecord] {
        guard !ids.isEmpty else { return [] }
        try await turn.lockPersons(session)
        return try await personRecords(
            where: "p.citizen_id IN (SELECT citizen_id FROM persons WHERE id = ANY($1::text[]) AND trim(citizen_id) <> '')", [ids.sorted()])
    }

    nonisolated(nonsending) func citizenIDs(of ids: Set<String>) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return Set(try await session.rows(
            "SELECT DISTINCT citizen_id FROM persons WHERE id = ANY($1::text[]) AND trim(citizen_id) <> ''", [ids.sorted()]
        ).map { try $0.decode(String.self) })
    }

    /// Persons records matching `condition` (on `persons p`, binding $1), ordered by id, with
    /// the replica whose write of the citizen id stands.
    private nonisolated(nonsending) func personRecords(
        where condition: String, _ binds: [any PostgresThrowingDynamicTypeEncodable]
    ) async throws -> [PersonRecord] {
        try await session.rows(
            """
            SELECT p.id, p.citizen_id, p.full_name, p.birth_date, p.commune_id, p.merged_into, f.dot
            FROM persons p LEFT JOIN _sync_fields f ON f.tbl = 'persons' AND f.pk = p.id AND f.col = 'citizen_id'
            WHERE \(condition) ORDER BY p.id
            """, binds
        ).map { row in
            let (id, citizenID, fullName, birthDate, communeID, mergedInto, dot) =
                try row.decode((String, String, String?, String?, String?, String?, String?).self)
            return PersonRecord(id: id, citizenID: citizenID, fullName: fullName, birthDate: birthDate, communeID: communeID,
                                mergedInto: mergedInto, origin: dot.flatMap(Dot.init(text:))?.replica)
        }
    }
}
