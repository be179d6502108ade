import Foundation
import Replica
import SyncCore
import SyncProtocol

/// The district hub's store: the district's own replica of the register (the same SQLite
/// replica a commune runs), plus the change feed communes pull from, what each replica has
/// delivered, and credentials. One actor owns the connection, so requests take turns; every
/// push is one transaction.
public actor HubStore {
    let replica: Replica
    public nonisolated let district: ReplicaID
    public nonisolated let schemaVersion: Int
    /// Largest text value accepted in one field.
    public static let maxValueBytes = 64 * 1024

    /// Opens the hub database at `path`, creating it (as the replica of `district`) on first
    /// use, and adopts `rules` (nil: keep the rules it holds).
    public init(path: String, district: ReplicaID, rules: RuleSet? = nil) throws {
        let replica = try Replica.openOrCreate(at: path, id: district, role: .district)
        guard replica.id == district, replica.role == .district else {
            throw HubError(status: 500, code: "wrong_database",
                           message: "\(path) is the replica of \(replica.id) (\(replica.role.rawValue)), not of district \(district): check 'database' in hub.toml")
        }
        try replica.database.execute(HubTables.sql)
        if let rules, try replica.rules != rules { try replica.adopt(rules) }
        self.replica = replica
        self.district = district
        schemaVersion = replica.schema.version
    }

    // MARK: Credentials

    public func authenticate(_ authorization: String?) throws -> Caller {
        try Credentials.verify(authorization: authorization, in: replica.database)
    }

    /// Issues (or replaces) the credential of a commune replica and returns the token, which
    /// is shown once and never stored. `scope` defaults to the unit whose official code is
    /// the replica id. A credential of the other role under the same name is never replaced
    /// (revoke it first), and no credential may carry the district's own replica id: changes
    /// pushed under it would pass for the district's.
    public func issueCredential(for commune: ReplicaID, scope: String?, reviewer: Bool = false) throws -> String {
        let role: Caller.Role = reviewer ? .reviewer : .commune
        guard commune != district else {
            throw HubError.badRequest(
                "\(commune) is this hub's own replica id (the district's): no office or reviewer may sync under it; "
                    + "use the commune's official code, or a reviewer's own name")
        }
        if let existing = try Credentials.list(in: replica.database).first(where: { $0.replica == commune }), existing.role != role {
            throw HubError(
                status: 409, code: "credential_exists",
                message: "\(commune) already holds a \(existing.role.rawValue)'s credential (issued \(existing.issuedAt)); a "
                    + "\(role.rawValue)'s would replace it. Pick another name, or revoke it first "
                    + "('synchub credential revoke --replica \(commune)')")
        }
        if reviewer { return try Credentials.issue(replica: commune, scope: "*", role: .reviewer, in: replica.database) }
        let unit: String
        if let scope {
            unit = scope
        } else if let found = try replica.database.scalar(
            "SELECT id FROM units WHERE code = ? AND kind IN ('commune', 'ward', 'township') AND effective_to IS NULL",
            [.text(commune.rawValue)])?.textValue {
            unit = found
        } else {
            throw HubError.badRequest(
                "no commune with code \(commune) is in the hub's units table: load the units first, or pass --scope with its units.id")
        }
        return try Credentials.issue(replica: commune, scope: unit, in: replica.database)
    }

    /// Every credential the hub holds (their hashes are not shown).
    public func credentials() throws -> [IssuedCredential] { try Credentials.list(in: replica.database) }

    /// Revokes a credential: requests with it are refused from now on. True if there was one.
    public func revokeCredential(of holder: ReplicaID) throws -> Bool {
        try replica.database.run("DELETE FROM _sync_hub_credentials WHERE replica = ?", [.text(holder.rawValue)])
        return replica.database.changes > 0
    }

    // MARK: Push

    /// Applies a commune's batch in one transaction and answers per change: applied, already
    /// held (a re-sent batch is harmless), or refused with why (kept at the hub, so the same
    /// change re-sent gets the same answer). A refused change never holds back the others.
    ///
    /// A change in a block of counters the hub already settled for this replica (`DotBlock`)
    /// must be the very change the hub holds under that dot: anything else means the replica hands out
    /// counters again (its file was restored from an older copy, or copied), and the whole
    /// batch is refused with `replica_diverged` until the replica has rebased itself.
    ///
    /// `refused` are changes of the batch already refused for what they are on their own
    /// (`IncomingPush`): they are settled like the others, and answered again when re-sent.
    ///
    /// The changes come checked from `IncomingPush`: the caller's own dots, each named once.
    public func push(_ changes: some Collection<Change>, refused rejected: [Refusal] = [], from caller: Caller) throws -> PushResponse {
        try require(.commune, caller)
        // A block of counters the hub holds any of is a block it holds whole (DotBlock).
        let held = try received(caller.replica)
        let isResent = { (counter: UInt64) in DotBlock.of(counter) <= DotBlock.of(held) }
        let resent = changes.filter { isResent($0.dot.counter) }
        let rejectedAgain = rejected.filter { isResent($0.counter) }
        var refusedAgain = try checkResent(resent, from: caller)
        refusedAgain += try repeatRefusals(rejectedAgain, from: caller)
        let fresh = changes.filter { !isResent($0.dot.counter) }
        try verifyContexts(fresh, from: caller)
        let screened = try screen(fresh, from: caller) + rejected.filter { !isResent($0.counter) }
        let refusedCounters = Set(screened.map(\.counter))
        let accepted = fresh.filter { !refusedCounters.contains($0.dot.counter) }
        let report = try replica.apply(accepted) {
            try appendToFeed(accepted)
            for refusal in screened {
                try replica.database.run(
                    """
                    INSERT OR IGNORE INTO _sync_hub_refused(origin, counter, tbl, pk, col, code, message, at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [.text(caller.replica.rawValue), .integer(Int64(refusal.counter)), .text(refusal.table), .text(refusal.row),
                     refusal.column.map(Value.text) ?? .null, .text(refusal.code), .text(refusal.message),
                     .text(Date().formatted(.iso8601))])
            }
            if let last = (fresh.map(\.dot.counter) + screened.map(\.counter)).max() {
                try replica.database.run(
                    """
                    INSERT INTO _sync_hub_received(origin, counter) VALUES (?, ?)
                    ON CONFLICT(origin) DO UPDATE SET counter = max(counter, excluded.counter)
                    """, [.text(caller.replica.rawValue), .integer(Int64(last))])
            }
        }
        if report.applied > 0 { try enforceSeats() }
        return PushResponse(
            acknowledged: try received(caller.replica), applied: report.applied,
            duplicates: resent.count - refusedAgain.count + report.duplicates + rejectedAgain.count,
            refused: refusedAgain + screened, heldBefore: held)
    }

    /// Refusals of changes re-sent in a block the hub settled: the same answer as before.
    private func repeatRefusals(_ refusals: [Refusal], from caller: Caller) throws -> [Refusal] {
        try refusals.map { refusal in
            guard let stored = try replica.database.query(
                "SELECT code, message FROM _sync_hub_refused WHERE origin = ? AND counter = ?",
                [.text(caller.replica.rawValue), .integer(Int64(refusal.counter))]).first
            else { throw diverged(Dot(replica: caller.replica, counter: refusal.counter), of: caller) }
            return Refusal(counter: refusal.counter, table: refusal.table, row: refusal.row, column: refusal.column,
                           code: stored[0].textValue ?? refusal.code, message: stored[1].textValue ?? refusal.message)
        }
    }

    /// Every context a replica sends names only history the hub holds: the district's own
    /// changes up to the hub's counter, another replica's up to what the hub settled of it. A
    /// context beyond that is not what the replica saw (all it sees comes from here): taken
    /// in, it would make later changes count as seen before they were made: district
    /// decisions overruled for good, a merge state that no longer matches the rows.
    private func verifyContexts(_ changes: [Change], from caller: Caller) throws {
        var known: [ReplicaID: UInt64] = [district: try replica.counter]
        for change in changes {
            for (other, counter) in change.context.entries where other != change.dot.replica {
                if known[other] == nil { known[other] = try received(other) }
                guard counter > known[other]! else { continue }
                throw HubError(
                    status: 409, code: "context_ahead",
                    message: "change \(change.dot) says it was made after change \(other):\(counter), but the hub holds "
                        + "\(other)'s changes only up to \(known[other]!): a replica learns of others' changes only from "
                        + "its hub, so either this hub was restored from an older backup (the changes come back as "
                        + "offices send them again, and this batch goes through then) or the replica file at "
                        + "\(caller.replica) is damaged: run 'syncctl doctor' there. Nothing of this batch was applied")
            }
        }
    }

    private func diverged(_ dot: Dot, of caller: Caller) -> HubError {
        HubError(
            status: 409, code: "replica_diverged",
            message: "the hub already holds change \(dot) of \(caller.replica), and it is not this one: this replica "
                + "file hands out counters it used before (it was restored from an older copy, or copied from another "
                + "computer). syncd rebuilds the replica from the hub and sends every unsent change again by itself; "
                + "if this keeps happening, two copies of the replica are running: stop the other one")
    }

    /// Changes at or below what the hub settled for their origin: each must be the one the hub
    /// holds (in its feed, or among its refusals) under that dot. Returns the refusals to
    /// repeat; throws `replica_diverged` when a dot names something else.
    private func checkResent(_ changes: [Change], from caller: Caller) throws -> [Refusal] {
        var again: [Refusal] = []
        for change in changes {
            let key: [Value] = [.text(caller.replica.rawValue), .integer(Int64(change.dot.counter))]
            if let held = try replica.database.query(
                "SELECT tbl, pk, col, val, hlc FROM _sync_hub_feed WHERE origin = ? AND counter = ?", key).first {
                if held[0].textValue == change.table, held[1].textValue == change.row, held[2].textValue == change.column,
                    held[3] == (change.operation.value ?? .null), held[4].integerValue == Int64(bitPattern: change.timestamp.rawValue) {
                    continue
                }
            } else if let refusal = try replica.database.query(
                "SELECT tbl, pk, col, code, message FROM _sync_hub_refused WHERE origin = ? AND counter = ?", key).first {
                if refusal[0].textValue == IncomingPush.stored(change.table), refusal[1].textValue == IncomingPush.stored(change.row),
                    refusal[2].textValue == change.column.map(IncomingPush.stored) {
                    again.append(Refusal(counter: change.dot.counter, table: change.table, row: change.row, column: change.column,
                                         code: refusal[3].textValue ?? "refused", message: refusal[4].textValue ?? ""))
                    continue
                }
            }
            throw diverged(change.dot, of: caller)
        }
        return again
    }

    /// The changes of a batch the hub will not take, with why: rows outside the caller's
    /// commune, tables and columns the hub's schema does not have, reference tables, values
    /// too large. Judged per row (a row's changes stand or fall together) and per change.
    private func screen(_ changes: [Change], from caller: Caller) throws -> [Refusal] {
        var refusals: [Refusal] = []
        func refuse(_ change: Change, _ code: String, _ message: String) {
            refusals.append(Refusal(
                counter: change.dot.counter, table: IncomingPush.stored(change.table), row: IncomingPush.stored(change.row),
                column: change.column.map(IncomingPush.stored), code: code, message: message))
        }
        var declared: [RowKey: Set<String>] = [:]
        var valid: [Change] = []
        for change in changes {
            guard let table = replica.schema.table(named: change.table) else {
                refuse(change, "unknown_table", "unknown table '\(IncomingPush.shown(change.table))': the sender's register schema differs from the hub's")
                continue
            }
            guard table.owner == .shared else {
                refuse(change, "reference_table", "\(change.table) are managed by the district hub; a commune cannot change them")
                continue
            }
            if let column = change.column {
                guard table.columns.contains(where: { $0.name == column }) else {
                    refuse(change, "unknown_column", "unknown column '\(change.table).\(IncomingPush.shown(column))': the sender's register schema differs from the hub's")
                    continue
                }
                if let problem = Self.valueProblem(change.operation.value ?? .null, for: table.columns.first { $0.name == column }!) {
                    refuse(change, problem.code, "\(change.table).\(column) of row \(IncomingPush.shown(change.row)) \(problem.message): "
                        + "correct it at the office, then 'syncctl refused retry \(change.table)/\(IncomingPush.shown(change.row))'")
                    continue
                }
                if case .text(let text) = change.operation.value, text.utf8.count > Self.maxValueBytes {
                    refuse(change, "too_large", "\(change.table).\(column) of row \(IncomingPush.shown(change.row)) holds \(text.utf8.count) bytes; "
                        + "at most \(Self.maxValueBytes) are accepted: shorten it, then 'syncctl refused retry'")
                    continue
                }
                if column == "commune_id" {
                    declared[RowKey(table: change.table, row: change.row), default: []].insert(change.operation.value?.description ?? "")
                }
            }
            valid.append(change)
        }
        // Per row: why it is not the caller's, if it is not.
        var foreign: [RowKey: String] = [:]
        for key in Set(valid.map { RowKey(table: $0.table, row: $0.row) }) {
            let name = "row \(key.table)/\(key.row)"
            let fix = "a commune may change only its own records: set commune_id to '\(caller.scope)' (this commune's "
                + "units.id, not its code) and run 'syncctl refused retry \(key.table)/\(key.row)', or drop the change with "
                + "'syncctl refused clear \(key.table)/\(key.row)'"
            let claims = declared[key] ?? []
            if let existing = try scopeOfRow(table: key.table, row: key.row) {
                if existing != caller.scope { foreign[key] = "\(name) is kept by another commune (\(existing)): \(fix)" }
                else if let other = claims.first(where: { $0 != caller.scope }) {
                    foreign[key] = "\(name) would move to commune_id '\(IncomingPush.shown(other))', which is not this commune's: \(fix)"
                }
            } else if let other = claims.first(where: { $0 != caller.scope }) {
                foreign[key] = other == "NULL" || other.isEmpty ? "\(name) has no commune_id: \(fix)"
                    : "\(name) has commune_id '\(IncomingPush.shown(other))', which is not this commune's: \(fix)"
            } else if claims.isEmpty {
                foreign[key] = "\(name) has no commune_id: \(fix)"
            }
        }
        for change in valid {
            if let why = foreign[RowKey(table: change.table, row: change.row)] { refuse(change, "out_of_scope", why) }
        }
        return refusals
    }

    /// Why a value cannot go into a column, or nil. SQLite keeps whatever it is given, so the
    /// hub checks what its columns are declared to hold; a NUL byte would cut text short.
    static func valueProblem(_ value: Value, for column: ColumnSchema) -> (code: String, message: String)? {
        switch (value, column.type) {
        case (.null, _), (.integer, .integer), (.integer, .real), (.real, .real):
            return nil
        case (.text(let text), .text):
            return text.utf8.contains(0) ? ("bad_value", "holds a NUL byte, which text in the register cannot hold") : nil
        case (.text, .integer):
            return ("wrong_type", "holds text, but the column holds whole numbers")
        case (.text, .real):
            return ("wrong_type", "holds text, but the column holds numbers")
        case (.real, .integer):
            return ("wrong_type", "holds a fraction, but the column holds whole numbers")
        case (.integer, .text), (.real, .text):
            return ("wrong_type", "holds a number, but the column holds text")
        }
    }

    func require(_ role: Caller.Role, _ caller: Caller) throws {
        guard caller.role == role else {
            throw HubError.forbidden("the credential of \(caller.replica) is a \(caller.role.rawValue)'s; this needs a \(role.rawValue)'s")
        }
    }

    /// Applies the seat rule at the hub: the losing assignments of settled seat conflicts are
    /// ended (never deleted) by a district write, which then travels to every replica.
    @discardableResult
    func enforceSeats() throws -> Int {
        var ended = 0
        for conflict in try replica.conflicts(state: .settled, column: ConflictRecord.seatColumn) {
            let keepers = Set(conflict.chosen.split(separator: " ").map(String.init))
            let holders = conflict.seatSides
            guard let keeper = holders.first(where: { keepers.contains($0.assignment) }) else { continue }
            for loser in holders where !keepers.contains(loser.assignment) {
                let active = try replica.database.scalar(
                    "SELECT 1 FROM assignments WHERE id = ? AND (end_date IS NULL OR end_date = '')", [.text(loser.assignment)]) != nil
                guard active else { continue }
                let reason = "position conflict: seat kept by \(keeper.person) (decision \(keeper.decisionNo ?? "?") of "
                    + "\(keeper.decisionDate ?? "?"), recorded at \(keeper.origin)) under rule \(conflict.rule); ended by the district hub"
                // Ended when the keeper took the seat, but never before the loser's own start
                // (ISO dates compare as text).
                let keeperStart = keeper.startDate ?? Date().formatted(.iso8601.year().month().day())
                try replica.write(table: "assignments", row: loser.assignment, values: [
                    "end_date": .text(max(keeperStart, loser.startDate ?? keeperStart)),
                    "end_reason": .text(reason),
                ])
                ended += 1
            }
        }
        if ended > 0 { try ingestLocalEdits() }
        return ended
    }

    /// The commune a row belongs to at the hub, from its merge state (so deleted rows count).
    private func scopeOfRow(table: String, row: String) throws -> String? {
        try replica.database.scalar(
            "SELECT val FROM _sync_fields WHERE tbl = ? AND pk = ? AND col = 'commune_id'", [.text(table), .text(row)]
        )?.textValue
    }

    private func received(_ origin: ReplicaID) throws -> UInt64 {
        UInt64(try replica.database.scalar("SELECT counter FROM _sync_hub_received WHERE origin = ?", [.text(origin.rawValue)])?.integerValue ?? 0)
    }

    private func appendToFeed(_ changes: [Change]) throws {
        var scopes: [RowKey: String] = [:]
        for change in changes {
            let key = RowKey(table: change.table, row: change.row)
            if scopes[key] == nil {
                let reference = replica.schema.table(named: change.table)?.owner == .district
                scopes[key] = reference ? "*" : try scopeOfRow(table: change.table, row: change.row) ?? ""
            }
            let value: Value
            if case .set(_, let written) = change.operation { value = written } else { value = .null }
            try replica.database.run(
                "INSERT INTO _sync_hub_feed(scope, origin, counter, tbl, pk, col, val, hlc, ctx) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [.text(scopes[key]!), .text(change.dot.replica.rawValue), .integer(Int64(change.dot.counter)),
                 .text(change.table), .text(change.row), change.column.map(Value.text) ?? .null, value,
                 .integer(Int64(change.timestamp.rawValue)), .text(change.context.removing(change.dot.replica).description)])
        }
    }

    // MARK: District edits

    /// Folds writes made directly in the hub's replica (district staff, imports of reference
    /// data) and appends them to the feed. Returns how many changes were added.
    @discardableResult
    public func ingestLocalEdits() throws -> Int {
        // Every pull asks: answer from a read when nothing new was written at the hub, rather
        // than taking the write lock for nothing.
        let fed = UInt64(try replica.meta("fed_counter")?.integerValue ?? 0)
        guard try replica.hasUnfoldedWrites || replica.counter > fed else { return 0 }
        var added = 0
        try replica.apply([]) {
            let fed = UInt64(try replica.meta("fed_counter")?.integerValue ?? 0)
            let own = try replica.capturedChanges(after: fed)
            guard let last = own.last else { return }
            try appendToFeed(own)
            try replica.setMeta("fed_counter", .integer(Int64(last.dot.counter)))
            added = own.count
        }
        return added
    }

    // MARK: Pull and snapshot

    public func pull(for caller: Caller, after: Int64, limit: Int, rulesVersion: Int? = nil) throws -> PullResponse {
        try require(.commune, caller)
        try ingestLocalEdits()
        let rules = try replica.rules
        return try replica.database.transaction {
            var changes: [Change] = []
            var last = after
            try replica.database.forEachRow(
                """
                SELECT seq, origin, counter, tbl, pk, col, val, hlc, ctx FROM _sync_hub_feed
                WHERE scope IN (?, '*') AND seq > ? AND origin <> ? ORDER BY seq LIMIT ?
                """,
                [.text(caller.scope), .integer(after), .text(caller.replica.rawValue), .integer(Int64(limit))]
            ) { row in
                last = row[0].integerValue ?? last
                changes.append(try feedChange(row))
            }
            let more = changes.count == limit
            if !more {
                // Nothing more in scope: skip past what others' scopes added meanwhile.
                last = max(last, try replica.database.scalar("SELECT max(seq) FROM _sync_hub_feed")?.integerValue ?? 0)
            }
            return PullResponse(
                changes: ChangeGroup.group(changes), next: last, more: more, acknowledged: try received(caller.replica),
                hub: district.rawValue, time: Int64(Date().timeIntervalSince1970 * 1000),
                rulesVersion: rules.version, rules: rulesVersion == rules.version ? nil : rules)
        }
    }

    private func feedChange(_ row: [Value]) throws -> Change {
        guard let origin = row[1].textValue.flatMap(ReplicaID.init(rawValue:)), case .integer(let counter) = row[2],
            let table = row[3].textValue, let key = row[4].textValue, case .integer(let hlc) = row[7],
            var context = row[8].textValue.flatMap(VersionVector.init(text:))
        else { throw HubError(status: 500, code: "damaged_feed", message: "a feed row is damaged: run 'syncctl doctor' on the hub") }
        let dot = Dot(replica: origin, counter: UInt64(counter))
        context.record(Dot(replica: origin, counter: dot.counter - 1))
        let operation: Change.Operation = row[5].textValue.map { .set(column: $0, value: row[6]) } ?? .delete
        return Change(table: table, row: key, operation: operation, dot: dot, context: context, timestamp: HybridTimestamp(rawValue: UInt64(hlc)))
    }

    /// A page of the current merge state of the caller's scope. The cursor is `table/row` of
    /// the last row sent; reference tables come first, whole.
    public func snapshot(for caller: Caller, cursor: String?, checkpoint: Int64?, limit: Int) throws -> SnapshotPage {
        try require(.commune, caller)
        try ingestLocalEdits()
        let start = try checkpoint ?? replica.database.scalar("SELECT max(seq) FROM _sync_hub_feed")?.integerValue ?? 0
        var (tableIndex, after) = (0, "")
        if let cursor {
            guard let slash = cursor.firstIndex(of: "/"),
                let index = replica.schema.tables.firstIndex(where: { $0.name == cursor[..<slash] })
            else { throw HubError.badRequest("malformed snapshot cursor '\(cursor)': start the snapshot again without one") }
            (tableIndex, after) = (index, String(cursor[cursor.index(after: slash)...]))
        }
        var rows: [RowSnapshot] = []
        var next: String?
        let tables = replica.schema.tables
        while tableIndex < tables.count && rows.count < limit {
            let table = tables[tableIndex]
            let page = try replica.rowStates(
                table: table.name, after: after, scope: table.owner == .district ? nil : caller.scope, limit: limit - rows.count)
            rows += page.map { RowSnapshot(table: table.name, row: $0.0, state: $0.1) }
            if let last = page.last, rows.count == limit {
                next = "\(table.name)/\(last.0)"
            } else {
                tableIndex += 1
                after = ""
                if rows.count == limit && tableIndex < tables.count { next = "\(tables[tableIndex].name)/" }
            }
        }
        return SnapshotPage(rows: rows, checkpoint: start, cursor: next, acknowledged: try received(caller.replica))
    }

    /// The caller's own changes the hub holds above counter `after`, in counter order.
    public func ownChanges(for caller: Caller, after: UInt64, limit: Int) throws -> OwnChangesResponse {
        try require(.commune, caller)
        var changes: [Change] = []
        var next = after
        try replica.database.forEachRow(
            """
            SELECT seq, origin, counter, tbl, pk, col, val, hlc, ctx FROM _sync_hub_feed
            WHERE origin = ? AND counter > ? ORDER BY counter LIMIT ?
            """, [.text(caller.replica.rawValue), .integer(Int64(min(after, UInt64(Int64.max)))), .integer(Int64(limit))]
        ) { row in
            let change = try feedChange(row)
            next = change.dot.counter
            changes.append(change)
        }
        return OwnChangesResponse(changes: ChangeGroup.group(changes), next: next, more: changes.count == limit,
                                  acknowledged: try received(caller.replica))
    }

    // MARK: Anti-entropy

    /// The digest of the caller's scope as the hub holds it.
    public func digest(for caller: Caller) throws -> DigestResponse {
        try require(.commune, caller)
        try ingestLocalEdits()
        let digest = try replica.digest(scope: caller.scope)
        return DigestResponse(tables: replica.schema.tables.map { table in
            let sums = digest.tables[table.name] ?? ScopeDigest.Table()
            return TableDigest(table: table.name, rows: sums.rows, buckets: sums.buckets.map(Self.hex))
        })
    }

    /// The merge state of rows of the caller's scope, by id or by digest bucket. Rows outside
    /// the scope are left out, as if they did not exist.
    public func rows(_ request: RowsRequest, for caller: Caller) throws -> RowsResponse {
        try require(.commune, caller)
        guard let table = replica.schema.table(named: request.table) else {
            throw HubError.badRequest("unknown table '\(request.table)': the sender's register schema differs from the hub's")
        }
        let ids = request.ids ?? []
        let buckets = Set(request.buckets ?? [])
        guard buckets.allSatisfy({ (0..<ScopeDigest.bucketCount).contains($0) }) else {
            throw HubError.badRequest("digest buckets are numbered 0 to \(ScopeDigest.bucketCount - 1)")
        }
        try ingestLocalEdits()
        let scope = table.owner == .district ? nil : caller.scope
        var found = try replica.rowStates(table: table.name, scope: scope, buckets: buckets)
        for id in Set(ids) {
            guard let state = try replica.rowState(table: table.name, row: id) else { continue }
            if let scope, state.fields["commune_id"]?.writes.first?.value != .text(scope) { continue }
            found.append((id, state))
        }
        return RowsResponse(rows: found.map { RowSnapshot(table: table.name, row: $0.0, state: $0.1) })
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    // MARK: For people and tests

    /// Everything the hub holds for one replica's changes.
    public func receivedCounter(of origin: ReplicaID) throws -> UInt64 { try received(origin) }

    /// Dots in the feed, counted per dot: a dot held twice would show a count above 1.
    public func feedDotCounts() throws -> [Dot: Int] {
        var counts: [Dot: Int] = [:]
        try replica.database.forEachRow("SELECT origin, counter, count(*) FROM _sync_hub_feed GROUP BY origin, counter") { row in
            if let origin = row[0].textValue.flatMap(ReplicaID.init(rawValue:)), case .integer(let counter) = row[1],
                case .integer(let count) = row[2] {
                counts[Dot(replica: origin, counter: UInt64(counter))] = Int(count)
            }
        }
        return counts
    }
}

struct RowKey: Hashable {
    let table: String
    let row: String
}

extension Change.Operation {
    /// The value written, nil for a delete.
    var value: Value? {
        if case .set(_, let value) = self { return value }
        return nil
    }
}
