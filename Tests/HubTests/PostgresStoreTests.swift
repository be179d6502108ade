import Foundation
import Hub
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
