import Foundation

/// The built programs (`synchub`, `syncd`, `syncctl`) next to the test bundle.
public enum Programs {
    public static let directory: URL = {
        let candidates = [
            Bundle.main.executableURL?.deletingLastPathComponent(),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug"),
        ].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("synchub").path) }
            ?? candidates.last!
    }()

    public static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The package's root (for Deploy/demo data).
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs one of the built programs to completion: its status and output (stdout then stderr).
    @discardableResult
    public static func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try runSystem(path(name), arguments)
    }

    /// Runs any command (a built program, mount, dd, ...) to completion.
    @discardableResult
    public static func runSystem(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Starts a long-running program (a built one by name, any other by absolute path) with its
    /// output appended to `log`.
    public static func start(_ name: String, _ arguments: [String], log: String, environment: [String: String] = [:]) throws -> Process {
        if !FileManager.default.fileExists(atPath: log) {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: name.hasPrefix("/") ? name : path(name))
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held. A condition
/// that throws (a file still locked, a process not up yet) counts as not holding yet.
public func eventually(timeout: Double = 30, every interval: Double = 0.1, _ condition: () throws -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    repeat {
        if (try? condition()) == true { return true }
        Thread.sleep(forTimeInterval: interval)
    } while Date() < deadline
    return (try? condition()) == true
}

/// A plain HTTP GET for tests that read what the hub serves to people and monitoring.
public func httpGet(_ url: String) throws -> (status: Int, body: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", """
        import sys, urllib.request, urllib.error
        try:
            r = urllib.request.urlopen(sys.argv[1], timeout=10); print(r.status); sys.stdout.write(r.read().decode())
        except urllib.error.HTTPError as e:
            print(e.code); sys.stdout.write(e.read().decode())
        """, url]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard let newline = text.firstIndex(of: "\n"), let status = Int(text[..<newline]) else {
        throw ClusterError("GET \(url) failed: \(text)")
    }
    return (status, String(text[text.index(after: newline)...]))
}
