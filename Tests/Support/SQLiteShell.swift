import Foundation

/// The real `sqlite3` command-line shell (Debian package `sqlite3`), run as a separate
/// process: what an office technician or a script would use to write the register.
public enum SQLiteShell {
    public struct Failure: Error, CustomStringConvertible {
        public let status: Int32
        public let standardError: String
        public var description: String { "sqlite3 exited with \(status): \(standardError)" }
    }

    public static let executable = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"]
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/sqlite3"

    /// Like any office program sharing the file with syncd, the shell waits up to 10 s for a
    /// write lock instead of failing at once.
    static let busyTimeout = ".timeout 10000\n"

    /// Runs `sql` against `database` and returns what the shell printed (list mode, `|`).
    @discardableResult
    public static func run(_ database: String, _ sql: String, environment: [String: String] = [:]) throws -> String {
        let run = try Programs.execute(
            executable, ["-bail", database], input: Data((busyTimeout + sql).utf8), environment: environment,
            separateErrors: true, timeout: 300)
        guard run.status == 0 else { throw Failure(status: run.status, standardError: run.errors) }
        return run.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts the shell on `script` and returns the running process (for fault tests).
    public static func start(_ database: String, script: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-bail", database]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data((busyTimeout + script).utf8))
        try input.fileHandleForWriting.close()
        return process
    }
}
