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
    /// the replica id.
    public func issueCredential(for commune: ReplicaID, scope: String?, reviewer: Bool = false) throws -> String {
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

    // MARK: Push

    /// Applies a commune's batch in one transaction: validated whole, deduplicated by dot,
    /// appended to the feed. Re-sending a batch is harmless.
    public func push(_ changes: [Change], from caller: Caller) throws -> PushResponse {
        try require(.commune, caller)
        try validate(changes, from: caller)
        let held = try received(caller.replica)
        let fresh = changes.filter { $0.dot.counter > held }
        let report = try replica.apply(fresh) {
            try appendToFeed(fresh)
            if let last = fresh.map(\.dot.counter).max() {
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
            duplicates: changes.count - fresh.count + report.duplicates)
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

    private func validate(_ changes: [Change], from caller: Caller) throws {
        var declared: [RowKey: Set<String>] = [:]
        for change in changes {
            guard change.dot.replica == caller.replica else {
                throw HubError.forbidden(
                    "change \(change.dot) carries a dot of replica \(change.dot.replica): \(caller.replica) may push only its own changes")
            }
            guard let table = replica.schema.table(named: change.table) else {
                throw HubError.badRequest("unknown table '\(change.table)': the sender's register schema differs from the hub's")
            }
            guard table.owner == .shared else {
                throw HubError.forbidden("\(change.table) are managed by the district hub; a commune cannot change them")
            }
            if let column = change.column {
                guard table.columns.contains(where: { $0.name == column }) else {
                    throw HubError.badRequest("unknown column '\(change.table).\(column)': the sender's register schema differs from the hub's")
                }
                if case .text(let text) = change.operation.value, text.utf8.count > Self.maxValueBytes {
                    throw HubError.tooLarge("\(change.table).\(column) of row \(change.row) holds \(text.utf8.count) bytes; at most \(Self.maxValueBytes) are accepted")
                }
                if column == "commune_id" {
                    declared[RowKey(table: change.table, row: change.row), default: []].insert(change.operation.value?.description ?? "")
                }
            }
        }
        for key in Set(changes.map { RowKey(table: $0.table, row: $0.row) }) {
            let existing = try scopeOfRow(table: key.table, row: key.row)
            let claims = declared[key] ?? []
            let inScope = (existing == nil || existing == caller.scope) && claims.allSatisfy { $0 == caller.scope }
                && (existing != nil || !claims.isEmpty)
            guard inScope else {
                throw HubError.forbidden(
                    "row \(key.table)/\(key.row) belongs to \(existing ?? claims.first ?? "no commune"), not to \(caller.replica)'s "
                        + "commune (\(caller.scope)): a commune may change only its own records")
            }
        }
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
