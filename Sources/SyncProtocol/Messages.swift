import SyncCore

/// The version of the `/v1` wire protocol, sent by both sides in `X-CommuneSync-Protocol`.
/// A replica and a hub that disagree on it, or on the register schema version
/// (`X-CommuneSync-Schema`), do not exchange changes: the hub answers 409 and the replica
/// holds its changes until one side is upgraded.
public enum WireVersion {
    public static let protocolVersion = 1
    public static let protocolHeader = "X-CommuneSync-Protocol"
    public static let schemaHeader = "X-CommuneSync-Schema"
}

/// `POST /v1/push`: a batch of the sender's own changes, oldest first.
public struct PushRequest: Codable, Sendable, Equatable {
    public let changes: [ChangeGroup]
    /// What the sender recorded as acknowledged before this batch. A hub that holds less of
    /// it (put back from an older copy) takes nothing and answers 409 `hub_behind`, so that
    /// the sender sends again what it lost before anything numbered above.
    public let after: UInt64?

    public init(changes: [ChangeGroup], after: UInt64? = nil) {
        self.changes = changes
        self.after = after
    }
}

public struct PushResponse: Codable, Sendable, Equatable {
    /// The highest counter of the sender's changes the hub has settled: each one up to it is
    /// either held at the hub or listed in `refused`, and need not be sent again.
    public let acknowledged: UInt64
    public let applied: Int
    public let duplicates: Int
    /// The changes of this batch the hub did not take, each with why. The others were applied:
    /// one refused change never holds back the rest.
    public let refused: [Refusal]
    /// What the hub had settled of the sender before this batch. Above what the sender had
    /// recorded as acknowledged, the hub holds changes the sender must check it made (a lost
    /// answer, or a file restored from an older copy).
    public let heldBefore: UInt64?

    public init(acknowledged: UInt64, applied: Int, duplicates: Int, refused: [Refusal] = [], heldBefore: UInt64? = nil) {
        self.acknowledged = acknowledged
        self.applied = applied
        self.duplicates = duplicates
        self.refused = refused
        self.heldBefore = heldBefore
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        acknowledged = try keys.decode(UInt64.self, forKey: .acknowledged)
        applied = try keys.decode(Int.self, forKey: .applied)
        duplicates = try keys.decode(Int.self, forKey: .duplicates)
        refused = try keys.decodeIfPresent([Refusal].self, forKey: .refused) ?? []
        heldBefore = try keys.decodeIfPresent(UInt64.self, forKey: .heldBefore)
    }
}

/// One change the hub would not take, and why. Settled for good: re-sending the same change
/// gets the same answer; the office fixes the row and sends it again as a new change.
public struct Refusal: Codable, Sendable, Equatable {
    /// The change's dot counter (its origin is the sender).
    public let counter: UInt64
    public let table: String
    public let row: String
    /// nil for a delete.
    public let column: String?
    /// A stable code: `out_of_scope`, `moved_away`, `unknown_table`, `unknown_column`, `reference_table`, `too_large`.
    public let code: String
    /// What is wrong and what to do, for people.
    public let message: String

    public init(counter: UInt64, table: String, row: String, column: String?, code: String, message: String) {
        (self.counter, self.table, self.row, self.column, self.code, self.message) = (counter, table, row, column, code, message)
    }
}

/// `GET /v1/own?after=COUNTER&limit=N`: the caller's own changes the hub holds, above a
/// counter, in counter order: what a replica rebuilding itself compares its unsent writes with.
public struct OwnChangesResponse: Codable, Sendable, Equatable {
    public let changes: [ChangeGroup]
    /// Pass it as `after` for the next page.
    public let next: UInt64
    public let more: Bool
    /// The highest counter of the caller's changes the hub has settled.
    public let acknowledged: UInt64

    public init(changes: [ChangeGroup], next: UInt64, more: Bool, acknowledged: UInt64) {
        self.changes = changes
        self.next = next
        self.more = more
        self.acknowledged = acknowledged
    }
}

/// `GET /v1/digest`: a summary of the hub's merge state of the caller's scope, to compare with
/// the replica's own (anti-entropy). Rows fall into buckets by a hash of their table and id;
/// a bucket's digest is the wrapping sum of its rows' hashes (`RowDigest`).
public struct DigestResponse: Codable, Sendable, Equatable {
    public let tables: [TableDigest]

    public init(tables: [TableDigest]) { self.tables = tables }
}

public struct TableDigest: Codable, Sendable, Equatable {
    public let table: String
    public let rows: Int
    /// One digest per bucket (`RowDigest.buckets` of them), as 16 hex digits.
    public let buckets: [String]

    public init(table: String, rows: Int, buckets: [String]) {
        self.table = table
        self.rows = rows
        self.buckets = buckets
    }
}

/// `POST /v1/rows`: the hub's merge state of some rows of the caller's scope, named by id or
/// by digest bucket: what a replica repairs itself from.
public struct RowsRequest: Codable, Sendable, Equatable {
    public let table: String
    public let ids: [String]?
    public let buckets: [Int]?

    public init(table: String, ids: [String]? = nil, buckets: [Int]? = nil) {
        self.table = table
        self.ids = ids
        self.buckets = buckets
    }
}

public struct RowsResponse: Codable, Sendable, Equatable {
    public let rows: [RowSnapshot]

    public init(rows: [RowSnapshot]) { self.rows = rows }
}

/// `GET /v1/pull?after=CHECKPOINT&limit=N`: the hub's change feed after a checkpoint,
/// restricted to the caller's scope (its own rows and reference data), without the caller's
/// own changes.
public struct PullResponse: Codable, Sendable, Equatable {
    public let changes: [ChangeGroup]
    /// Where the next pull starts.
    public let next: Int64
    /// More changes wait after `next`.
    public let more: Bool
    /// The highest counter of the caller's own changes the hub holds.
    public let acknowledged: UInt64
    /// The hub's replica id: its writes are the district's.
    public let hub: String
    /// The hub's wall clock when it answered (ms since 1970), for clock-skew checks.
    public let time: Int64
    /// The version of the hub's rule set, and the rule set itself when the caller said it
    /// holds another version.
    public let rulesVersion: Int
    public let rules: RuleSet?
    /// Rows the district moved into the caller's commune up to `next` (a merger, a split, a
    /// person's rotation): their earlier changes were published to another commune, so the
    /// office fetches them whole (`POST /v1/rows` by id) before it applies the page.
    public let arrived: [RowRef]?
    /// Rows the district moved out of the caller's commune up to `next`: the office no longer
    /// keeps them (its own unsent edits of them are still taken by the hub).
    public let departed: [RowRef]?
    /// The floor of the hub's current start (`RecoveryStatus`): when it is not the one an
    /// office last checked, the office asks what the hub may lack (`GET /v1/recover`).
    public let incarnation: UInt64?
    /// Seals of the district's changes in this page, by counter in decimal: an office keeps
    /// them, to give the changes back to a hub put back from an older copy.
    public let seals: [String: String]?
    /// The district's decisions on items that name the caller's records, numbered above the
    /// `decided` the office sent (absent when it sent none): offices learn who decided what,
    /// when and why. `decidedThrough`: send it as `decided` next time.
    public var decisions: [DecisionView]? = nil
    public var decidedThrough: Int64? = nil
    /// The register schema the hub keeps. Above the caller's, the hub serves the caller the
    /// columns and tables it does not have yet, and the caller's upgrade is pending.
    public var schema: Int? = nil
    /// Days the caller keeps its own changes after the hub acknowledged them (0: for ever;
    /// absent: a hub that does not say, and the office keeps them).
    public var officeLogDays: Int? = nil

    public init(changes: [ChangeGroup], next: Int64, more: Bool, acknowledged: UInt64, hub: String, time: Int64,
                rulesVersion: Int, rules: RuleSet?, arrived: [RowRef]? = nil, departed: [RowRef]? = nil,
                incarnation: UInt64? = nil, seals: [String: String]? = nil) {
        self.incarnation = incarnation
        self.seals = seals
        self.rulesVersion = rulesVersion
        self.rules = rules
        self.arrived = arrived
        self.departed = departed
        self.changes = changes
        self.next = next
        self.more = more
        self.acknowledged = acknowledged
        self.hub = hub
        self.time = time
    }
}

/// `GET /v1/snapshot?cursor=C&checkpoint=N`: the hub's current merge state of the caller's
/// scope, a page of rows at a time, for a new or rebuilt replica.
public struct SnapshotPage: Codable, Sendable, Equatable {
    public let rows: [RowSnapshot]
    /// The feed position the snapshot starts from: pulling after it afterwards misses nothing.
    public let checkpoint: Int64
    /// Pass it back for the next page; nil on the last page.
    public let cursor: String?
    /// The highest counter of the caller's own changes the hub holds: a rebuilt replica must
    /// hand out only counters above it.
    public let acknowledged: UInt64
    /// On the first page, when the hub already holds changes of this replica (a new computer
    /// of an office whose old one died): what the previous computer said of itself at its last
    /// pull, so the new one can tell what never reached the hub.
    public var previous: PreviousComputer?

    public init(rows: [RowSnapshot], checkpoint: Int64, cursor: String?, acknowledged: UInt64, previous: PreviousComputer? = nil) {
        self.rows = rows
        self.checkpoint = checkpoint
        self.cursor = cursor
        self.acknowledged = acknowledged
        self.previous = previous
    }
}

/// The last the hub heard from an office's previous computer.
public struct PreviousComputer: Codable, Sendable, Equatable {
    /// When it last pulled (ISO 8601 UTC).
    public var seenAt: String
    /// What it held that the hub had not acknowledged then: changes, and the oldest's age in
    /// seconds (nil: it did not say).
    public var unsent: Int?
    public var oldestUnsentS: Int?

    public init(seenAt: String, unsent: Int?, oldestUnsentS: Int?) {
        self.seenAt = seenAt
        self.unsent = unsent
        self.oldestUnsentS = oldestUnsentS
    }

    enum CodingKeys: String, CodingKey {
        case seenAt = "seen_at", unsent
        case oldestUnsentS = "oldest_unsent_s"
    }
}

/// A row named by table and id.
public struct RowRef: Codable, Sendable, Equatable, Hashable {
    public let table: String
    public let row: String

    public init(table: String, row: String) {
        self.table = table
        self.row = row
    }
}

/// One row's merge state.
public struct RowSnapshot: Codable, Sendable, Equatable {
    public let table: String
    public let row: String
    public let clock: String
    public let deletes: String
    public let fields: [FieldSnapshot]

    public init(table: String, row: String, state: RowState) {
        self.table = table
        self.row = row
        clock = state.clock.description
        deletes = state.deletes.description
        fields = state.fields.keys.sorted().map { FieldSnapshot(column: $0, seen: state.fields[$0]!.seen.description, writes: state.fields[$0]!.writes) }
    }

    /// As read from the wire (`JSONReader`).
    init(table: String, row: String, clock: String, deletes: String, fields: [FieldSnapshot]) {
        self.table = table
        self.row = row
        self.clock = clock
        self.deletes = deletes
        self.fields = fields
    }

    /// nil if a vector is malformed.
    public var state: RowState? {
        guard let clock = VersionVector(text: clock), let deletes = VersionVector(text: deletes) else { return nil }
        var fields: [String: FieldState] = [:]
        for field in self.fields {
            guard let seen = VersionVector(text: field.seen), !field.writes.isEmpty else { return nil }
            fields[field.column] = FieldState(writes: field.writes, seen: seen)
        }
        return RowState(fields: fields, deletes: deletes, clock: clock)
    }
}

public struct FieldSnapshot: Codable, Sendable, Equatable {
    public let column: String
    public let seen: String
    public let writes: [FieldWrite]
}

/// The body of every error response: a stable code for programs, a sentence for people.
public struct ErrorBody: Codable, Sendable, Equatable {
    public let error: String
    public let message: String

    public init(error: String, message: String) {
        self.error = error
        self.message = message
    }
}

/// `GET /v1/conflicts`: one conflict as a reviewer sees it.
public struct ConflictView: Codable, Sendable, Equatable {
    public let id: String
    /// `field` (concurrent writes of one column), `seat` (more holders than capacity),
    /// `holding` (a person's titles outside the holding rules), `quota` (head-count over quota),
    /// `duplicate` (persons records sharing one citizen id) or `placement` (a place in the
    /// units after a reorganisation).
    public let kind: String
    public let table: String
    public let row: String
    public let column: String
    public let rule: String
    public let sides: [Side]
    /// The shown write's dot (field), the kept assignments (seat), or what is wrong (holding, quota).
    public let chosen: String
    public let state: String
    /// How many sides there are in all when `sides` lists only the first of them (a
    /// duplicate item of a citizen id shared by many records); absent when all are listed.
    public let count: Int?
    /// When the item opened (its latest opening), ISO 8601 UTC, where the hub knows it.
    public var opened: String? = nil

    public init(
        id: String, kind: String, table: String, row: String, column: String, rule: String, sides: [Side], chosen: String, state: String,
        count: Int? = nil
    ) {
        (self.id, self.kind, self.table, self.row, self.column, self.rule, self.sides, self.chosen, self.state, self.count) =
            (id, kind, table, row, column, rule, sides, chosen, state, count)
    }

    /// One side: a write (dot, origin, hlc, value), a seat holder (assignment, person,
    /// decision, origin) or a persons record (person, full name, birth date, commune, citizen
    /// id, origin).
    public struct Side: Codable, Sendable, Equatable {
        public var dot: String?
        public var origin: String?
        public var hlc: UInt64?
        public var value: Value?
        public var assignment: String?
        public var person: String?
        public var decisionNo: String?
        public var decisionDate: String?
        public var title: String?
        public var fullName: String?
        public var birthDate: String?
        /// units.id of the commune that keeps the record.
        public var commune: String?
        public var citizenID: String?

        public init() {}

        enum CodingKeys: String, CodingKey {
            case dot, origin, hlc, value, assignment, person, title, commune
            case decisionNo = "decision_no", decisionDate = "decision_date"
            case fullName = "full_name", birthDate = "birth_date", citizenID = "citizen_id"
        }
    }
}

/// `POST /v1/conflicts/resolve`: a reviewer's decision.
public struct ResolveRequest: Codable, Sendable, Equatable {
    /// The conflict's id (`table/row/column`).
    public let id: String
    /// Field: the dot of the side to keep. Seat: the assignment to keep (the others are ended).
    /// Holding, quota: the assignment to end. Duplicate: the persons.id to keep (the other
    /// records of the item are merged into it).
    public let pick: String?
    /// Field only: a merged value to write instead of a side's.
    public let value: Value?
    /// Why: kept with the decision.
    public let reason: String

    public init(id: String, pick: String?, value: Value?, reason: String) {
        self.id = id
        self.pick = pick
        self.value = value
        self.reason = reason
    }
}

public struct ResolveResponse: Codable, Sendable, Equatable {
    public let id: String
    /// Number of the decision in the hub's review record.
    public let review: Int64
    public let wrote: Int

    public init(id: String, review: Int64, wrote: Int) {
        self.id = id
        self.review = review
        self.wrote = wrote
    }
}

/// `GET /v1/reviews`: one of the district's decisions as kept, newest first: who decided
/// which item, when, why, what was picked and how many writes it made; a revert names the
/// decision it undid, and an undone decision the revert that undid it.
public struct DecisionView: Codable, Sendable, Equatable {
    public let id: Int64
    /// The item decided (`table/row/column`).
    public let conflict: String
    public let reviewer: String
    /// When, ISO 8601 UTC.
    public let at: String
    public let reason: String
    public let pick: String?
    public let value: Value?
    public let wrote: Int
    public let reverts: Int64?
    public let revertedBy: Int64?

    public init(id: Int64, conflict: String, reviewer: String, at: String, reason: String, pick: String?, value: Value?, wrote: Int,
                reverts: Int64?, revertedBy: Int64?) {
        self.id = id
        self.conflict = conflict
        self.reviewer = reviewer
        self.at = at
        self.reason = reason
        self.pick = pick
        self.value = value
        self.wrote = wrote
        self.reverts = reverts
        self.revertedBy = revertedBy
    }

    enum CodingKeys: String, CodingKey {
        case id, conflict, reviewer, at, reason, pick, value, wrote, reverts
        case revertedBy = "reverted_by"
    }
}

/// `POST /v1/conflicts/revert`: undo a decision by writing back what it overwrote.
public struct RevertRequest: Codable, Sendable, Equatable {
    /// The decision's number (`review` in its ResolveResponse).
    public let review: Int64
    public let reason: String

    public init(review: Int64, reason: String) {
        self.review = review
        self.reason = reason
    }
}
