@preconcurrency import Glibc
import Foundation

/// The built programs (`synchub`, `syncd`, `syncctl`) next to the test bundle.
public enum Programs {
    public static let directory: URL = {
        // Line by line, so a CI log read after a kill shows what the tests printed up to it.
        setvbuf(stdout, nil, _IOLBF, 0)
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
    /// In the C locale, so that `syncctl` speaks English whatever the shell running the tests
    /// says; `environment` adds to or overrides that.
    @discardableResult
    public static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let done = try execute(path(name), arguments, environment: ["LC_ALL": "C.UTF-8"].merging(environment) { $1 })
        return (done.status, done.output)
    }

    /// Runs any command (a built program, mount, dd, ...) to completion.
    @discardableResult
    public static func runSystem(_ executable: String, _ arguments: [String], timeout: Double = defaultTimeout) throws -> (status: Int32, output: String) {
        let done = try execute(executable, arguments, timeout: timeout)
        return (done.status, done.output)
    }

    /// How long a command run to completion may take before it is killed and the test fails:
    /// long enough for the slowest (the systemd container, a load run) on a slow machine.
    public static let defaultTimeout: Double = 900

    /// What a command printed and how it ended.
    public struct Completed: Sendable {
        public let status: Int32
        /// Standard output, with standard error interleaved unless asked apart.
        public let output: String
        /// Standard error when asked apart, else empty.
        public let errors: String
    }

    /// Runs a command to completion with its output going to files, not pipes: a helper process
    /// it leaves behind (a browser's crash handler, a server it started) can hold no pipe open
    /// and stall the test. One that runs past `timeout` is killed (SIGKILL) and the test fails
    /// with the command and what it printed so far.
    public static func execute(
        _ executable: String, _ arguments: [String], input: Data? = nil, environment: [String: String] = [:],
        separateErrors: Bool = false, timeout: Double = defaultTimeout
    ) throws -> Completed {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("communesync-run-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outPath = scratch.appendingPathComponent("out").path
        let errPath = scratch.appendingPathComponent("err").path
        let inPath = scratch.appendingPathComponent("in").path
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        _ = FileManager.default.createFile(atPath: inPath, contents: input ?? Data())
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let stdin = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        defer { try? out.close(); try? err.close(); try? stdin.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        process.standardOutput = out
        process.standardError = separateErrors ? err : out
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        var ending = Ending(pid: process.processIdentifier, exited: exited) { process.terminationStatus }
        if !ending.wait(until: Date().addingTimeInterval(timeout)) {
            kill(process.processIdentifier, SIGKILL)
            _ = ending.wait(until: Date().addingTimeInterval(30))
            let printed = String(decoding: (FileManager.default.contents(atPath: outPath) ?? Data()).suffix(4000), as: UTF8.self)
            let command = ([executable] + arguments).joined(separator: " ")
            FileHandle.standardError.write(Data("TIMED OUT after \(Int(timeout)) s, killed: \(command)\n".utf8))
            throw ClusterError("\(command) did not finish within \(Int(timeout)) s and was killed; it printed:\n\(printed)")
        }
        return Completed(
            status: ending.status,
            output: String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self),
            errors: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self))
    }

    /// Waiting for a child to end without trusting Foundation alone to notice: on Linux it
    /// learns of an exit from SIGCHLD, and a signal it misses (two children ending at once
    /// under load) left a test waiting for ever on a child long gone (a zombie). The child's
    /// state is also read directly, without reaping it (`waitid` with `WNOWAIT`); one that
    /// ended and that Foundation still has not noticed two seconds later is reaped here.
    public struct Ending {
        let pid: pid_t
        /// Signalled by Foundation's termination handler.
        let exited: DispatchSemaphore
        /// The exit status as Foundation kept it.
        let noticedStatus: () -> Int32
        private var reaped: Int32?
        private var noticed = false

        public init(pid: pid_t, exited: DispatchSemaphore, noticedStatus: @escaping () -> Int32) {
            self.pid = pid
            self.exited = exited
            self.noticedStatus = noticedStatus
        }

        /// Whether the child ended by `deadline`.
        public mutating func wait(until deadline: Date) -> Bool {
            if noticed || reaped != nil { return true }
            while Date() < deadline {
                if exited.wait(timeout: .now() + 0.05) == .success {
                    noticed = true
                    return true
                }
                guard Programs.hasEnded(pid) else { continue }
                if exited.wait(timeout: .now() + 2) == .success {
                    noticed = true
                    return true
                }
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    // Exited: its code; killed by a signal: 128 + the signal, as a shell says.
                    reaped = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                    return true
                }
                // Reaped by Foundation meanwhile: its handler follows.
                if exited.wait(timeout: .now() + 2) == .success {
                    noticed = true
                    return true
                }
                reaped = -1
                return true
            }
            return false
        }

        public var status: Int32 { reaped ?? noticedStatus() }
    }

    /// Whether child `pid` has ended (waiting to be reaped, or reaped already), read without
    /// reaping it.
    public static func hasEnded(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        if waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == -1 { return errno == ECHILD }
        return info._sifields._sigchld.si_pid == pid
    }

    /// Waits up to `timeout` for `process` to end; false when it had to be killed (SIGKILL).
    /// For stopping daemons: one that ignores SIGTERM fails its test instead of stalling the run.
    @discardableResult
    public static func finish(_ process: Process, within timeout: Double = 30) -> Bool {
        let ended = waitForEnd(process, until: Date().addingTimeInterval(timeout))
        guard !ended else { return true }
        FileHandle.standardError.write(Data("process \(process.processIdentifier) (\(process.executableURL?.lastPathComponent ?? "?")) did not end within \(Int(timeout)) s: killed\n".utf8))
        kill(process.processIdentifier, SIGKILL)
        _ = waitForEnd(process, until: Date().addingTimeInterval(30))
        return false
    }

    /// Waits until Foundation sees `process` ended (so that its status can be read), or until
    /// `deadline`. A child that has ended but that Foundation still shows running five seconds
    /// later (a missed SIGCHLD, see `Ending`) counts as ended, with a line saying so: the test
    /// goes on instead of waiting for ever.
    private static func waitForEnd(_ process: Process, until deadline: Date) -> Bool {
        var endedAt: Date?
        while process.isRunning && Date() < deadline {
            if endedAt == nil, hasEnded(process.processIdentifier) { endedAt = Date() }
            if let endedAt, Date().timeIntervalSince(endedAt) > 5 {
                FileHandle.standardError.write(Data("process \(process.processIdentifier) ended but Foundation did not notice: going on\n".utf8))
                return true
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return !process.isRunning || endedAt != nil
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
    let run = try Programs.execute("/usr/bin/env", ["python3", "-c", """
        import sys, urllib.request, urllib.error
        try:
            r = urllib.request.urlopen(sys.argv[1], timeout=10); print(r.status); sys.stdout.write(r.read().decode())
        except urllib.error.HTTPError as e:
            print(e.code); sys.stdout.write(e.read().decode())
        """, url], separateErrors: true, timeout: 60)
    let text = run.output
    guard let newline = text.firstIndex(of: "\n"), let status = Int(text[..<newline]) else {
        throw ClusterError("GET \(url) failed: \(text)\(run.errors)")
    }
    return (status, String(text[text.index(after: newline)...]))
}
