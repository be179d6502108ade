import Hub
import Replica
import SyncCore
import Testing
import TestSupport

/// The storages the hub's logic is tested on: every test of `HubStoreTests` runs on each, so
/// a backend joins the suite by adding a case here.
enum HubBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite

    var testDescription: String { rawValue }

    /// A new, empty storage for district 200, its files in `directory`.
    func open(in directory: TemporaryDirectory) throws -> any HubStorage {
        switch self {
        case .sqlite: return try SQLiteHubStorage(path: Self.sqlitePath(directory), district: "200")
        }
    }

    /// Runs SQL in the hub's database as district staff may (their writes reach the feed as
    /// district edits).
    func districtSQL(_ sql: String, in directory: TemporaryDirectory) throws {
        switch self {
        case .sqlite: try SQLiteDatabase(path: Self.sqlitePath(directory), create: false).execute(sql)
        }
    }

    /// One value read with SQL from the hub's database.
    func scalar(_ sql: String, in directory: TemporaryDirectory) throws -> Value? {
        switch self {
        case .sqlite: return try SQLiteDatabase(path: Self.sqlitePath(directory), create: false).scalar(sql)
        }
    }

    /// Makes keeping a review decision fail (as a full disk would), or work again.
    func failReviewRecords(_ failing: Bool, in directory: TemporaryDirectory) throws {
        switch self {
        case .sqlite:
            try districtSQL(failing
                ? "CREATE TRIGGER fail_reviews BEFORE INSERT ON _sync_hub_reviews BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                : "DROP TRIGGER fail_reviews", in: directory)
        }
    }

    private static func sqlitePath(_ directory: TemporaryDirectory) -> String { directory.path("hub.db") }
}
