import HubCore
import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import MergeEngine
import Register
import Synchronization
import SyncCore

/// The hub's storage in PostgreSQL, for a district that outgrows one box: the register
/// tables (generated from `RegisterSchema`, as SQLite's are), the merge state, the capture
/// log of district staff's plain-SQL edits and the hub's tables (`PostgresRegisterSQL`),
/// created on first use.
///
/// Several hub processes may share one database. What keeps them correct:
/// - Every write first takes advisory locks, held until commit (`PostgresWriteTurn`): an
///   office's push (`write(commune:)`) its commune's lock and the district's shared, so pushes
///   of different communes run side by side across all processes; every other write
///   (`write`) the district's exclusively, alone as on one SQLite file. Writes run in READ
///   COMMITTED, so each statement after a lock sees everything committed before it (a
///   REPEATABLE READ snapshot would be taken by the lock statement, before the lock is
///   granted, and miss the previous holder's commit).
/// - Feed positions (`seq`) are handed out one past the highest, under the district lock or,
///   in a push, the feed lock, and those locks go only after the commit is visible: positions
///   become visible in order, so a pull that has read up to position n can never skip an entry
///   committed later below n.
/// - District staff's writes take no lock: their dots are handed out when the hub folds them,
///   inside the district lock, after they committed (`PostgresMerge`), so staff transactions
///   may commit in any order and each is fed once it has. A push that finds staff edits to
///   fold is run again as a district write.
/// - Every `read` runs in REPEATABLE READ, READ ONLY: one consistent snapshot for the whole
///   body (a pull's entries and its feed end, a snapshot page and its checkpoint agree).
/// - `hasUnfedDistrictEdits` is one query outside any transaction (a partial index on the
///   unfolded log rows and two meta rows), so pulls that find nothing new take no lock.
///
/// Each transaction leases its own connection from the pool (`PostgresClient`), so
/// transactions of one process run side by side; only writes wait for each other.
public final class PostgresHubStorage: HubStorage, Sendable {
    public let district: ReplicaID
    public let schema: RegisterSchema
    /// Where the store is, for messages (without a password).
    public let location: String
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    private let rules: RuleSet?
    private let place: PostgresLocation
    private let prepared = Mutex(false)
    private let sent = StatementCount()

    /// Statements this storage has sent to the database: a merge's cost does not grow with
    /// the number of changes in its batch, only with the tables and rules it touches.
    public var statementsSent: Int { sent.value.load(ordering: .relaxed) }

    /// Pushes run again as district writes (`NeedsWholeDistrict`), since this storage opened.
    public var pushesRunAgain: Int { runAgain.load(ordering: .relaxed) }
    private let runAgain = Atomic<Int>(0)

    /// A store at `url` (`postgresql://user[:password]@host[:port]/database`) for `district`,
    /// adopting `rules` (nil: keep the rules it holds), with at most `poolSize` connections.
    /// Nothing is contacted yet: `open` checks that the database answers; tables are created
    /// on first use.
    public init(url: String, district: ReplicaID, rules: RuleSet? = nil, poolSize: Int = 8,
                schema: RegisterSchema = .current) throws {
        let place = try PostgresLocation(url)
        var configuration = place.clientConfiguration
        configuration.options.maximumConnections = max(1, poolSize)
        configuration.options.connectTimeout = .seconds(5)
        var logger = Logger(label: "communesync.hub.postgres")
        logger.logLevel = .critical
        self.logger = logger
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
        location = PostgresLocation.shown(url)
        self.place = place
        self.district = district
        self.rules = rules
        self.schema = schema
    }

    /// Opens the store and checks that it answers and holds (or can hold) this district's
    /// register, within `timeout`.
    public static func open(url: String, district: ReplicaID, rules: RuleSet? = nil, poolSize: Int = 8,
                            timeout: Duration = .seconds(15)) async throws -> PostgresHubStorage {
        let storage = try PostgresHubStorage(url: url, district: district, rules: rules, poolSize: poolSize)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await storage.place.probe(logger: storage.logger)
                    } catch {
                        throw PostgresStoreError.unreachable(storage.location, why: PostgresStoreError.reason(error))
                    }
                    try await storage.prepare()
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw PostgresStoreError.unreachable(storage.location, why: "no answer within \(timeout)")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            storage.close()
            throw PostgresStoreError.opening(storage.location, error)
        }
        return storage
    }

    deinit { runner.cancel() }

    /// `url` without its password, for logs and messages.
    public static func shown(_ url: String) -> String { PostgresLocation.shown(url) }

    /// Closes every connection; the storage cannot be used after.
    public func close() { runner.cancel() }

    public nonisolated(nonsending) func read<T>(_ body: nonisolated(nonsending) (any HubTransaction) async throws -> T) async throws -> T {
        try await prepare()
        return try await transaction(PostgresWriteTurn(.read), body)
    }

    public nonisolated(nonsending) func readOne<T>(_ body: nonisolated(nonsending) (any HubTransaction) async throws -> T) async throws -> T {
        try await prepare()
        return try await transaction(PostgresWriteTurn(.single), body)
    }

    public nonisolated(nonsending) func write<T>(_ body: nonisolated(nonsending) (any HubTransaction) async throws -> T) async throws -> T {
        try await prepare()
        return try await transaction(PostgresWriteTurn(.district), body)
    }

    public nonisolated(nonsending) func write<T>(
        commune scope: String, _ body: nonisolated(nonsending) (any HubTransaction) async throws -> T
    ) async throws -> T {
        try await prepare()
        do {
            return try await transaction(PostgresWriteTurn(.commune(scope)), body)
        } catch is NeedsWholeDistrict {
            runAgain.add(1, ordering: .relaxed)
            return try await transaction(PostgresWriteTurn(.district), body)
        }
    }

    private nonisolated(nonsending) func transaction<T>(
        _ turn: PostgresWriteTurn, _ body: nonisolated(nonsending) (any HubTransaction) async throws -> T
    ) async throws -> T {
        var result: T?
        try await withSession { session in
            for (statement, binds) in turn.begin { try await session.run(statement, binds) }
            do {
                result = try await body(PostgresHubTransaction(session: session, district: district, schema: schema, turn: turn))
                if turn.kind == .single { return }
                if turn.kind != .read { try await turn.beforeCommit(session) }
                try await session.run("COMMIT")
            } catch {
                if turn.kind != .single { try? await session.run("ROLLBACK") }
                throw error
            }
        }
        return result!
    }

    /// Runs `body` on a connection of the pool.
    nonisolated(nonsending) func withSession(_ body: nonisolated(nonsending) (PostgresSession) async throws -> Void) async throws {
        do {
            try await client.withConnection { connection in
                try await body(PostgresSession(connection: connection, logger: logger, location: location, sent: sent))
            }
        } catch let error as PSQLError {
            throw PostgresStoreError.failed(location, error, sql: nil)
        }
    }

    public nonisolated(nonsending) func hasUnfedDistrictEdits() async throws -> Bool {
        try await prepare()
        var unfed = false
        try await withSession { session in
            unfed = try await session.rows(
                """
                SELECT EXISTS (SELECT 1 FROM _sync_log WHERE hlc IS NULL)
                    OR coalesce((SELECT value::bigint FROM _sync_meta WHERE key = 'counter'), 0)
                       > coalesce((SELECT value::bigint FROM _sync_meta WHERE key = 'fed_counter'), 0)
                """
            ).first?.makeRandomAccess()[0].decode(Bool.self) ?? false
        }
        return unfed
    }

    /// Creates the tables on first use (idempotent, under the write lock so that hub
    /// processes starting together do not race), records the versions and adopts the rules.
    nonisolated(nonsending) func prepare() async throws {
        if prepared.withLock({ $0 }) { return }
        try await withSession { session in
            for (statement, binds) in PostgresWriteTurn(.district).begin { try await session.run(statement, binds) }
            do {
                let meta = PostgresMeta(session: session)
                let exists = try await session.rows("SELECT to_regclass('_sync_meta') IS NOT NULL").first?.decode(Bool.self) ?? false
                let held = exists ? (try await meta.integer("store_version"), try await meta.integer("schema_version")) : (nil, nil)
                if let store = held.0, store > Int64(PostgresRegisterSQL.version) {
                    throw PostgresStoreError.newerStore(location, held: Int(store), known: PostgresRegisterSQL.version)
                }
                if let register = held.1, register > Int64(schema.version) {
                    throw PostgresStoreError.newerRegister(location, held: Int(register), known: schema.version)
                }
                // Tables, columns, functions and triggers as this version has them; once in
                // place, a hub starting again leaves them be (no lock on the register tables).
                if held.0 != Int64(PostgresRegisterSQL.version) || held.1 != Int64(schema.version) {
                    for statement in PostgresRegisterSQL.all(schema) { try await session.run(statement) }
                }
                if let held = try await meta.text("district_replica"), held != district.rawValue {
                    throw PostgresStoreError.otherDistrict(location, held: held, wanted: district.rawValue)
                }
                try await meta.set("store_version", String(PostgresRegisterSQL.version))
                try await meta.set("schema_version", String(schema.version))
                try await meta.set("district_replica", district.rawValue)
                if let rules, try await meta.rules() != rules { try await meta.adopt(rules) }
                try await session.run("COMMIT")
            } catch {
                try? await session.run("ROLLBACK")
                throw error
            }
        }
        prepared.withLock { $0 = true }
    }
}
