import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import MergeEngine
import Register
import Replica
import SyncCore
import Testing
import TestSupport

/// What only the PostgreSQL store has to say: how it is opened, and what it refuses.
@Suite struct PostgresStoreTests {
    /// Generous: the whole suite runs at once on a small machine, and a starved test process
    /// is not what these tests are about.
    static let patience = Duration.seconds(300)

    @Test func aStoreThatCannotBeOpenedSaysWhyAndWhatToCheck() async throws {
        let refused = await #expect(throws: PostgresStoreError.self) {
            try await PostgresHubStorage.open(url: "postgresql://hub@127.0.0.1:1/hub", district: "200")
        }
        #expect(refused?.description.contains("cannot be opened") == true, "\(String(describing: refused))")
        #expect(refused?.description.contains("[store] url") == true)

        let url = try PostgresTestServer.newDatabase()
        let missing = await #expect(throws: PostgresStoreError.self) {
            try await PostgresHubStorage.open(url: url + "_missing", district: "200", timeout: Self.patience)
        }
        #expect(missing?.description.contains("does not exist") == true, "\(String(describing: missing))")

        for bad in ["mysql://hub@db/hub", "postgresql://hub@db", "postgresql://db/hub"] {
            let error = #expect(throws: PostgresStoreError.self) { try PostgresHubStorage(url: bad, district: "200") }
            #expect(error?.description.contains("fix [store] url") == true, "\(bad): \(String(describing: error))")
        }
    }

    @Test func aDatabaseHoldsOneDistrictsRegister() async throws {
        let url = try PostgresTestServer.newDatabase()
        let first = try await PostgresHubStorage.open(url: url, district: "200", timeout: Self.patience)
        first.close()
        // A second hub of the same district finds everything in place.
        let again = try await PostgresHubStorage.open(url: url, district: "200", timeout: Self.patience)
        again.close()
        let other = await #expect(throws: PostgresStoreError.self) { try await PostgresHubStorage.open(url: url, district: "300", timeout: Self.patience) }
        #expect(other?.description.contains("district 200, not of 300") == true, "\(String(describing: other))")
    }

    @Test func staffCannotChangeARowsId() async throws {
        let url = try PostgresTestServer.newDatabase()
        let store = try await PostgresHubStorage.open(url: url, district: "200", timeout: Self.patience)
        defer { store.close() }
        try PostgresTestServer.psql(url, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-a', 'An')")
        #expect(throws: (any Error).self) { try PostgresTestServer.psql(url, "UPDATE persons SET id = 'p2' WHERE id = 'p1'") }
        // A row inserted without an id gets one, as in SQLite.
        try PostgresTestServer.psql(url, "INSERT INTO persons(commune_id, full_name) VALUES ('unit-a', 'Bình')")
        let minted = try PostgresTestServer.psql(url, "SELECT length(id) FROM persons WHERE full_name = 'Bình'")
        #expect(minted.trimmingCharacters(in: .whitespacesAndNewlines) == "32")
        #expect(try await store.hasUnfedDistrictEdits())
    }
}

extension PostgresStoreTests {
    /// A push costs the same statements whether it brings 10 rows or 200: states are loaded,
    /// and merge state, register rows, feed and conflicts saved, set-based.
    @Test func aPushCostsTheSameStatementsWhateverItsSize() async throws {
        let directory = try TemporaryDirectory("postgres-statements")
        let storage = try HubBackend.postgresql.open(in: directory) as! PostgresHubStorage
        let store = HubStore(storage: storage)
        let token = try await store.issueCredential(for: "11111", scope: "unit-a")
        let caller = try await store.authenticate("Bearer \(token)")
        let office = try Replica.create(at: directory.path("office.db"), id: "11111", role: .commune)
        var costs: [Int] = []
        for (batch, rows) in [(0, 10), (1, 200), (2, 10), (3, 200)] {
            try office.database.execute("BEGIN;" + (0..<rows).map {
                "INSERT INTO persons(id, commune_id, full_name) VALUES ('p\(batch)-\($0)', 'unit-a', 'Người \($0)');"
            }.joined() + "COMMIT;")
            try office.fold()
            let changes = try office.capturedChanges(after: try await store.receivedCounter(of: caller.replica))
            let before = storage.statementsSent
            let pushed = try await store.push(changes, from: caller)
            costs.append(storage.statementsSent - before)
            #expect(pushed.applied == changes.count)
        }
        #expect(Set(costs).count == 1, "statements per push of 10, 200, 10, 200 rows: \(costs)")
    }
}

extension PostgresStoreTests {
    /// The register as schema 1 had it: persons without merged_into.
    static let schemaOne = RegisterSchema(version: 1, tables: RegisterSchema.current.tables.map { table in
        guard table.name == "persons" else { return table }
        return TableSchema(name: table.name, summary: table.summary, owner: table.owner, columns: table.columns.filter { $0.name != "merged_into" })
    })

    /// A store left by a schema-1 hub (store layout 1: four conflict kinds, no citizen id
    /// index) is brought up to schema 2 when a newer hub starts: persons gains merged_into,
    /// staff's writes of it are captured, conflicts are kept, and the new kinds can be recorded.
    @Test func aSchemaOneStoreIsUpgradedWhenANewerHubStarts() async throws {
        let url = try PostgresTestServer.newDatabase()
        let older = HubStore(storage: try PostgresHubStorage(url: url, district: "200", schema: Self.schemaOne))
        #expect(try await older.ingestLocalEdits() == 0, "tables created on first use")
        try PostgresTestServer.psql(url, """
            INSERT INTO persons(id, commune_id, full_name, citizen_id) VALUES ('p1', 'unit-a', 'An', '022090000001'), ('p2', 'unit-b', 'An', '022090000002');
            """)
        #expect(try await older.ingestLocalEdits() > 0)
        // What the schema-1 release created and did not: its conflict kinds, its versions.
        try PostgresTestServer.psql(url, """
            DROP TABLE _sync_conflicts;
            DROP TYPE _sync_conflict_kind;
            CREATE TYPE _sync_conflict_kind AS ENUM ('field', 'seat', 'holding', 'quota');
            CREATE TABLE _sync_conflicts(
                tbl text COLLATE "C" NOT NULL, pk text COLLATE "C" NOT NULL, col text COLLATE "C" NOT NULL,
                kind _sync_conflict_kind NOT NULL, rule text NOT NULL, sides text NOT NULL, chosen text NOT NULL,
                state _sync_conflict_state NOT NULL, opened_hlc bigint NOT NULL, closed_hlc bigint, PRIMARY KEY(tbl, pk, col));
            INSERT INTO _sync_conflicts VALUES ('persons', 'p1', 'phone', 'field', 'review', '[]', '', 'open', 1, NULL);
            DROP INDEX IF EXISTS _sync_persons_by_citizen_id;
            ALTER TABLE _sync_log DROP COLUMN block;
            UPDATE _sync_meta SET value = '1' WHERE key IN ('store_version', 'schema_version');
            """)
        #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'persons' AND column_name = 'merged_into'")
            .trimmingCharacters(in: .whitespacesAndNewlines) == "0")

        let storage = try await PostgresHubStorage.open(url: url, district: "200", timeout: Self.patience)
        defer { storage.close() }
        let store = HubStore(storage: storage)
        func psql(_ sql: String) throws -> String { try PostgresTestServer.psql(url, sql).trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(try psql("SELECT value FROM _sync_meta WHERE key IN ('store_version', 'schema_version') ORDER BY key") == "2\n4")
        // District writes folded before keep their dots: their seq becomes their block.
        #expect(try psql("SELECT count(*) FROM _sync_log WHERE hlc IS NOT NULL AND block IS DISTINCT FROM seq") == "0")
        #expect(try psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'persons' AND column_name = 'merged_into'") == "1")
        #expect(try psql("SELECT count(*) FROM pg_indexes WHERE indexname = '_sync_persons_by_citizen_id'") == "1")
        #expect(try psql("SELECT count(*) FROM pg_indexes WHERE indexname = '_sync_hub_assignments_by_person_id'") == "1")

        // The same person recorded twice: a duplicate item, beside the record of before.
        try psql("UPDATE persons SET citizen_id = '022090000001' WHERE id = 'p2'")
        try await store.ingestLocalEdits()
        let reviewer = try await store.authenticate("Bearer " + (try await store.issueCredential(for: "reviewer1", scope: nil, reviewer: true)))
        let listed = try await store.conflicts(state: "all", for: reviewer)
        #expect(listed.map(\.id) == ["persons/022090000001/*duplicate", "persons/p1/phone"])
        #expect(listed.map(\.kind) == ["duplicate", "field"])

        // Staff marking the record merged by hand: captured like any column, and the item closes.
        try psql("UPDATE persons SET merged_into = 'p1' WHERE id = 'p2'")
        try await store.ingestLocalEdits()
        let column = try #require(RegisterSchema.current.table(named: "persons")?.columns.firstIndex { $0.name == "merged_into" })
        #expect(try psql("SELECT count(*) FROM _sync_log WHERE tbl = 'persons' AND pk = 'p2' AND cols & \(Int64(1) << column) <> 0") == "1")
        #expect(try await store.conflicts(state: "all", for: reviewer).map(\.state) == ["closed", "open"])
    }
}
