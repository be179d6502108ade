import Foundation
import MergeEngine
import Register
import SyncConfig
import SyncCore
import SyncProtocol

/// The district hub: what it does with what replicas send and ask, written once above its
/// storage (`HubStorage`). Every check of a push (dots, contexts, scope, schema, values), the
/// seat rule's enforcement, paging and scope of what is served live here; the storage keeps
/// and reads. One actor per hub process: what writes (a push, a decision, district edits fed)
/// takes turns on it, and every push is one transaction; what an office only reads (pull,
/// snapshot page, digest, rows) is served outside it, beside the writes, each in one read
/// transaction of the storage.
public actor HubStore {
    package let storage: any HubStorage
    public nonisolated let district: ReplicaID
    public nonisolated let schema: RegisterSchema
    public nonisolated var schemaVersion: Int { schema.version }
    /// For how many days after its unit's last day an ended office's credential is still
    /// taken (for its backlog of changes typed before it knew), at most.
    public nonisolated let endedOfficeDays: Int
    /// The compaction horizon (`office_log_days`, 0: none): what `synchub offices` measures an
    /// office's absence against.
    public nonisolated let officeLogDays: Int
    /// Seals the district's changes in pulls, and checks those offices give back (nil: none
    /// are sealed, none taken back). `useSeal` sets it.
    var seal: DistrictSeal?
    /// When each office's facts were last written, and what they were (`noteOffice`).
    var officeNoted: [ReplicaID: (at: Date, facts: OfficeFacts?, pulled: Int64)] = [:]
    /// What offices said of themselves, not written yet (`noteOffice`), and the task that will.
    var officesWaiting: [ReplicaID: OfficeSeen] = [:]
    var officesWriter: Task<Void, Never>?
    /// Largest text value accepted in one field.
    public static let maxValueBytes = 64 * 1024
    /// How far past the last counter the hub settled of a replica a pushed counter may be.
    /// An office numbers its changes 64 to a captured row (`DotBlock`) and sends them in
    /// order, so between two pushes it moves on by far less (2^32 is 67 million rows typed
    /// offline); a counter beyond is a forged or damaged file. Taken in, it would leave the
    /// replica no counters above it to rebuild with (they stop at 2^63).
    public static let maxCounterLead: UInt64 = 1 << 32

    /// The hub on `storage`.
    public init(storage: any HubStorage, endedOfficeDays: Int = HubLimits().endedOfficeDays, officeLogDays: Int = HubLimits().officeLogDays) {
        self.storage = storage
        district = storage.district
        schema = storage.schema
        self.endedOfficeDays = endedOfficeDays
        self.officeLogDays = officeLogDays
    }

    // MARK: Credentials

    /// The caller an `Authorization` header names. The office of a unit that ended more than
    /// `endedOfficeDays` ago is refused whatever it asks: its backlog had that long to arrive.
    public func authenticate(_ authorization: String?) async throws -> Caller {
        let caller = try await Credentials.verify(authorization: authorization, in: storage)
        if let lastDay = caller.scopeLastDay,
            let until = Self.lastDayTaken(endedOn: lastDay, recorded: caller.scopeEndRecorded, days: endedOfficeDays),
            until < RegisterDate.today()
        {
            throw HubError(
                status: 410, code: "unit_ended",
                message: "the unit of office \(caller.replica) was in force until \(lastDay), and the district took what its office still "
                    + "had to send until \(until): this credential is no longer accepted. Stop syncd here ('systemctl disable --now syncd'); "
                    + "anything still unsent must be typed again at the office of the successor")
        }
        return caller
    }

    /// The last day an office of a unit that ended on `endedOn` is still taken from: `days`
    /// after that day, or after the day the hub recorded it when that came later (a
    /// reorganisation entered weeks after it took effect still gives offices `days`).
    static func lastDayTaken(endedOn: String, recorded: HybridTimestamp?, days: Int) -> String? {
        let recordedOn = recorded.map { RegisterDate.day(of: Date(timeIntervalSince1970: Double($0.wallMillis) / 1000)) }
        return RegisterDate.day(after: max(endedOn, recordedOn ?? endedOn), by: days)
    }

    /// Issues (or replaces) the credential of a commune replica and returns the token, which
    /// is shown once and never stored. `scope` defaults to the unit whose official code is
    /// the replica id. A credential of the other role under the same name is never replaced
    /// (revoke it first), and no credential may carry the district's own replica id: changes
    /// pushed under it would pass for the district's.
    public func issueCredential(for commune: ReplicaID, scope: String?, reviewer: Bool = false) async throws -> String {
        let role: Caller.Role = reviewer ? .reviewer : .commune
        guard commune != district else {
            throw HubError.badRequest(
                "\(commune) is this hub's own replica id (the district's): no office or reviewer may sync under it; "
                    + "use the commune's official code, or a reviewer's own name")
        }
        return try await storage.write { store in
            if reviewer {
                if let existing = try await store.credential(of: commune), existing.role != role {
                    throw HubError(
                        status: 409, code: "credential_exists",
                        message: "\(commune) already holds a \(existing.role.rawValue)'s credential (issued \(existing.issuedAt)); a "
                            + "reviewer's would replace it. Pick another name, or revoke it first "
                            + "('synchub credential revoke --replica \(commune)')")
                }
                if try await store.replicaUse(commune) != nil {
                    throw HubError(
                        status: 409, code: "credential_exists",
                        message: "\(commune) names a commune office's replica (its changes are in the register): pick another name for the reviewer")
                }
                return try await Credentials.issue(replica: commune, scope: "*", role: .reviewer, in: store)
            }
            let unit: String
            if let scope {
                unit = scope
            } else if let found = try await store.communeUnit(code: commune.rawValue) {
                unit = found
            } else if let issued = try await store.replicaUse(commune), !issued.isEmpty {
                unit = issued  // a replica id the hub issued before, e.g. 06895-2: that unit's again
            } else {
                throw HubError.badRequest(
                    "no commune with code \(commune) is in force in the hub's units table: load the units first, or pass --scope with its units.id")
            }
            let replica = try await replicaID(typed: commune, for: unit, in: store)
            if let existing = try await store.credential(of: replica), existing.role != .commune {
                throw HubError(
                    status: 409, code: "credential_exists",
                    message: "\(replica) already holds a \(existing.role.rawValue)'s credential (issued \(existing.issuedAt)); a "
                        + "commune's would replace it. Revoke it first ('synchub credential revoke --replica \(replica)')")
            }
            return try await Credentials.issue(replica: replica, scope: unit, in: store)
        }
    }

    /// The replica id of the office of `unit`: the one issued for it before, or a new one
    /// never used by anyone: the official code the first time, `CODE-2`, `CODE-3`, ... when
    /// the code names a unit that took it over from another (after a merger) or when an
    /// office of the unit once used it under another unit. A replica id is never reused, so
    /// no two offices ever hand out the same dots.
    func replicaID(typed: ReplicaID, for unit: String, in store: any HubTransaction) async throws -> ReplicaID {
        let code = typed.rawValue
        if let issued = try await store.replicas(serving: unit).last(where: { $0.rawValue == code || $0.rawValue.hasPrefix(code + "-") }) {
            return issued
        }
        var candidate = typed
        var number = 1
        func used(_ id: ReplicaID) async throws -> Bool {
            if try await store.replicaUse(id) != nil { return true }
            if try await store.credential(of: id) != nil { return true }
            return try await store.received(id) > 0
        }
        while try await used(candidate) {
            number += 1
            candidate = ReplicaID(rawValue: "\(code)-\(number)")!
        }
        try await store.recordReplica(candidate, scope: unit, at: Date().formatted(.iso8601))
        return candidate
    }

    /// Every credential the hub holds (their hashes are not shown).
    public func credentials() async throws -> [IssuedCredential] {
        try await storage.read { store in
            var issued = try await store.credentials()
            for index in issued.indices where issued[index].role == .commune {
                if let held = try await store.credential(of: issued[index].replica), let lastDay = held.scopeLastDay {
                    issued[index].acceptedUntil = Self.lastDayTaken(endedOn: lastDay, recorded: held.scopeEndRecorded, days: endedOfficeDays)
                }
            }
            return issued
        }
    }

    /// Whether the hub still holds the very credential `caller` was recognised by, in the same
    /// role: false once it was revoked or replaced. Read from the store on every call, so a
    /// revocation made through any synchub process (or the CLI) on a shared database counts
    /// at once; a review-desk session asks this before each page and decision.
    public func stillHolds(_ caller: Caller) async throws -> Bool {
        guard let digest = caller.credentialDigest else { return false }
        guard let stored = try await storage.read({ try await $0.credential(of: caller.replica) }) else { return false }
        return stored.role == caller.role && stored.sha256 == digest
    }

    /// Sets (or replaces) the password of reviewer account `name`, for logging in to the desk
    /// by name. Open sessions of the account end at their next page (`stillHolds`). A name
    /// that holds a token (a reviewer's or an office's) is refused: a person's account and a
    /// script's token are kept under different names.
    public func setReviewerPassword(_ name: ReplicaID, password: String) async throws {
        guard name != district else { throw HubError.badRequest("\(name) is this hub's own replica id (the district's): pick a person's name") }
        guard password.count >= ReviewerPasswords.minimumLength else {
            throw HubError.badRequest("a reviewer's password has at least \(ReviewerPasswords.minimumLength) characters")
        }
        let hash = try ReviewerPasswords.hash(password)
        try await storage.write { store in
            if let existing = try await store.credential(of: name), !ReviewerPasswords.isPasswordHash(existing.sha256) {
                throw HubError(
                    status: 409, code: "credential_exists",
                    message: "\(name) holds a \(existing.role.rawValue)'s token (issued \(existing.issuedAt)): give the person's account "
                        + "another name, or revoke the token first ('synchub credential revoke --replica \(name)')")
            }
            if try await store.replicaUse(name) != nil {
                throw HubError(status: 409, code: "credential_exists",
                               message: "\(name) names a commune office's replica (its changes are in the register): pick another name")
            }
            try await store.saveCredential(StoredCredential(
                replica: name, scope: "*", role: .reviewer, sha256: hash, issuedAt: Date().formatted(.iso8601)))
        }
    }

    /// The reviewer whose name and password these are. A wrong name and a wrong password are
    /// refused alike, so the answer does not tell which names exist.
    public func authenticateReviewer(name: String, password: String) async throws -> Caller {
        let refused = HubError.unauthorized(
            "Tên hoặc mật khẩu không đúng. The name or the password is wrong: check them, or ask the district's admin to set a new "
                + "password ('synchub reviewer passwd NAME')")
        guard let replica = ReplicaID(rawValue: name), !password.isEmpty,
            let stored = try await storage.read({ try await $0.credential(of: replica) }),
            stored.role == .reviewer, ReviewerPasswords.isPasswordHash(stored.sha256),
            ReviewerPasswords.matches(password, stored.sha256)
        else { throw refused }
        return Caller(replica: stored.replica, scope: stored.scope, role: .reviewer, credentialDigest: stored.sha256)
    }

    /// Revokes a credential: requests with it are refused from now on. True if there was one.
    public func revokeCredential(of holder: ReplicaID) async throws -> Bool {
        try await storage.write { try await $0.deleteCredential(of: holder) }
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
    public func push(
        _ changes: some Collection<Change>, refused rejected: [Refusal] = [], after: UInt64? = nil, from caller: Caller
    ) async throws -> PushResponse {
        try require(.commune, caller)
        // A re-sent batch (an acknowledgement lost with a killed or cut-off office) is checked
        // in a read, before the write lock: what the hub settled under a dot never changes, so
        // a batch the hub holds whole costs other offices' pushes no wait. A batch the office
        // sends as new (numbered above what it recorded as acknowledged, `after`) skips it:
        // what the hub settled of it meanwhile is checked under the lock.
        let counters = changes.map(\.dot.counter) + rejected.map(\.counter)
        var checked: [UInt64: SettledChange] = [:]
        if after == nil || counters.contains(where: { DotBlock.of($0) <= DotBlock.of(after!) }) {
            checked = try await storage.read { store in
                let held = try await store.received(caller.replica)
                return try await store.settled(caller.replica, counters: counters.filter { DotBlock.of($0) <= DotBlock.of(held) })
            }
        }
        let response = try await storage.write(commune: caller.scope) { store in
            // A block of counters the hub holds any of is a block it holds whole (DotBlock).
            let held = try await store.received(caller.replica)
            // A hub put back from an older copy holds less of the office than it recorded:
            // taking a batch numbered above what it lost would move what it settled past the
            // loss for good. Refused instead; the office sends again from what the hub holds.
            if let after, held < after {
                throw HubError(
                    status: 409, code: "hub_behind",
                    message: "the hub holds the changes of \(caller.replica) only up to \(held), fewer than the office recorded (\(after)): "
                        + "it was put back from an older copy. Nothing of this batch was applied; syncd sends again what the hub lost by itself")
            }
            let top = max(changes.map(\.dot.counter).max() ?? 0, rejected.map(\.counter).max() ?? 0)
            try await refuseIfBacklogIn(caller, top: top, in: store)
            guard top <= held + Self.maxCounterLead else {
                throw HubError(
                    status: 400, code: "counter_ahead",
                    message: "change \(caller.replica):\(top) is numbered more than \(Self.maxCounterLead) past the last change the hub "
                        + "holds from this office: no office writes that much between two syncs, so this replica file is damaged "
                        + "or was altered. Nothing of this batch was applied; run 'syncctl doctor' at the office")
            }
            let isResent = { (counter: UInt64) in DotBlock.of(counter) <= DotBlock.of(held) }
            let resent = changes.filter { isResent($0.dot.counter) }
            let rejectedAgain = rejected.filter { isResent($0.counter) }
            // Settled since the read (another request of the same office): checked here.
            var settled = checked
            let unread = (resent.map(\.dot.counter) + rejectedAgain.map(\.counter)).filter { settled[$0] == nil }
            if !unread.isEmpty { settled.merge(try await store.settled(caller.replica, counters: unread)) { $1 } }
            var refusedAgain = try checkResent(resent, from: caller, against: settled)
            refusedAgain += try repeatRefusals(rejectedAgain, from: caller, against: settled)
            let fresh = changes.filter { !isResent($0.dot.counter) }
            try await verifyContexts(fresh, from: caller, in: store)
            let screened = try await screen(fresh, from: caller, in: store) + rejected.filter { !isResent($0.counter) }
            let refusedCounters = Set(screened.map(\.counter))
            let accepted = fresh.filter { !refusedCounters.contains($0.dot.counter) }
            let formerly = try await citizenIDsBefore(accepted, in: store)
            let report = try await store.merge(accepted)
            try await reviewDuplicatePersons(after: accepted, formerly: formerly, in: store)
            try await appendToFeed(accepted, in: store)
            try await store.recordRefusals(screened, of: caller.replica, at: Date().formatted(.iso8601))
            let last = (fresh.map(\.dot.counter) + screened.map(\.counter)).max()
            if let last { try await store.recordReceived(caller.replica, counter: last) }
            // A seat can only be filled twice by a change to a position or an assignment: the
            // losers of what the merge settled are ended in the same transaction.
            var districtWrote = false
            if report.applied > 0, accepted.contains(where: { SeatCheck.tables.contains($0.table) }) {
                districtWrote = try await endSeatLosers(in: store) > 0
            }
            // An office of a unit that ended delivers what it typed before it knew: records it
            // created there go on to the successor, as the reorganisation moved the others. A
            // record is created with its commune_id; a batch without one creates nothing.
            if report.applied > 0, accepted.contains(where: { $0.column == RowScope.column }),
                let ended = try await endedUnit(caller.scope, in: store)?.successorID
            {
                districtWrote = try await !moveRecords(of: caller.scope, in: store) { _, _, _ in ended }.isEmpty || districtWrote
            }
            if districtWrote { try await feedDistrictEdits(in: store) }
            return PushResponse(
                acknowledged: max(held, last ?? 0), applied: report.applied,
                duplicates: resent.count - refusedAgain.count + report.duplicates + rejectedAgain.count,
                refused: refusedAgain + screened, heldBefore: held)
        }
        return response
    }

    /// An office of an ended unit has its backlog in once it was refused a read (`serve`: it
    /// reads only after pushing all it had): from then on, a batch of changes numbered above
    /// what the hub held of it then is refused whole, with where its records went.
    private func refuseIfBacklogIn(_ caller: Caller, top: UInt64, in store: any HubTransaction) async throws {
        guard let lastDay = caller.scopeLastDay, lastDay < RegisterDate.today(),
            let told = try await store.told(caller.replica).last(where: { $0.seq == Self.toldUnitEnded })?.counter, top > told,
            let ended = try await endedUnit(caller.scope, in: store)
        else { return }
        throw HubError(
            status: 410, code: "unit_ended",
            message: "the hub holds every change office \(caller.replica) had typed when it learned its unit ended (up to \(told)); "
                + "what it types now is not taken. " + ended.refusal(replica: caller.replica))
    }

    /// Refusals of changes re-sent in a block the hub settled: the same answer as before.
    private func repeatRefusals(_ refusals: [Refusal], from caller: Caller, against settled: [UInt64: SettledChange]) throws -> [Refusal] {
        var again: [Refusal] = []
        for refusal in refusals {
            guard case .refused(let stored)? = settled[refusal.counter]
            else { throw diverged(Dot(replica: caller.replica, counter: refusal.counter), of: caller) }
            again.append(Refusal(counter: refusal.counter, table: refusal.table, row: refusal.row, column: refusal.column,
                                 code: stored.code, message: stored.message))
        }
        return again
    }

    /// Every context a replica sends names only history the hub holds: the district's own
    /// changes up to the hub's counter, another replica's up to what the hub settled of it. A
    /// context beyond that is not what the replica saw (all it sees comes from here): taken
    /// in, it would make later changes count as seen before they were made: district
    /// decisions overruled for good, a merge state that no longer matches the rows.
    private func verifyContexts(_ changes: [Change], from caller: Caller, in store: any HubTransaction) async throws {
        var known: [ReplicaID: UInt64] = [district: try await store.districtCounter()]
        for change in changes {
            for (other, counter) in change.compactContext.others.entries {
                if known[other] == nil { known[other] = try await store.received(other) }
                guard counter > known[other]! else { continue }
                throw HubError(
                    status: 409, code: "context_ahead",
                    // What the hub holds of another office is not the caller's to know: only its own claim is named.
                    message: "change \(change.dot) says it was made after change \(other):\(counter), which the hub does not "
                        + "hold: a replica learns of others' changes only from "
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
    /// holds (in its feed, or among its refusals) under that dot, as `settled` (what the store
    /// holds under the batch's dots, read set-based) says. Returns the refusals to repeat;
    /// throws `replica_diverged` when a dot names something else.
    private func checkResent(_ changes: [Change], from caller: Caller, against settled: [UInt64: SettledChange]) throws -> [Refusal] {
        var again: [Refusal] = []
        for change in changes {
            switch settled[change.dot.counter] {
            case .held(let held)?:
                if held.table == change.table, held.row == change.row, held.operation == change.operation,
                    held.timestamp == change.timestamp {
                    continue
                }
            case .refused(let refusal)?:
                if refusal.table == IncomingPush.stored(change.table), refusal.row == IncomingPush.stored(change.row),
                    refusal.column == change.column.map(IncomingPush.stored) {
                    again.append(Refusal(counter: change.dot.counter, table: change.table, row: change.row, column: change.column,
                                         code: refusal.code, message: refusal.message))
                    continue
                }
            case nil:
                break
            }
            throw diverged(change.dot, of: caller)
        }
        return again
    }

    /// The changes of a batch the hub will not take, with why: rows outside the caller's
    /// commune, tables and columns the hub's schema does not have, reference tables, values
    /// too large. Judged per row (a row's changes stand or fall together) and per change.
    private func screen(_ changes: [Change], from caller: Caller, in store: any HubTransaction) async throws -> [Refusal] {
        var refusals: [Refusal] = []
        func refuse(_ change: Change, _ code: String, _ message: String) {
            refusals.append(Refusal(
                counter: change.dot.counter, table: IncomingPush.stored(change.table), row: IncomingPush.stored(change.row),
                column: change.column.map(IncomingPush.stored), code: code, message: message))
        }
        var declared: [RowKey: Set<String>] = [:]
        var valid: [Change] = []
        for change in changes {
            guard let table = schema.table(named: change.table) else {
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
                if column == RowScope.column {
                    declared[RowKey(table: change.table, row: change.row), default: []].insert(change.operation.value?.description ?? "")
                }
            }
            valid.append(change)
        }
        // Per row: why it is not the caller's, if it is not.
        var foreign: [RowKey: String] = [:]
        let keys = Set(valid.map { RowKey(table: $0.table, row: $0.row) })
        let scopes = try await scopes(of: keys, in: store)
        // Rows the district moved away from this commune: edits made before the office
        // learned of the move are taken, and reach the row's new commune (RowMove); edits
        // made after it was told are not, and a delete from here never is (`refusalsOfMovedRows`).
        let elsewhere = keys.filter { if case .commune(let owner) = scopes[$0] ?? .nobody { return owner != caller.scope } else { return false } }
        let movedAway = elsewhere.isEmpty ? [:] : try await store.movedOut(of: Set(elsewhere), from: caller.scope)
        for key in keys {
            let name = "row \(key.table)/\(key.row)"
            let fix = "a commune may change only its own records: set commune_id to '\(caller.scope)' (this commune's "
                + "own row id, not its official code) and run 'syncctl refused retry \(key.table)/\(key.row)', or drop the change with "
                + "'syncctl refused clear \(key.table)/\(key.row)'"
            let claims = declared[key] ?? []
            if movedAway[key] != nil {
                if !claims.isEmpty {
                    foreign[key] = "\(name) was moved by the district to another commune; its commune cannot be changed from here"
                }
            } else if case .commune(let existing) = scopes[key] ?? .nobody {
                // Which commune keeps a row that is not the caller's is not the caller's to know.
                if existing != caller.scope { foreign[key] = "\(name) is not a record of this commune: \(fix)" }
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
        var taken: [Change] = []
        for change in valid {
            if let why = foreign[RowKey(table: change.table, row: change.row)] { refuse(change, "out_of_scope", why) } else { taken.append(change) }
        }
        // Rows deleted long ago and forgotten (`forgetDeletedRows`): a write made before its
        // office saw the delete would bring back the row with that field alone.
        let forgotten = try await store.forgotten(among: Set(taken.map { RowKey(table: $0.table, row: $0.row) }))
        if !forgotten.isEmpty {
            let states = try await store.rowStates(of: Array(forgotten))
            taken = taken.filter { change in
                let key = RowKey(table: change.table, row: change.row)
                guard change.operation != .delete, forgotten.contains(key), let deletes = states[key]?.deletes,
                    change.context.compare(deletes) != .after, change.context.compare(deletes) != .equal
                else { return true }
                refuse(change, "forgotten_row", "row \(key.table)/\(IncomingPush.shown(key.row)) was deleted more than the district's "
                    + "horizon ago, and this change was made before this office learned of it: it is not applied, so the record "
                    + "does not come back in part. If it is still needed, enter it again; 'syncctl refused clear "
                    + "\(key.table)/\(IncomingPush.shown(key.row))' drops this notice")
                return false
            }
        }
        if !movedAway.isEmpty {
            for (change, why) in try await refusalsOfMovedRows(taken, moves: movedAway, from: caller, in: store) { refuse(change, "moved_away", why) }
        }
        return refusals
    }

    /// Changes of rows the district moved away from the caller's commune that it may no
    /// longer make, with why: those numbered above what the hub had settled of the caller
    /// when it was told of the move (`recordTold`: it made them knowing), and every delete.
    /// A delete made before the office knew is not applied either: a former owner's delete
    /// never silently wins over the new owner's records, so it waits on the review desk
    /// (a `deletion` item) for district staff to decide.
    private func refusalsOfMovedRows(
        _ changes: [Change], moves: [RowKey: Int64], from caller: Caller, in store: any HubTransaction
    ) async throws -> [(Change, String)] {
        let told = try await store.told(caller.replica)
        var refused: [(Change, String)] = []
        var deletions: Set<RowKey> = []
        for change in changes {
            let key = RowKey(table: change.table, row: change.row)
            guard let movedAt = moves[key] else { continue }
            let name = "row \(key.table)/\(key.row)"
            if let knew = told.first(where: { $0.seq >= movedAt })?.counter, change.dot.counter > knew {
                refused.append((change, "\(name) was moved by the district to another commune, and this office was told before this "
                    + "change was made: it is not taken. Ask the office that keeps the record now, or the district, to make it; "
                    + "drop it here with 'syncctl refused clear \(key.table)/\(key.row)'"))
            } else if change.operation == .delete {
                deletions.insert(key)
                refused.append((change, "\(name) was moved by the district to another commune: a delete from here is not applied, "
                    + "it waits for district review (the record's new office may still need it). Nothing to do here; "
                    + "'syncctl refused clear \(key.table)/\(key.row)' drops this notice"))
            }
        }
        for key in deletions.sorted(by: { ($0.table, $0.row) < ($1.table, $1.row) }) {
            var side = ConflictView.Side()
            side.origin = caller.replica.rawValue
            side.commune = caller.scope
            if key.table == "persons" { side.person = key.row; side.fullName = try await store.personName(key.row) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            try await store.openReviewItem(
                table: key.table, row: key.row, column: Self.deletionColumn, kind: .deletion, rule: "review",
                sidesJSON: String(decoding: try encoder.encode([side]), as: UTF8.self))
        }
        return refused
    }

    /// The column of a `deletion` item: a delete of a moved row by the office it left.
    static let deletionColumn = ConflictRecord.deletionColumn

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

    nonisolated func require(_ role: Caller.Role, _ caller: Caller) throws {
        guard caller.role == role else {
            throw HubError.forbidden("the credential of \(caller.replica) is a \(caller.role.rawValue)'s; this needs a \(role.rawValue)'s")
        }
    }

    /// Applies the seat rule at the hub: the losing assignments of settled seat conflicts are
    /// ended (never deleted) by a district write, which then travels to every replica.
    @discardableResult
    func endSeatLosers(in store: any HubTransaction) async throws -> Int {
        var ended = 0
        for conflict in try await store.conflicts(state: .settled, column: ConflictRecord.seatColumn) {
            guard case .keep(let kept) = conflict.decision else { continue }
            let keepers = Set(kept)
            let holders = conflict.seatSides
            guard let keeper = holders.first(where: { keepers.contains($0.assignment) }) else { continue }
            // Each loser's last day: as late as the seat of this many keepers allows.
            let ends = AssignmentTerm.seatEndDates(
                keepers: holders.filter { keepers.contains($0.assignment) }.map(\.startDate),
                losers: holders.filter { !keepers.contains($0.assignment) }.map { ($0.assignment, $0.startDate) },
                decidedOn: RegisterDate.today())
            for loser in holders where !keepers.contains(loser.assignment) {
                guard try await store.isActiveAssignment(loser.assignment) else { continue }
                // Written into the register, so in its language (EndedAssignments reads the prefix).
                let reason = "\(AssignmentTerm.seatLostPrefix) \(keeper.person) giữ vị trí (quyết định \(keeper.decisionNo ?? "?") "
                    + "ngày \(keeper.decisionDate ?? "?"), ghi tại \(keeper.origin)) theo quy tắc \(conflict.rule); huyện kết thúc phân công này"
                // The day the review desk would give it for the same keeper (`AssignmentTerm.endDate`).
                try await store.districtWrite(table: "assignments", row: loser.assignment, values: AssignmentTerm.ending(
                    on: ends[loser.assignment] ?? RegisterDate.today(), reason: reason))
                ended += 1
            }
        }
        return ended
    }

    /// Who may see each row, as the hub holds it (`RowScope`): reference tables are everyone's
    /// without a look at the row; the others' scope values are read in one call.
    func scopes(of keys: Set<RowKey>, in store: any HubTransaction) async throws -> [RowKey: RowScope] {
        var scopes: [RowKey: RowScope] = [:]
        var lookedUp: Set<RowKey> = []
        for key in keys {
            guard let table = schema.table(named: key.table) else { scopes[key] = .nobody; continue }
            if table.owner == .district { scopes[key] = .everyone } else { lookedUp.insert(key) }
        }
        let values = try await store.scopeValues(of: lookedUp)
        for key in lookedUp { scopes[key] = RowScope(table: schema.table(named: key.table)!, scopeValue: values[key]) }
        return scopes
    }

    /// Puts changes in the feed, each under its row's scope as merged with them. A district
    /// change of a row's commune that takes it from the commune it was published to is a
    /// move (`RowMove`), kept at the position where the batch ends.
    func appendToFeed(_ changes: [Change], in store: any HubTransaction) async throws {
        let scopes = try await scopes(of: Set(changes.map { RowKey(table: $0.table, row: $0.row) }), in: store)
        // Only the district moves rows: a commune's change of commune_id is refused (screen).
        let relocated = Set(changes.filter { $0.dot.replica == district && $0.column == RowScope.column }
            .map { RowKey(table: $0.table, row: $0.row) })
        let published = relocated.isEmpty ? [:] : try await store.publishedScopes(of: relocated)
        try await store.appendToFeed(changes.map { change in
            (scopes[RowKey(table: change.table, row: change.row)]!.feedScope, change)
        })
        let moves = relocated.compactMap { key -> RowMove? in
            guard let before = published[key], !before.isEmpty, before != "*", let now = scopes[key]?.feedScope, now != before
            else { return nil }
            return RowMove(table: key.table, row: key.row, from: before, to: now)
        }
        if !moves.isEmpty { try await store.recordMoves(moves, at: try await store.feedEnd()) }
    }

    // MARK: District edits

    /// Folds writes made directly in the hub's replica (district staff, imports of reference
    /// data) and appends them to the feed. Returns how many changes were added.
    @discardableResult
    public func ingestLocalEdits() async throws -> Int {
        // Every pull asks: answer from a read when nothing new was written at the hub, rather
        // than taking the write lock for nothing.
        guard try await storage.hasUnfedDistrictEdits() else { return 0 }
        return try await storage.write { try await feedDistrictEdits(in: $0) }
    }

    /// Appends the district's writes not yet in the feed, in the caller's transaction; when
    /// they touch seats, first ends the losers of what they settled (`endSeatLosers`).
    @discardableResult
    func feedDistrictEdits(in store: any HubTransaction) async throws -> Int {
        var own = try await store.unfedDistrictEdits()
        if own.contains(where: { SeatCheck.tables.contains($0.table) }), try await endSeatLosers(in: store) > 0 {
            own = try await store.unfedDistrictEdits()
        }
        guard let last = own.last else { return 0 }
        try await reviewDuplicatePersons(after: own, in: store)
        try await appendToFeed(own, in: store)
        try await store.markDistrictEditsFed(through: last.dot.counter)
        return own.count
    }

    /// What one day's compaction of the feed did (`compactFeed`).
    public struct FeedCompaction: Sendable, Equatable {
        /// Feed entries superseded in the merge state that went.
        public var superseded = 0
        /// Deleted rows forgotten (`forgetDeletedRows`), and the feed entries that went with them.
        public var forgottenRows = 0
        public var forgottenEntries = 0

        public init() {}

        /// Feed entries that went, all told.
        public var dropped: Int { superseded + forgottenEntries }
    }

    /// Drops feed entries superseded in the merge state that were in the feed at least
    /// `days` ago (`dropSupersededFeed`, `CompactionMark`): an office that pulls past them ends
    /// in the same state, and its checkpoint may be as old as it likes. Then forgets rows
    /// deleted before the same mark that no office can still write to unknowingly
    /// (`forgetDeletedRows`).
    @discardableResult
    public nonisolated func compactFeed(keepingDays days: Int, now: Date = Date()) async throws -> FeedCompaction {
        guard days > 0 else { return FeedCompaction() }
        let due: (mark: CompactionMark, superseded: Int)? = try await storage.write { store in
            let end = try await store.feedEnd()
            let held = try await store.hubMeta("feed_compaction_mark")
            guard let mark = held.flatMap(CompactionMark.init(text:)), mark.isPast(days: days, at: now) else {
                if held == nil { try await store.setHubMeta("feed_compaction_mark", CompactionMark(at: now, position: end).text) }
                return nil
            }
            let dropped = try await store.dropSupersededFeed(through: mark.position)
            try await store.setHubMeta("feed_compaction_mark", CompactionMark(at: now, position: end).text)
            return (mark, dropped)
        }
        guard let due else { return FeedCompaction() }
        var done = try await forgetDeletedRows(through: due.mark.position, horizonDays: days, now: now)
        done.superseded = due.superseded
        return done
    }

    /// Rows a page of forgetting looks at, in one write transaction.
    static let forgetPage = 2_000

    /// Forgets rows deleted at or before feed position `position` (`HubTransaction.forget`):
    /// their merge state keeps only its clock, its deletes and its commune, their feed only
    /// its deletes and commune writes — what a row deleted years ago needs, against the
    /// whole record it kept until now.
    ///
    /// Safe when no office can still send a change of the row made before it saw the delete
    /// (such a change would bring back the row with only that field). So a row is forgotten
    /// only when every office of its commune seen within the horizon has pulled past the
    /// row's last feed entry and the hub holds every change it had numbered when it asked
    /// (`ReplicaProgress.numberedAtPull`); an office of a release that does not say what it
    /// numbered holds its commune's rows back. An office not seen for longer than the horizon
    /// does not hold them back: a change it made before the delete is refused when it comes
    /// back (`screen`, code `forgotten_row`), never applied.
    nonisolated func forgetDeletedRows(through position: Int64, horizonDays days: Int, now: Date) async throws -> FeedCompaction {
        var done = FeedCompaction()
        let progress = try await progress()
        let horizon = now.addingTimeInterval(-Double(days) * 86_400)
        // Per commune ("*": rows every office holds), the feed position up to which every
        // office that counts is safe; -1 when one of them is not safe at all.
        var through: [String: Int64] = [:]
        var everyone = Int64.max
        for office in progress where !office.scope.isEmpty && office.replica != district {
            guard let seen = office.seenAt.flatMap({ try? Date($0, strategy: .iso8601) }), seen >= horizon else { continue }
            var safe: Int64 = -1
            if let pulled = office.pulledThrough, let numbered = office.numberedAtPull,
                DotBlock.of(office.settled) >= DotBlock.of(numbered) {
                safe = pulled
            }
            through[office.scope] = min(through[office.scope] ?? .max, safe)
            everyone = min(everyone, safe)
        }
        func isSafe(scope: String, last: Int64) -> Bool { last <= (scope == "*" ? everyone : through[scope] ?? .max) }
        var cursor: RowKey? = nil
        let time = now.formatted(.iso8601)
        while true {
            let page: (rows: Int, entries: Int, next: RowKey?) = try await storage.write { store in
                let candidates = try await store.deletedRows(through: position, after: cursor, limit: Self.forgetPage)
                let wanted = candidates.filter { isSafe(scope: $0.scope, last: $0.last) }.map(\.key)
                let states = try await store.rowStates(of: wanted)
                let dead = wanted.filter { states[$0]?.isDeleted == true }
                let entries = try await store.forget(dead, at: time)
                return (dead.count, entries, candidates.count == Self.forgetPage ? candidates.last?.key : nil)
            }
            done.forgottenRows += page.rows
            done.forgottenEntries += page.entries
            guard let next = page.next else { return done }
            cursor = next
        }
    }

    // MARK: Pull and snapshot

    /// Decisions an office is told of with one pull, at most.
    static let decisionsPerPull = 100

    public nonisolated func pull(for caller: Caller, after: Int64, limit: Int, rulesVersion: Int? = nil, decided: Int64? = nil) async throws -> PullResponse {
        try require(.commune, caller)
        try await ingestLocalEdits()
        let seal = await self.seal
        let response = try await serve(caller) { store in
            let rules = try await store.rules()
            let entries = try await store.feed(scope: caller.scope, after: after, notFrom: caller.replica, limit: limit)
            var last = entries.last?.seq ?? after
            let more = entries.count == limit
            if !more {
                // Nothing more in scope: skip past what others' scopes added meanwhile.
                last = max(last, try await store.feedEnd())
            }
            let (arrived, departed) = try await moves(of: caller, after: after, through: last, in: store)
            var response = PullResponse(
                changes: ChangeGroup.group(entries.map(\.change)), next: last, more: more,
                acknowledged: try await store.received(caller.replica), hub: district.rawValue,
                time: Int64(Date().timeIntervalSince1970 * 1000),
                rulesVersion: rules.version, rules: rulesVersion == rules.version ? nil : rules,
                arrived: arrived.isEmpty ? nil : arrived, departed: departed.isEmpty ? nil : departed,
                incarnation: try await store.incarnations().last?.floor, seals: seal?.seals(of: entries.map(\.change), district: district))
            response.schema = schema.version
            if let decided {
                let (decisions, through) = try await store.decisions(inScope: caller.scope, after: max(0, decided), limit: Self.decisionsPerPull)
                response.decisions = decisions.isEmpty ? nil : decisions.map(Self.decisionView)
                response.decidedThrough = through
            }
            return response
        }
        // Rows sent away: from now on the office knows they left (`refusalsOfMovedRows`).
        if response.departed != nil {
            try await storage.write { try await $0.recordTold(caller.replica, through: response.next, counter: response.acknowledged) }
        }
        return response
    }

    /// The feed position a told record of an ended unit's office carries: its unit ended, so
    /// every move so far and to come concerns it (and the first such record stays).
    static let toldUnitEnded = Int64.max

    /// A read for an office, refused with 410 once its unit has ended (`refuseIfEnded`).
    /// That refusal tells the office where every record of its unit went, and an office asks
    /// only once it has pushed what it held: it is kept as told (`recordTold`), so the
    /// office's changes numbered above what the hub holds of it now were made knowing.
    nonisolated func serve<Result>(
        _ caller: Caller, _ body: nonisolated(nonsending) (any HubTransaction) async throws -> Result
    ) async throws -> Result {
        do {
            return try await storage.read { store in
                try await refuseIfEnded(caller, in: store)
                return try await body(store)
            }
        } catch let refusal as HubError where refusal.code == "unit_ended" {
            try await storage.write { store in
                try await store.recordTold(caller.replica, through: Self.toldUnitEnded, counter: try await store.received(caller.replica))
            }
            throw refusal
        }
    }

    /// A page of the current merge state of the caller's scope. The cursor is `table/row` of
    /// the last row sent; reference tables come first, whole.
    public nonisolated func snapshot(for caller: Caller, cursor: String?, checkpoint: Int64?, limit: Int) async throws -> SnapshotPage {
        try require(.commune, caller)
        try await ingestLocalEdits()
        var (tableIndex, after) = (0, "")
        if let cursor {
            guard let slash = cursor.firstIndex(of: "/"),
                let index = schema.tables.firstIndex(where: { $0.name == cursor[..<slash] })
            else { throw HubError.badRequest("malformed snapshot cursor '\(cursor)': start the snapshot again without one") }
            (tableIndex, after) = (index, String(cursor[cursor.index(after: slash)...]))
        }
        let tables = schema.tables
        let page = try await serve(caller) { store in
            let start: Int64
            if let checkpoint { start = checkpoint } else { start = try await store.feedEnd() }
            var rows: [RowSnapshot] = []
            var next: String?
            while tableIndex < tables.count && rows.count < limit {
                let table = tables[tableIndex]
                let page = try await store.rowStates(
                    table: table.name, after: after, scope: RowScope.filter(table, for: caller.scope), limit: limit - rows.count)
                rows += page.map { RowSnapshot(table: table.name, row: $0.0, state: $0.1) }
                if let last = page.last, rows.count == limit {
                    next = "\(table.name)/\(last.0)"
                } else {
                    tableIndex += 1
                    after = ""
                    if rows.count == limit && tableIndex < tables.count { next = "\(tables[tableIndex].name)/" }
                }
            }
            return SnapshotPage(rows: rows, checkpoint: start, cursor: next, acknowledged: try await store.received(caller.replica))
        }
        // A replica built from a snapshot knows of every move up to its checkpoint.
        var first = page
        if cursor == nil {
            // Read before anything of this snapshot is noted: the last the hub heard of the
            // computer this one replaces.
            if let seen = try await progress().first(where: { $0.replica == caller.replica }), let at = seen.seenAt {
                first.previous = PreviousComputer(seenAt: at, unsent: seen.facts?.unsent, oldestUnsentS: seen.facts?.oldestUnsentS)
            }
            try await storage.write { try await $0.recordTold(caller.replica, through: page.checkpoint, counter: page.acknowledged) }
        }
        return first
    }

    /// The caller's own changes the hub holds above counter `after`, in counter order.
    public nonisolated func ownChanges(for caller: Caller, after: UInt64, limit: Int) async throws -> OwnChangesResponse {
        try require(.commune, caller)
        return try await storage.read { store in
            let changes = try await store.feed(of: caller.replica, after: after, limit: limit)
            return OwnChangesResponse(changes: ChangeGroup.group(changes), next: changes.last?.dot.counter ?? after,
                                      more: changes.count == limit, acknowledged: try await store.received(caller.replica))
        }
    }

    // MARK: Anti-entropy

    /// The digest of the caller's scope as the hub holds it.
    public nonisolated func digest(for caller: Caller) async throws -> DigestResponse {
        try require(.commune, caller)
        try await ingestLocalEdits()
        let digest = try await serve(caller) { try await $0.digest(scope: caller.scope) }
        return DigestResponse(tables: schema.tables.map { table in
            let sums = digest.tables[table.name] ?? ScopeDigest.Table()
            return TableDigest(table: table.name, rows: sums.rows, buckets: sums.buckets.map(Self.hex))
        })
    }

    /// The merge state of rows of the caller's scope, by id or by digest bucket. Rows outside
    /// the scope are left out, as if they did not exist.
    public nonisolated func rows(_ request: RowsRequest, for caller: Caller) async throws -> RowsResponse {
        try require(.commune, caller)
        guard let table = schema.table(named: request.table) else {
            throw HubError.badRequest("unknown table '\(request.table)': the sender's register schema differs from the hub's")
        }
        let ids = request.ids ?? []
        let buckets = Set(request.buckets ?? [])
        guard buckets.allSatisfy({ (0..<ScopeDigest.bucketCount).contains($0) }) else {
            throw HubError.badRequest("digest buckets are numbered 0 to \(ScopeDigest.bucketCount - 1)")
        }
        try await ingestLocalEdits()
        return try await serve(caller) { store in
            var found = try await store.rowStates(table: table.name, scope: RowScope.filter(table, for: caller.scope), buckets: buckets)
            for id in Set(ids) {
                guard let state = try await store.rowState(table: table.name, row: id),
                    RowScope(table: table, state: state).includes(caller.scope)
                else { continue }
                found.append((id, state))
            }
            return RowsResponse(rows: found.map { RowSnapshot(table: table.name, row: $0.0, state: $0.1) })
        }
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    // MARK: For people and tests

    /// Everything the hub holds for one replica's changes.
    public nonisolated func receivedCounter(of origin: ReplicaID) async throws -> UInt64 {
        try await storage.read { try await $0.received(origin) }
    }
}

extension Change.Operation {
    /// The value written, nil for a delete.
    package var value: Value? {
        if case .set(_, let value) = self { return value }
        return nil
    }
}
