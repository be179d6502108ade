import CSQLite
import Glibc
import Synchronization
import MergeEngine
import Register
import SyncCore

/// One connection to a SQLite file: a thin layer over the C API that keeps prepared
/// statements and turns every failure into a `SQLiteError`.
///
/// Not thread-safe by design: one owner (a program's main flow, or an actor) holds it.
public final class SQLiteDatabase {
    let handle: OpaquePointer
    public let path: String
    private var statements: [String: OpaquePointer] = [:]
    /// Which thread is inside a call on this connection, and how deep (a query's row handler
    /// may run statements of its own). The connection is opened without SQLite's own mutex, so
    /// two threads inside it at once would corrupt its state and possibly the file: that is
    /// stopped here, loudly, rather than found later as "database disk image is malformed".
    private let user = Mutex<(thread: pthread_t, depth: Int)>((0, 0))
    private func enter(_ sql: String) {
        user.withLock { user in
            let me = pthread_self()
            precondition(
                user.depth == 0 || pthread_equal(user.thread, me) != 0,
                "two threads at once on the SQLite connection to \(path) (the second ran \(sql.prefix(80))): its owner must serialise its use")
            user.thread = me
            user.depth += 1
        }
    }
    private func leave() { user.withLock { $0.depth -= 1 } }

    /// Opens (and with `create`, creates) the file at `path`, waiting up to `busyTimeoutMillis`
    /// for another program's write lock instead of failing at once.
    public init(path: String, create: Bool = true, readOnly: Bool = false, busyTimeoutMillis: Int32 = 5_000) throws {
        var flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        var connection: OpaquePointer?
        let code = sqlite3_open_v2(path, &connection, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(connection)
            throw SQLiteError(code: code, message: "\(message) (file \(path))", sql: nil)
        }
        handle = connection
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMillis)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that take no parameters and return nothing of interest.
    public func execute(_ sql: String) throws {
        enter(sql); defer { leave() }
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if code != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(errorMessage)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: message, sql: sql)
        }
    }

    /// Runs one statement with parameters, discarding any rows.
    public func run(_ sql: String, _ parameters: [Value] = []) throws {
        try withStatement(sql, parameters) { statement in
            while try step(statement, sql) {}
        }
    }

    /// Runs a statement of many rows for `rows` (each as many values as the statement's row
    /// has placeholders): `statement` gets the VALUES list ("(?, ?), (?, ?)") and returns the
    /// SQL. Runs of 256, 128, ... 1 rows, so that few statement texts are ever prepared.
    public func runRows(_ rows: [[Value]], _ statement: (String) -> String) throws {
        guard let width = rows.first?.count else { return }
        let row = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
        var start = 0
        while start < rows.count {
            var run = 256
            while run > rows.count - start { run /= 2 }
            try self.run(statement(Array(repeating: row, count: run).joined(separator: ", ")), rows[start..<start + run].flatMap { $0 })
            start += run
        }
    }

    /// Runs one query and returns every row as an array of column values.
    public func query(_ sql: String, _ parameters: [Value] = []) throws -> [[Value]] {
        var rows: [[Value]] = []
        try forEachRow(sql, parameters) { rows.append($0) }
        return rows
    }

    /// Calls `body` with each row of a query, without collecting them.
    public func forEachRow(_ sql: String, _ parameters: [Value] = [], _ body: ([Value]) throws -> Void) throws {
        try withStatement(sql, parameters) { statement in
            let count = sqlite3_column_count(statement)
            while try step(statement, sql) {
                try body((0..<count).map { column(statement, $0) })
            }
        }
    }

    /// Calls `body` with each row of a query, its columns read as text only when asked
    /// (`TextRow`): for scans of many rows, without a value array per row.
    public func forEachTextRow(_ sql: String, _ parameters: [Value] = [], _ body: (TextRow) throws -> Void) throws {
        try withStatement(sql, parameters) { statement in
            while try step(statement, sql) { try body(TextRow(statement: statement)) }
        }
    }

    /// The current row of a statement being stepped, read column by column as text; valid
    /// only inside the `forEachTextRow` body it is given to.
    public struct TextRow {
        fileprivate let statement: OpaquePointer

        /// Column `index` as text; nil for NULL.
        public func text(_ index: Int32) -> String? {
            bytes(index).map { String(decoding: $0, as: UTF8.self) }
        }

        /// Column `index` as the UTF-8 bytes SQLite holds, valid until the next row; nil for NULL.
        public func bytes(_ index: Int32) -> UnsafeBufferPointer<UInt8>? {
            // NULL is a null pointer (SQLite's documented answer for a NULL value).
            guard let bytes = sqlite3_column_text(statement, index) else { return nil }
            return UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, index)))
        }
    }

    /// The first column of the first row, or nil when there is no row.
    public func scalar(_ sql: String, _ parameters: [Value] = []) throws -> Value? {
        var result: Value?
        try withStatement(sql, parameters) { statement in
            if try step(statement, sql) { result = column(statement, 0) }
        }
        return result
    }

    /// Runs `body` in a transaction (`BEGIN IMMEDIATE`: the write lock is taken up front, so a
    /// concurrent writer makes it wait at the start rather than fail half-way). Rolls back if
    /// `body` throws. Inside a transaction already, `body` runs in a savepoint of it: what it
    /// wrote is undone if it throws, and commits with the enclosing transaction.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        if isInTransaction {
            try execute("SAVEPOINT nested")
            do {
                let result = try body()
                try execute("RELEASE nested")
                return result
            } catch {
                try? execute("ROLLBACK TO nested")
                try? execute("RELEASE nested")
                throw error
            }
        }
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` with the raw connection, for a C call this type does not wrap (the session
    /// extension in syncbench). The connection stays this object's: `body` must not close it.
    public func withConnection<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        enter("(raw connection)")
        defer { leave() }
        return try body(handle)
    }

    /// Whether a transaction is open on this connection.
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    private var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }

    private func withStatement(_ sql: String, _ parameters: [Value], _ body: (OpaquePointer) throws -> Void) throws {
        enter(sql); defer { leave() }
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (index, value) in parameters.enumerated() {
            try bind(value, at: Int32(index + 1), to: statement, sql: sql)
        }
        try body(statement)
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: lastMessage, sql: sql)
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ value: Value, at index: Int32, to statement: OpaquePointer, sql: String) throws {
        let code: Int32
        switch value {
        case .null: code = sqlite3_bind_null(statement, index)
        case .integer(let integer): code = sqlite3_bind_int64(statement, index, integer)
        case .real(let real): code = sqlite3_bind_double(statement, index, real)
        case .text(let text): code = sqlite3_bind_text(statement, index, text, -1, communesync_sqlite_transient)
        }
        guard code == SQLITE_OK else {
            throw SQLiteError(code: code, message: lastMessage, sql: sql)
        }
    }

    private func step(_ statement: OpaquePointer, _ sql: String) throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError(code: sqlite3_extended_errcode(handle), message: lastMessage, sql: sql)
        }
    }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> Value {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_NULL: return .null
        default:
            // Text, and blobs written by some other program into a text column, read as text.
            guard let bytes = sqlite3_column_text(statement, index) else { return .null }
            let count = Int(sqlite3_column_bytes(statement, index))
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
        }
    }
}

extension SQLiteDatabase {
    /// Writes a consistent copy of this database to `path` with SQLite's online backup: one
    /// read transaction, so writers on other connections go on (WAL) and the copy is the
    /// database as of one instant. The copy is written beside `path` first, checked
    /// (`quick_check`), synced and then renamed into place, so `path` is never a half copy.
    /// Returns its size in bytes.
    @discardableResult
    public func backup(to path: String, mode: mode_t = 0o660) throws -> Int64 {
        let partial = path + ".partial"
        unlink(partial)
        var target: OpaquePointer?
        guard sqlite3_open_v2(partial, &target, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK, let target else {
            let message = target.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(target)
            throw SQLiteError(code: SQLITE_CANTOPEN, message: "cannot create \(partial): \(message)", sql: "(backup)")
        }
        defer { sqlite3_close(target) }
        chmod(partial, mode)
        let step = try withConnection { source -> Int32 in
            guard let backup = sqlite3_backup_init(target, "main", source, "main") else {
                throw SQLiteError(code: sqlite3_errcode(target), message: String(cString: sqlite3_errmsg(target)), sql: "(backup)")
            }
            var result = sqlite3_backup_step(backup, -1)
            // Another connection holding a write lock on a rollback-journal file: wait a little.
            var waited = 0
            while (result == SQLITE_BUSY || result == SQLITE_LOCKED) && waited < 300 {
                usleep(100_000)
                waited += 1
                result = sqlite3_backup_step(backup, -1)
            }
            sqlite3_backup_finish(backup)
            return result
        }
        guard step == SQLITE_DONE else {
            unlink(partial)
            throw SQLiteError(code: step, message: "the backup did not finish: \(String(cString: sqlite3_errstr(step)))", sql: "(backup)")
        }
        let copy = try SQLiteDatabase(path: partial, create: false)
        let check = try copy.scalar("PRAGMA quick_check")?.textValue
        try copy.execute("PRAGMA journal_mode = DELETE")
        guard check == "ok" else {
            unlink(partial)
            throw SQLiteError(code: SQLITE_CORRUPT, message: "the copy does not check out (\(check ?? "?")): nothing was kept", sql: "(backup)")
        }
        let descriptor = open(partial, O_RDONLY)
        if descriptor >= 0 { fsync(descriptor); close(descriptor) }
        guard rename(partial, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(partial)
            throw SQLiteError(code: SQLITE_CANTOPEN, message: "cannot put the copy at \(path): \(why)", sql: "(backup)")
        }
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }
}

/// Arrays of text as one JSON parameter, for statements that read them back with `json_each`
/// (one statement for a batch of ids, whatever its size). Written by hand: only strings,
/// escaped as JSON requires, and far cheaper than an encoder on every statement.
public enum JSONText {
    public static func array(_ strings: some Sequence<String>) -> String {
        "[" + strings.map(quoted).joined(separator: ",") + "]"
    }

    /// `[[a, b], ...]`: pairs such as (table, row).
    public static func pairs(_ pairs: some Sequence<(String, String)>) -> String {
        "[" + pairs.map { "[" + quoted($0.0) + "," + quoted($0.1) + "]" }.joined(separator: ",") + "]"
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(control.value, radix: 16).count) + String(control.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
