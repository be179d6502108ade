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

    /// Dots in the hub's feed, each with how many entries it has there (more than 1 would be a
    /// bug): read from the database itself, as no part of the hub needs to ask it.
    func feedDotCounts(in directory: TemporaryDirectory) throws -> [Dot: Int] {
        switch self {
        case .sqlite:
            var counts: [Dot: Int] = [:]
            for row in try SQLiteDatabase(path: Self.sqlitePath(directory), create: false).query(Self.feedDotCountsSQL) {
                if let origin = row[0].textValue.flatMap(ReplicaID.init(rawValue:)), let counter = row[1].integerValue,
                    let count = row[2].integerValue {
                    counts[Dot(replica: origin, counter: UInt64(bitPattern: counter))] = Int(count)
                }
            }
            return counts
        case .postgresql: return try Self.feedDotCounts(postgres: try Self.url(directory))
        }
    }

    /// `feedDotCounts` of the hub whose PostgreSQL database is at `url`.
    static func feedDotCounts(postgres url: String) throws -> [Dot: Int] {
        var counts: [Dot: Int] = [:]
        for line in try PostgresTestServer.psql(url, feedDotCountsSQL).split(separator: "\n") {
            let fields = line.split(separator: "|")
            if fields.count == 3, let origin = ReplicaID(rawValue: String(fields[0])), let counter = Int64(fields[1]),
                let count = Int(fields[2]) {
                counts[Dot(replica: origin, counter: UInt64(bitPattern: counter))] = count
            }
        }
        return counts
    }

    private static let feedDotCountsSQL = "SELECT origin, counter, count(*) FROM _sync_hub_feed GROUP BY origin, counter"

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
