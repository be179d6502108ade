import CSQLite
import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import SyncProtocol

/// The baseline the hub's sync is measured against: SQLite's own session extension moving the
/// same rows from one file to another, with no causality, no rules and no network. Inserts
/// are captured by a session, turned into one changeset, gzipped, unzipped and applied to a
/// second file in one transaction.
struct SessionPipeline {
    let insert: String
    let rows: [[Value]]

    /// Field values per second, from the first captured insert to the target's commit.
    func fieldsPerSecond(columns: Int, in directory: URL) throws -> Double {
        let source = try SQLiteDatabase(path: directory.appendingPathComponent("session-source.db").path)
        let target = try SQLiteDatabase(path: directory.appendingPathComponent("session-target.db").path)
        for file in [source, target] {
            try file.execute("PRAGMA journal_mode = WAL")
            try file.execute(RegisterSchema.current.registerTablesSQL)
        }
        let start = ContinuousClock.now
        let changeset = try source.withConnection { connection -> [UInt8] in
            var session: OpaquePointer?
            try check(sqlite3session_create(connection, "main", &session), "sqlite3session_create")
            defer { sqlite3session_delete(session) }
            try check(sqlite3session_attach(session, "persons"), "sqlite3session_attach")
            return try capture(session)
        }
        let wire = Gzip.compress(changeset)
        let received = try Gzip.decompress(wire, limit: 1 << 30)
        try target.transaction {
            try target.withConnection { connection in
                var bytes = received
                let code = sqlite3changeset_apply(
                    connection, Int32(bytes.count), &bytes, nil,
                    { _, _, _ in SQLITE_CHANGESET_REPLACE }, nil)
                try check(code, "sqlite3changeset_apply")
            }
        }
        let elapsed = seconds(since: start)
        let landed = try target.scalar("SELECT count(*) FROM persons")?.integerValue ?? 0
        guard landed == rows.count else {
            throw SessionError(message: "the session changeset landed \(landed) of \(rows.count) rows")
        }
        return Double(rows.count * columns) / elapsed

        func capture(_ session: OpaquePointer?) throws -> [UInt8] {
            try source.transaction { for row in rows { try source.run(insert, row) } }
            var size: Int32 = 0
            var buffer: UnsafeMutableRawPointer?
            try check(sqlite3session_changeset(session, &size, &buffer), "sqlite3session_changeset")
            defer { sqlite3_free(buffer) }
            return Array(UnsafeRawBufferPointer(start: buffer, count: Int(size)))
        }
    }

    private func check(_ code: Int32, _ call: String) throws {
        guard code == SQLITE_OK else { throw SessionError(message: "\(call) failed with SQLite code \(code)") }
    }
}

struct SessionError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
