import ArgumentParser
import Foundation
import SyncCore
#if canImport(Glibc)
import Glibc
#endif

/// An idle office: a syncd process (the one built next to this syncbench, as installed:
/// release) syncing every `--interval` seconds with a synchub on loopback, with nothing to
/// send. After `--warmup` seconds, its resident memory from /proc (anonymous: what it
/// allocated; file-backed: pages of its binary and libraries it touched) and its CPU time over
/// `--seconds`; beside it, in the same run, the same figures of a process that links only
/// libc (`sleep`), the floor of any process on this machine.
struct IdleBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Resident memory and CPU of an idle syncd, beside a process that links only libc.")

    @Option(help: "Seconds between syncd's rounds.")
    var interval = 5

    @Option(help: "Seconds before measuring (first rounds, first content check).")
    var warmup = 15

    @Option(help: "Seconds CPU time is measured over.")
    var seconds = 30

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncbench-idle-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let syncd = bin.appendingPathComponent("syncd")
        guard FileManager.default.isExecutableFile(atPath: syncd.path) else {
            throw ValidationError("\(syncd.path) is missing: build it first ('swift build -c release --product syncd')")
        }

        let benchStore = try await BenchStoreOptions.parse([]).open(in: directory)
        defer { benchStore.close() }
        let credential = try await benchStore.hubStore().issueCredential(for: "06913", scope: "unit-06913")
        let hub = try HubProcess(directory: directory, name: "hub", store: benchStore.settings)
        defer { hub.stop() }
        let credentialFile = directory.appendingPathComponent("06913.credential").path
        try credential.write(toFile: credentialFile, atomically: true, encoding: .utf8)
        chmod(credentialFile, 0o600)
        let config = directory.appendingPathComponent("06913.toml").path
        try """
        replica = "06913"
        database = "\(directory.appendingPathComponent("06913.db").path)"
        control_socket = "\(directory.appendingPathComponent("06913.sock").path)"
        [hub]
        url = "\(hub.url)"
        credential_file = "\(credentialFile)"
        [sync]
        interval_s = \(interval)
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let office = Process()
        office.executableURL = syncd
        office.arguments = ["--config", config]
        let log = directory.appendingPathComponent("syncd.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        office.standardError = try FileHandle(forWritingTo: log)
        office.standardOutput = office.standardError
        try office.run()
        defer { if office.isRunning { office.terminate(); office.waitUntilExit() } }
        let floor = Process()
        floor.executableURL = URL(fileURLWithPath: "/bin/sleep")
        floor.arguments = [String(warmup + seconds + 5)]
        try floor.run()
        defer { if floor.isRunning { floor.terminate(); floor.waitUntilExit() } }

        try await Task.sleep(for: .seconds(warmup))
        let before = (try Self.cpuSeconds(office.processIdentifier), ContinuousClock.now)
        try await Task.sleep(for: .seconds(seconds))
        guard office.isRunning else {
            print("syncd exited (status \(office.terminationStatus)); its log:")
            print((try? String(contentsOf: log, encoding: .utf8)) ?? "")
            throw ExitCode.failure
        }
        let cpu = try Self.cpuSeconds(office.processIdentifier) - before.0
        let wall = Double((ContinuousClock.now - before.1).components.seconds)
        let memory = try Self.memory(office.processIdentifier), baseline = try Self.memory(floor.processIdentifier)
        print("idle syncd (\(syncd.path)), a round every \(interval) s against synchub on loopback, measured \(seconds) s after \(warmup) s")
        print(String(format: "resident:        %6.1f MB   (libc-only process: %.1f MB; target <= 20 MB)", memory.total, baseline.total))
        print(String(format: "  anonymous:     %6.1f MB   (%.1f MB)", memory.anonymous, baseline.anonymous))
        print(String(format: "  file-backed:   %6.1f MB   (%.1f MB)", memory.file, baseline.file))
        for (path, megabytes) in memory.largestFiles.prefix(8) { print(String(format: "    %6.1f MB  %@", megabytes, path)) }
        print(String(format: "CPU:             %6.3f %%   (%.2f s of %.0f s)", cpu / wall * 100, cpu, wall))
        print(String(format: #"{"rss_mb": %.1f, "anon_mb": %.1f, "file_mb": %.1f, "floor_rss_mb": %.1f, "cpu_percent": %.3f}"#,
                     memory.total, memory.anonymous, memory.file, baseline.total, cpu / wall * 100))
    }

    struct Memory {
        var total = 0.0, anonymous = 0.0, file = 0.0
        var largestFiles: [(String, Double)] = []
    }

    /// Resident memory of process `pid` in MB, from /proc/PID/status and smaps.
    static func memory(_ pid: Int32) throws -> Memory {
        var memory = Memory()
        for line in try proc(pid, "status").split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kilobytes = Double(fields[1]) else { continue }
            switch fields[0] {
            case "VmRSS:": memory.total = kilobytes / 1024
            case "RssAnon:": memory.anonymous = kilobytes / 1024
            case "RssFile:": memory.file = kilobytes / 1024
            default: break
            }
        }
        var byFile: [String: Double] = [:]
        var mapping: String?
        for line in try proc(pid, "smaps").split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if let first = fields.first, first.contains("-"), fields.count >= 5 {
                mapping = fields.count >= 6 && fields[5].hasPrefix("/") ? String(fields[5]) : nil
            } else if fields.first == "Rss:", let path = mapping, fields.count >= 2, let kilobytes = Double(fields[1]) {
                byFile[path, default: 0] += kilobytes / 1024
            }
        }
        memory.largestFiles = byFile.sorted { $0.value > $1.value }
        return memory
    }

    /// A file of /proc/PID, read to its end (its size says 0, so reads that trust it stop short).
    static func proc(_ pid: Int32, _ name: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/\(name)") else {
            throw ValidationError("cannot read /proc/\(pid)/\(name): the process has gone")
        }
        defer { try? handle.close() }
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }

    /// User and system CPU seconds of process `pid`.
    static func cpuSeconds(_ pid: Int32) throws -> Double {
        guard let fields = statFields(pid) else { throw ValidationError("cannot read /proc/\(pid)/stat: the process has gone") }
        return (Double(fields[11])! + Double(fields[12])!) / clockTicks
    }

    /// The fields of /proc/PID/stat after the command name (which is in parentheses): [0] is
    /// field 3 (state), [1] the parent's pid, [11] and [12] utime and stime, [13] and [14] the
    /// same of children that have exited, in clock ticks. Nil when the process has gone.
    static func statFields(_ pid: Int32) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")"),
            case let fields = text[text.index(after: close)...].split(separator: " "), fields.count > 14
        else { return nil }
        return fields
    }

    static var clockTicks: Double { Double(sysconf(Int32(_SC_CLK_TCK))) }
}
