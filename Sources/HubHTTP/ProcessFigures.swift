import Foundation

/// The hub process's own figures, read from `/proc/self` at each scrape and written under
/// the names every Prometheus client library uses (`process_...`), so the usual dashboards
/// and alerts for "a server is leaking memory or file descriptors" work unchanged.
///
/// Linux only: elsewhere, or when `/proc` cannot be read, nothing is written rather than a
/// made-up zero.
struct ProcessFigures: Sendable {
    var residentBytes: Double
    var virtualBytes: Double
    var cpuSeconds: Double
    var startTimeSeconds: Double
    var openFiles: Int
    var maxOpenFiles: Int?

    /// The figures now, or nil when `/proc/self/stat` or the boot time cannot be read.
    static func read(procRoot: String = "/proc") -> ProcessFigures? {
        guard let stat = try? String(contentsOfFile: procRoot + "/self/stat", encoding: .utf8),
              let system = try? String(contentsOfFile: procRoot + "/stat", encoding: .utf8),
              let bootLine = system.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let bootTime = Double(bootLine.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces)),
              let openFiles = try? FileManager.default.contentsOfDirectory(atPath: procRoot + "/self/fd").count
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        guard let figures = ProcessStat(stat), ticks > 0, pageSize > 0 else { return nil }
        var files = rlimit()
        let limit = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &files) == 0 && files.rlim_cur < rlim_t(Int.max) ? Int(files.rlim_cur) : nil
        return ProcessFigures(
            residentBytes: figures.residentPages * pageSize,
            virtualBytes: figures.virtualBytes,
            cpuSeconds: (figures.userTicks + figures.systemTicks) / ticks,
            startTimeSeconds: bootTime + figures.startTicks / ticks,
            // Reading the directory held one descriptor open for itself.
            openFiles: max(0, openFiles - 1),
            maxOpenFiles: limit)
    }

    /// The text format of these figures.
    var exposition: String {
        var text = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: Double) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        family("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.", cpuSeconds)
        family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", residentBytes)
        family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", virtualBytes)
        family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.", startTimeSeconds)
        family("process_open_fds", "gauge", "Open file descriptors.", Double(openFiles))
        if let maxOpenFiles {
            family("process_max_fds", "gauge", "The open-file limit (soft).", Double(maxOpenFiles))
        }
        return text
    }
}

/// The fields of `/proc/self/stat` the figures use (proc(5)). The command name, field 2, is
/// in parentheses and may hold spaces and parentheses itself, so the fields are counted
/// from the last `)`.
struct ProcessStat: Equatable {
    var userTicks: Double
    var systemTicks: Double
    var startTicks: Double
    var virtualBytes: Double
    var residentPages: Double

    init?(_ line: String) {
        guard let end = line.lastIndex(of: ")") else { return nil }
        // After the name: field 3 (state) is at index 0, so field N is at index N - 3.
        let fields = line[line.index(after: end)...].split(separator: " ", omittingEmptySubsequences: true)
        func field(_ number: Int) -> Double? { number - 3 < fields.count ? Double(fields[number - 3]) : nil }
        guard let user = field(14), let system = field(15), let start = field(22), let virtual = field(23), let resident = field(24)
        else { return nil }
        userTicks = user
        systemTicks = system
        startTicks = start
        virtualBytes = virtual
        residentPages = resident
    }
}
