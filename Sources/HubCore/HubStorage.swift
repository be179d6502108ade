import MergeEngine
import Register
import SyncCore
import SyncProtocol

/// Where the hub keeps what it holds: the district's merged register (merge state, register
/// rows, conflicts), the change feed, what each replica has delivered or had refused,
/// credentials and review decisions. `HubStore` holds the hub's logic (validation, scope,
/// rules, paging) once, above this interface; a backend only stores and reads.
///
/// Everything happens in a transaction: `write` commits when its body returns and rolls
/// back when it throws, so what a body writes lands together or not at all; `read` sees one
/// consistent state. A backend may run several transactions of several hub processes at
/// once (PostgreSQL): the hub's logic never relies on being the only writer between two
/// transactions. Calls stay on the caller's actor (`nonisolated(nonsending)`). Reads may come
/// from several tasks at once (pulls are served beside a push), so a backend runs them side
/// by side or in turns as it can; writes come from the hub's actor.
public protocol HubStorage: AnyObject, Sendable {
    /// The district replica whose register this is.
    var district: ReplicaID { get }
    /// The register schema the hub serves.
    var schema: RegisterSchema { get }

    /// Runs `body` in a read-only transaction.
    nonisolated(nonsending) func read<T>(_ body: nonisolated(nonsending) (any HubTransaction) async throws -> T) async throws -> T
    /// Runs `body`, which reads one thing in one statement (a credential, the incarnations),
    /// for every request: a backend may run it without a transaction around it, since one
    /// statement sees one consistent state by itself.
    nonisolated(nonsending) func readOne<T>(_ body: nonisolated(nonsending) (any HubTransaction) async throws -> T) async throws -> T
    /// Runs `body` in a read-write transaction.
    nonisolated(nonsending) func write<T>(_ body: nonisolated(nonsending) (any HubTransaction) async throws -> T) async throws -> T
    /// Runs `body` in a read-write transaction that writes for commune `scope` (an office's
    /// push): a backend with several writers at once may run it beside the writes of other
    /// communes, and runs it again as a `write` when it turns out to need more (a district
    /// write, a fold of staff edits). So `body` must be safe to run twice: everything it
    /// decides, it reads from the transaction.
    nonisolated(nonsending) func write<T>(
        commune scope: String, _ body: nonisolated(nonsending) (any HubTransaction) async throws -> T
    ) async throws -> T
    /// Whether district staff wrote anything not in the feed yet: cheap, outside a transaction,
    /// so that the many requests that find nothing new never take the write lock.
    nonisolated(nonsending) func hasUnfedDistrictEdits() async throws -> Bool
}

extension HubStorage {
    public nonisolated(nonsending) func readOne<T>(
        _ body: nonisolated(nonsending) (any HubTransaction) async throws -> T
    ) async throws -> T {
        try await read(body)
    }

    /// One writer at a time (SQLite): a commune's write is a write.
    public nonisolated(nonsending) func write<T>(
        commune scope: String, _ body: nonisolated(nonsending) (any HubTransaction) async throws -> T
    ) async throws -> T {
        try await write(body)
    }
}

/// One transaction of a `HubStorage`: the three sides of one store, valid only inside the
/// body it was handed to.
public typealias HubTransaction = HubBookkeeping & HubMergeStore & HubRegisterReads

/// The district register merged: the merge itself (`MergeEngine` inside each store), the
/// district's own writes, the rows' merge states and digests, and the conflict ledger.
public protocol HubMergeStore {
    /// Merges changes of other replicas into the register (merge state, register rows and
    /// conflict records, the seat and holding checks), as the replica's `apply` does.
    nonisolated(nonsending) func merge(_ changes: [Change]) async throws -> ApplyReport
    /// The highest dot counter the district has handed out to its own writes.
    nonisolated(nonsending) func districtCounter() async throws -> UInt64
    /// A district write: the named columns count as written by the district (they supersede
    /// every concurrent side), and reach every replica through the feed.
    nonisolated(nonsending) func districtWrite(table: String, row: String, values: [String: Value]) async throws
    /// `districtWrite` of many rows of one table (each with its own columns), in few statements.
    nonisolated(nonsending) func districtWrites(table: String, rows: [(id: String, values: [String: Value])]) async throws
    /// A district insert of a new register row with the named columns (the others NULL).
    nonisolated(nonsending) func districtInsert(table: String, row: String, values: [String: Value]) async throws
    /// A district delete of a register row (a reviewer's decision), reaching every replica.
    nonisolated(nonsending) func districtDelete(table: String, row: String) async throws
    /// District writes (by the hub, or by staff with plain SQL) not yet in the feed, oldest
    /// first; they count as fed once `markDistrictEditsFed(through:)` is called.
    nonisolated(nonsending) func unfedDistrictEdits() async throws -> [Change]
    nonisolated(nonsending) func markDistrictEditsFed(through counter: UInt64) async throws
    /// Rows of `table` after `row` in id order, in `scope` (any row when nil), at most `limit`.
    nonisolated(nonsending) func rowStates(table: String, after row: String, scope: String?, limit: Int) async throws -> [(String, RowState)]
    /// Rows of `table` in `scope` that fall into digest `buckets`.
    nonisolated(nonsending) func rowStates(table: String, scope: String?, buckets: Set<Int>) async throws -> [(String, RowState)]
    /// One row's merge state; nil when the hub holds nothing of it.
    nonisolated(nonsending) func rowState(table: String, row: String) async throws -> RowState?
    /// The merge states of `rows` the hub holds something of.
    nonisolated(nonsending) func rowStates(of rows: [RowKey]) async throws -> [RowKey: RowState]
    /// The digest of `scope` (`ScopeDigest`).
    nonisolated(nonsending) func digest(scope: String?) async throws -> ScopeDigest
    nonisolated(nonsending) func conflicts(state: ConflictRecord.State?, column: String?) async throws -> [ConflictRecord]
    /// At most `limit` conflicts (in `state` if given) whose id (`table/row/column`) sorts
    /// after `after`, in id order: a page of what a district may hold by the thousand.
    nonisolated(nonsending) func conflicts(state: ConflictRecord.State?, after: String, limit: Int) async throws -> [ConflictRecord]
    /// The conflict whose id is `id`, in any state.
    nonisolated(nonsending) func conflict(id: String) async throws -> ConflictRecord?
    /// Counts of conflicts not closed, and of those awaiting review.
    nonisolated(nonsending) func conflictCounts() async throws -> (standing: Int, open: Int)
    /// Opens a review item found by the hub's own logic (`duplicate`, `placement`) under the
    /// stable key `table/row/column` (its id), waiting for a reviewer. `sidesJSON` is what
    /// reviewers are shown (`ConflictView.Side` objects), kept as it is. Finding the same
    /// thing again opens nothing twice: an item standing under that key only takes the new
    /// sides; a closed one opens again with them. True if it opened or took new sides.
    @discardableResult
    nonisolated(nonsending) func openReviewItem(
        table: String, row: String, column: String, kind: ConflictRecord.Kind, rule: String, sidesJSON: String) async throws -> Bool
    /// Closes the item under `table/row/column` unless it is closed already.
    nonisolated(nonsending) func closeReviewItem(table: String, row: String, column: String) async throws
    /// Closes, in one statement, the `duplicate` items whose records no longer share a
    /// citizen id standing on their own: fewer than two standing records of the item's
    /// citizen id, or (an item of an earlier version, `DuplicatePersons.pairPrefix`) its pair
    /// no longer two standing records of one citizen id.
    nonisolated(nonsending) func closeStaleDuplicateItems() async throws
}

/// The register as it is now, read: what checks, the desk and reports build on.
public protocol HubRegisterReads {
    /// The merge rules the hub's register is merged with.
    nonisolated(nonsending) func rules() async throws -> RuleSet
    /// Which of `ids` are rows of `table` in the register now (not deleted).
    nonisolated(nonsending) func presentRows(table: String, ids: [String]) async throws -> Set<String>
    /// The value the merge state holds for the row's scope column (`RowScope.column`): the
    /// first write's, so deleted rows still have one. Nil when it holds none.
    nonisolated(nonsending) func scopeValue(table: String, row: String) async throws -> Value?
    /// `scopeValue` of many rows at once (rows it holds none for are left out): a push asks
    /// for every row it names, and a remote store answers in one round trip.
    nonisolated(nonsending) func scopeValues(of rows: Set<RowKey>) async throws -> [RowKey: Value]
    /// Columns of a register row as they are now (NULL for each when the row is absent).
    nonisolated(nonsending) func values(table: String, row: String, columns: [String]) async throws -> [String: Value]
    /// Every row of register `table`, `columns` of each (what reports read, in bulk).
    nonisolated(nonsending) func tableRows(table: String, columns: [String]) async throws -> [[Value]]
    /// The assignments active on `day`, tallied for the staffing figures (`SeatTally`): those
    /// of people holding more than one that day, or named in `named`, kept whole.
    nonisolated(nonsending) func seatTally(on day: String, named: SeatTally.Named) async throws -> SeatTally
    /// Ids of the rows of register `table` whose `column` is `value` (a person's assignments,
    /// ratings, trainings), in id order, at most `limit`.
    nonisolated(nonsending) func rowIDs(table: String, where column: String, is value: String, limit: Int) async throws -> [String]
    /// Whether an assignment is active (`AssignmentTerm`).
    nonisolated(nonsending) func isActiveAssignment(_ id: String) async throws -> Bool
    /// The units.id of the commune-level unit in force whose official code is `code`.
    nonisolated(nonsending) func communeUnit(code: String) async throws -> String?
    /// Names to show people: a person's full name, a unit's name by its code.
    nonisolated(nonsending) func personName(_ id: String) async throws -> String?
    nonisolated(nonsending) func unitName(code: String) async throws -> String?
    /// Persons whose citizen id is `citizenID`, ordered by id.
    nonisolated(nonsending) func persons(citizenID: String) async throws -> [PersonRecord]
    /// Ids of the rows of `table` whose `column` (a text column of the register) holds `value`.
    nonisolated(nonsending) func rowIDs(table: String, where column: String, equals value: String) async throws -> [String]
    /// Persons whose non-blank citizen id is that of any of `ids` (those of `ids` with one
    /// included), ordered by id: the records that may be one person created twice.
    nonisolated(nonsending) func personsSharingCitizenID(with ids: Set<String>) async throws -> [PersonRecord]
    /// The non-blank citizen ids the persons `ids` hold (a read by primary key).
    nonisolated(nonsending) func citizenIDs(of ids: Set<String>) async throws -> Set<String>
}

/// Sync bookkeeping: incarnations, the feed, rows that changed commune, replica ids, what
/// each replica delivered or had refused, what offices say of themselves, credentials and
/// reviewers' decisions.
public protocol HubBookkeeping {
    /// Raises the district's counter and the feed's end to `incarnation.floor` (the next
    /// district change and the next feed entry are numbered above it) and keeps the
    /// incarnation. Unfed district edits are fed before.
    nonisolated(nonsending) func startIncarnation(_ incarnation: HubIncarnation) async throws
    /// The incarnations kept, oldest first.
    nonisolated(nonsending) func incarnations() async throws -> [HubIncarnation]
    /// Appends changes to the feed, each with the scope of its row (`RowScope.feedScope`).
    nonisolated(nonsending) func appendToFeed(_ entries: [(scope: String, change: Change)]) async throws
    /// Feed entries after `seq` visible to `scope` (its own and everyone's), not of `origin`,
    /// in feed order, at most `limit`.
    nonisolated(nonsending) func feed(scope: String, after seq: Int64, notFrom origin: ReplicaID, limit: Int) async throws -> [(seq: Int64, change: Change)]
    /// The feed's last position (0 when empty).
    nonisolated(nonsending) func feedEnd() async throws -> Int64
    /// Drops feed entries at or before `seq` that write a field whose merge state holds
    /// another write alone (superseded: a later write that saw this one is in the feed, so an
    /// office that pulls without it ends in the same state). Kept: writes of the scope column
    /// (moves read them), deletes, fields with concurrent writes. Returns how many went.
    nonisolated(nonsending) func dropSupersededFeed(through seq: Int64) async throws -> Int
    /// Rows with a delete in their merge state that still keep fields other than the scope
    /// column and whose latest feed entry is at or before `seq`, with that entry's position
    /// and scope, in (table, row) order after `cursor`, at most `limit`: what forgetting
    /// deleted rows looks at (`HubStore.forgetDeletedRows`; whether a row is dead is the
    /// caller's to check on its state).
    nonisolated(nonsending) func deletedRows(through seq: Int64, after cursor: RowKey?, limit: Int) async throws
        -> [(key: RowKey, last: Int64, scope: String)]
    /// Forgets dead rows: their merge state keeps its clock, its deletes and its scope field,
    /// their feed keeps its deletes and scope writes, the rest goes; each is recorded with
    /// `time` (`forgotten`). Returns how many feed entries went.
    nonisolated(nonsending) func forget(_ rows: [RowKey], at time: String) async throws -> Int
    /// Which of `rows` the hub forgot (`forget`).
    nonisolated(nonsending) func forgotten(among rows: Set<RowKey>) async throws -> Set<RowKey>
    /// A value of the hub's own bookkeeping (`_sync_meta`), by key.
    nonisolated(nonsending) func hubMeta(_ key: String) async throws -> String?
    nonisolated(nonsending) func setHubMeta(_ key: String, _ value: String) async throws
    /// `origin`'s changes in the feed above `counter`, in counter order, at most `limit`.
    nonisolated(nonsending) func feed(of origin: ReplicaID, after counter: UInt64, limit: Int) async throws -> [Change]
    /// The latest changes the hub holds to one row (its history, for reviewers), newest first.
    nonisolated(nonsending) func rowHistory(table: String, row: String, limit: Int) async throws -> [Change]
    /// How many changes the feed holds.
    nonisolated(nonsending) func feedCount() async throws -> Int
    /// The scope each row was last published under by a change of its scope column (its
    /// latest `commune_id` entry in the feed); rows never published are left out.
    nonisolated(nonsending) func publishedScopes(of rows: Set<RowKey>) async throws -> [RowKey: String]
    /// Keeps moves of rows between communes, at feed position `seq`.
    nonisolated(nonsending) func recordMoves(_ moves: [RowMove], at seq: Int64) async throws
    /// Moves into or out of `scope` at feed positions in `after..<through+1`, in feed order.
    nonisolated(nonsending) func moves(touching scope: String, after: Int64, through: Int64) async throws -> [(seq: Int64, move: RowMove)]
    /// Which of `rows` a move took out of `scope` at some time, with the feed position of the
    /// latest such move.
    nonisolated(nonsending) func movedOut(of rows: Set<RowKey>, from scope: String) async throws -> [RowKey: Int64]
    /// Keeps that `replica` was told of every move up to feed position `seq` (a pull that
    /// sent it rows departed, a snapshot, a refusal of an ended unit) when the hub had
    /// settled its changes up to `counter`: its changes numbered above were made knowing.
    nonisolated(nonsending) func recordTold(_ replica: ReplicaID, through seq: Int64, counter: UInt64) async throws
    /// What `recordTold` kept of `replica`, by feed position.
    nonisolated(nonsending) func told(_ replica: ReplicaID) async throws -> [(seq: Int64, counter: UInt64)]
    /// The units.id a replica id was issued for, "" when the hub only received changes under
    /// it; nil when the id was never used.
    nonisolated(nonsending) func replicaUse(_ replica: ReplicaID) async throws -> String?
    /// Records that `replica` was issued for unit `scope` (kept for good, never reissued to another unit).
    nonisolated(nonsending) func recordReplica(_ replica: ReplicaID, scope: String, at time: String) async throws
    /// Replica ids issued for unit `scope`, oldest first.
    nonisolated(nonsending) func replicas(serving scope: String) async throws -> [ReplicaID]
    /// The highest counter of `origin`'s changes the hub settled (held or refused); 0 for none.
    nonisolated(nonsending) func received(_ origin: ReplicaID) async throws -> UInt64
    /// Raises what the hub settled of `origin` to `counter` (never lowers it).
    nonisolated(nonsending) func recordReceived(_ origin: ReplicaID, counter: UInt64) async throws
    /// What the hub settled under each of `origin`'s `counters`: the change its feed holds,
    /// or else the refusal it kept; counters it holds nothing under are left out. One query
    /// however many counters: a re-sent batch is checked whole (`HubStore.push`).
    nonisolated(nonsending) func settled(_ origin: ReplicaID, counters: [UInt64]) async throws -> [UInt64: SettledChange]
    /// Keeps refusals of `origin`'s changes (one already kept under the same dot stays).
    nonisolated(nonsending) func recordRefusals(_ refusals: [Refusal], of origin: ReplicaID, at time: String) async throws
    /// Keeps what the hub saw of offices' latest pulls (when, how far, what they said of
    /// themselves), many at once; what an office said is never replaced by what it said
    /// earlier (several hub processes write their own), nor by a pull that said nothing.
    nonisolated(nonsending) func saveOfficesSeen(_ offices: [OfficeSeen]) async throws
    /// Every replica the hub knows, with how far it has come (`ReplicaProgress`), in one read.
    nonisolated(nonsending) func progress() async throws -> [ReplicaProgress]
    nonisolated(nonsending) func credential(of replica: ReplicaID) async throws -> StoredCredential?
    nonisolated(nonsending) func credentials() async throws -> [IssuedCredential]
    /// Stores a credential, replacing the one `replica` held.
    nonisolated(nonsending) func saveCredential(_ credential: StoredCredential) async throws
    /// Deletes `replica`'s credential; true if there was one.
    nonisolated(nonsending) func deleteCredential(of replica: ReplicaID) async throws -> Bool
    nonisolated(nonsending) func review(_ id: Int64) async throws -> ReviewRecord?
    /// Keeps a decision and returns its number.
    nonisolated(nonsending) func recordReview(_ review: ReviewRecord) async throws -> Int64
    /// Decisions newest first, those numbered below `before` when given: at most `limit`.
    nonisolated(nonsending) func reviews(before: Int64?, limit: Int) async throws -> [ReviewRecord]
    /// Decisions that concern commune `scope` numbered above `after`, oldest first, at most
    /// `limit`; and the number an office has then seen every decision through.
    nonisolated(nonsending) func decisions(inScope scope: String, after: Int64, limit: Int) async throws -> (decisions: [ReviewRecord], through: Int64)
    /// Marks decision `id` as undone by decision `revert`.
    nonisolated(nonsending) func markReverted(_ id: Int64, by revert: Int64) async throws
}

/// What the hub settled under one dot of a replica: the change it holds, or its refusal.
/// Never changes once settled (feed entries and refusals are kept under their dot for good).
public enum SettledChange: Sendable {
    case held(Change)
    case refused(Refusal)
}

/// A credential as the hub keeps it: the token's SHA-256, never the token.
public struct StoredCredential: Sendable, Equatable {
    public let replica: ReplicaID
    public let scope: String
    public let role: Caller.Role
    /// The token's SHA-256 (hex), or for a reviewer account its password's scrypt hash (`ReviewerPasswords`).
    public let sha256: String
    public let issuedAt: String
    /// The scope unit's `effective_to`, read with the credential (nil while it is in force).
    public var scopeLastDay: String? = nil
    /// When the hub recorded that `effective_to` (its write's stamp): a reorganisation is
    /// often recorded after the date it takes effect.
    public var scopeEndRecorded: HybridTimestamp? = nil

    package init(
        replica: ReplicaID, scope: String, role: Caller.Role, sha256: String, issuedAt: String, scopeLastDay: String? = nil,
        scopeEndRecorded: HybridTimestamp? = nil
    ) {
        self.replica = replica
        self.scope = scope
        self.role = role
        self.sha256 = sha256
        self.issuedAt = issuedAt
        self.scopeLastDay = scopeLastDay
        self.scopeEndRecorded = scopeEndRecorded
    }
}

/// A reviewer's decision as kept: who, when, why, what it wrote, and the values it overwrote
/// so that it can be reverted. A revert is a decision too (`reverts` names the one undone).
public struct ReviewRecord: Sendable, Equatable {
    public var id: Int64?
    public let conflict: String
    public let reviewer: ReplicaID
    public let at: String
    public let reason: String
    public let pick: String?
    public let value: Value?
    public let wrote: Int
    /// The overwritten values (`RowValues`), as JSON.
    public let previous: String
    public let reverts: Int64?
    public var revertedBy: Int64?
    /// The communes (units.id) whose records the decided item names: their offices are told.
    public var scopes: [String] = []

    package init(
        id: Int64? = nil, conflict: String, reviewer: ReplicaID, at: String, reason: String, pick: String?, value: Value?, wrote: Int,
        previous: String, reverts: Int64?, revertedBy: Int64? = nil, scopes: [String] = []
    ) {
        self.id = id
        self.conflict = conflict
        self.reviewer = reviewer
        self.at = at
        self.reason = reason
        self.pick = pick
        self.value = value
        self.wrote = wrote
        self.previous = previous
        self.reverts = reverts
        self.revertedBy = revertedBy
        self.scopes = scopes
    }

    /// How `scopes` is kept: ",unit-a,unit-b," (a commune is found by its comma-wrapped id).
    package static func scopesText(_ scopes: [String]) -> String { scopes.isEmpty ? "" : "," + scopes.joined(separator: ",") + "," }
}
