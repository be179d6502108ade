import Register
import CSQLite

/// A failed SQLite call, with the result code, SQLite's own message and the SQL involved.
public struct SQLiteError: Error, CustomStringConvertible, Equatable {
    /// The extended result code (e.g. `SQLITE_BUSY`, `SQLITE_FULL`, `SQLITE_CONSTRAINT_TRIGGER`).
    public let code: Int32
    public let message: String
    public let sql: String?

    public init(code: Int32, message: String, sql: String?) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// The primary result code (extended codes carry it in the low byte).
    public var primaryCode: Int32 { code & 0xFF }

    public var description: String {
        let name = String(cString: sqlite3_errstr(code))
        var text = "SQLite error \(code) (\(name)): \(message)"
        if let sql { text += " [in: \(sql.prefix(200))]" }
        return text
    }
}
