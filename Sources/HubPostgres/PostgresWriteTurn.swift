import HubCore
import SyncCore
import PostgresNIO
import Synchronization

/// Which writers a transaction of `PostgresHubStorage` shuts out, and what a commune's write
/// leaves for its commit.
///
/// Two kinds of write share the database:
/// - A **district write** (`PostgresHubStorage.write`) takes the district lock exclusively:
///   nothing else writes meanwhile, in any hub process. Staff edits are folded, rows move
///   between communes, review decisions land, the feed is compacted.
/// - A **commune's write** (an office's push, `write(commune:)`) takes the district lock shared
///   and its commune's lock exclusively: pushes of different communes run side by side, two of
///   one commune in turns. Everything a push writes belongs to its commune (its rows, their
///   merge state and conflicts, what the hub holds of the office), except three things,
///   each under its own short lock taken in this order:
///   1. persons' citizen ids, read across communes to find one person recorded twice
///      (`personsLock`, from the first such read to commit), so of two pushes recording the
///      same citizen id the later one sees the earlier;
///   2. feed positions and the hub's clock (`feedLock`, from the first feed entry to commit):
///      positions are one past the highest and the lock goes only with the commit, so they
///      become visible in order and a pull that read up to position n never misses one below;
///   3. nothing else: a push that would write for the whole district (a district write, a
///      fold of staff edits, a sweep of duplicate items) stops (`NeedsWholeDistrict`), is
///      rolled back and runs again as a district write.
///   Locks are taken in one order (district, commune, persons, feed), so writers never wait
///   for each other in a circle.
final class PostgresWriteTurn: Sendable {
    enum Kind: Sendable, Equatable {
        /// One statement on its own, no transaction around it (`readOne`).
        case single
        case read
        case district
        case commune(String)
    }

    let kind: Kind
    private let state = Mutex(State())

    private struct State {
        var feedLocked = false
        var personsLocked = false
        var needsWholeDistrict = false
        /// The hub's clock as this write saw it, raised at commit under the feed lock.
        var clock: Int64 = 0
        /// The rules, once read: only a district write adopts rules, so they cannot change
        /// during a read or a commune's write.
        var rules: RuleSet?
    }

    init(_ kind: Kind) { self.kind = kind }

    /// The advisory lock of the whole district, shared by communes' writes.
    static let districtLock: Int64 = 0x436F_6D6D_756E_6553  // "CommuneS"
    /// Feed positions and the hub's clock, for communes' writes.
    static let feedLock: Int64 = 0x436F_6D6D_756E_6546  // "CommuneF"
    /// Persons' citizen ids, for communes' writes.
    static let personsLock: Int64 = 0x436F_6D6D_756E_6550  // "CommuneP"
    /// The first key of a commune's lock (the second: the hash of its unit id).
    static let communeClass: Int32 = 0x436F_6D6D  // "Comm"

    /// What a transaction of this kind runs first.
    var begin: [(String, [any PostgresThrowingDynamicTypeEncodable])] {
        switch kind {
        case .single:
            return []
        case .read:
            return [("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", [])]
        case .district:
            // The hub's own writes are not captured as staff edits.
            return [("BEGIN ISOLATION LEVEL READ COMMITTED", []),
                    ("SELECT pg_advisory_xact_lock(\(Self.districtLock)), set_config('communesync.applying', 'on', true)", [])]
        case .commune(let scope):
            return [("BEGIN ISOLATION LEVEL READ COMMITTED", []),
                    ("SELECT pg_advisory_xact_lock_shared(\(Self.districtLock)), pg_advisory_xact_lock(\(Self.communeClass), hashtext($1)), "
                        + "set_config('communesync.applying', 'on', true)", [scope])]
        }
    }

    var isCommune: Bool { if case .commune = kind { true } else { false } }

    /// Stops a commune's write that is about to write for the whole district (`what`): it
    /// is rolled back and run again as a district write. Once stopped it cannot commit, even
    /// if the error was caught on the way.
    func wholeDistrict(_ what: String) throws {
        guard isCommune else { return }
        state.withLock { $0.needsWholeDistrict = true }
        throw NeedsWholeDistrict(what: what)
    }

    /// The feed lock, once per commune's write, before its first feed entry.
    nonisolated(nonsending) func lockFeed(_ session: PostgresSession) async throws {
        guard isCommune, !state.withLock({ $0.feedLocked }) else { return }
        try await session.run("SELECT pg_advisory_xact_lock(\(Self.feedLock))")
        state.withLock { $0.feedLocked = true }
    }

    /// The persons lock, once per commune's write, before it reads citizen ids across communes.
    nonisolated(nonsending) func lockPersons(_ session: PostgresSession) async throws {
        guard isCommune, !state.withLock({ $0.personsLocked }) else { return }
        try await session.run("SELECT pg_advisory_xact_lock(\(Self.personsLock))")
        state.withLock { $0.personsLocked = true }
    }

    /// Raises the hub's clock past `stamp`: at once in a district write, at commit in a
    /// commune's (the clock row would otherwise keep every other push waiting from its merge on).
    nonisolated(nonsending) func raiseClock(to stamp: Int64, meta: PostgresMeta) async throws {
        if isCommune {
            state.withLock { $0.clock = max($0.clock, stamp) }
        } else {
            try await meta.raise("clock", to: stamp)
        }
    }

    /// The rules the register is merged with, read once per read or commune's write.
    nonisolated(nonsending) func rules(_ meta: PostgresMeta) async throws -> RuleSet {
        if kind == .district { return try await meta.rules() }
        if let rules = state.withLock({ $0.rules }) { return rules }
        let rules = try await meta.rules()
        state.withLock { $0.rules = rules }
        return rules
    }

    /// What a write does just before COMMIT.
    nonisolated(nonsending) func beforeCommit(_ session: PostgresSession) async throws {
        let (stopped, clock) = state.withLock { ($0.needsWholeDistrict, $0.clock) }
        if stopped { throw NeedsWholeDistrict(what: "a write for the whole district") }
        guard clock != 0 else { return }
        try await lockFeed(session)
        try await PostgresMeta(session: session).raise("clock", to: clock)
    }
}

/// A commune's write came to something only a district write may do (`PostgresWriteTurn`).
struct NeedsWholeDistrict: Error {
    let what: String
}
