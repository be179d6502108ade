import Foundation
import Hub
import Replica
import SyncCore
import Testing
import TestSupport

/// The storages the hub's logic is tested on: every test of `HubStoreTests` runs on each, so
/// a backend joins the suite by adding a case here.
enum HubBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    /// A fresh database of the test process's throw-away PostgreSQL (`PostgresTestServer`).
    case postgresql

    var testDescription: String { rawValue }

    /// A new, empty storage for district 200 merging with `rules` (nil: the builtin ones),
    /// its files in `directory`.
    func open(in directory: TemporaryDirectory, rules: RuleSet? = nil) throws -> any HubStorage {
        switch self {
        case .sqlite: return try SQLiteHubStorage(path: Self.sqlitePath(directory), district: "200", rules: rules)
        case .postgresql:
            let url = try PostgresTestServer.newDatabase()
            try url.write(toFile: Self.urlPath(directory), atomically: true, encoding: .utf8)
            return try PostgresHubStorage(url: url, district: "200", rules: rules, poolSize: 4)
        }
    }

    /// Runs SQL in the hub's database as district staff may (their writes reach the feed as
    /// district edits).
    func districtSQL(_ sql: String, in directory: TemporaryDirectory) throws {
        switch self {
        case .sqlite: try SQLiteDatabase(path: Self.sqlitePath(directory), create: false).execute(sql)
        case .postgresql: try PostgresTestServer.psql(try Self.url(directory), sql)
        }
    }

    /// Runs SQL in the hub's database that its capture does not see: rows the rules then meet
    /// with no dot, as they meet on PostgreSQL a staff write committed between a merge's fold
    /// and its rule checks.
    func uncapturedSQL(_ sql: String, in directory: TemporaryDirectory) throws {
        switch self {
        case .sqlite:
            try districtSQL("INSERT INTO _sync_applying(since) VALUES (0);\n" + sql + "\nDELETE FROM _sync_applying;", in: directory)
        case .postgresql:
            try districtSQL("SET communesync.applying = 'on';\n" + sql + "\nRESET communesync.applying;", in: directory)
        }
    }

    /// One value read with SQL from the hub's database.
    func scalar(_ sql: String, in directory: TemporaryDirectory) throws -> Value? {
        switch self {
        case .sqlite: return try SQLiteDatabase(path: Self.sqlitePath(directory), create: false).scalar(sql)
        case .postgresql:
            let output = try PostgresTestServer.psql(try Self.url(directory), sql).trimmingCharacters(in: .newlines)
            return output.isEmpty ? nil : .text(output)
        }
    }

    /// Makes keeping a review decision fail (as a full disk would), or work again.
    func failReviewRecords(_ failing: Bool, in directory: TemporaryDirectory) throws {
        switch self {
        case .sqlite:
            try districtSQL(failing
                ? "CREATE TRIGGER fail_reviews BEFORE INSERT ON _sync_hub_reviews BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                : "DROP TRIGGER fail_reviews", in: directory)
        case .postgresql:
            try districtSQL(failing
                ? """
                  CREATE FUNCTION fail_reviews() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
                  CREATE TRIGGER fail_reviews BEFORE INSERT ON _sync_hub_reviews FOR EACH ROW EXECUTE FUNCTION fail_reviews();
                  """
                : "DROP TRIGGER fail_reviews ON _sync_hub_reviews; DROP FUNCTION fail_reviews();", in: directory)
        }
    }

    private static func sqlitePath(_ directory: TemporaryDirectory) -> String { directory.path("hub.db") }
    private static func urlPath(_ directory: TemporaryDirectory) -> String { directory.path("postgres.url") }
    private static func url(_ directory: TemporaryDirectory) throws -> String { try String(contentsOfFile: urlPath(directory), encoding: .utf8) }
}
