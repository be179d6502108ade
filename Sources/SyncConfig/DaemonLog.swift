import Foundation
import Logging

/// How syncd and synchub write their log: one line per event on standard error. Under
/// systemd (journald is reading standard error: `JOURNAL_STREAM` names that very file) each
/// line starts with its syslog priority (`<4>` for a warning, as sd-daemon(3) describes) and
/// carries no timestamp of its own, so `journalctl -p warning -u syncd` picks out what went
/// wrong; elsewhere each line starts with an ISO 8601 time and the level's name.
public struct DaemonLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let journal: Bool
    let write: @Sendable (String) -> Void

    public init(label: String, level: Logger.Level, journal: Bool = DaemonLogHandler.stderrGoesToJournal(),
                write: @escaping @Sendable (String) -> Void = DaemonLogHandler.writeToStandardError) {
        self.label = label
        self.logLevel = level
        self.journal = journal
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadataProvider?.get() ?? [:]
        all.merge(metadata) { $1 }
        all.merge(event.metadata ?? [:]) { $1 }
        write(line(level: event.level, message: event.message.description, metadata: all, source: event.source, at: Date()))
    }

    /// One event as written: `<P>label: key=value ... [source] message` under journald,
    /// `TIME level label: key=value ... [source] message` otherwise.
    public func line(level: Logger.Level, message: String, metadata: Logger.Metadata, source: String, at time: Date) -> String {
        let fields = metadata.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        let body = "\(label):\(fields) [\(source)] \(message)"
        return journal ? "<\(Self.priority(level))>\(body)\n" : "\(Self.timestamp(time)) \(level) \(body)\n"
    }

    /// `time` as ISO 8601 UTC to the second (`2026-12-03T07:20:43Z`), made with the C library:
    /// a hub logs a line per push, and Foundation's formatter costs several times more.
    static func timestamp(_ time: Date) -> String {
        var seconds = time_t(time.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = [CChar](repeating: 0, count: 24)
        let length = strftime(&text, text.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: text.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The syslog priority journald files a level under.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// Whether standard error is the stream journald reads: `JOURNAL_STREAM` is `DEVICE:INODE`
    /// of it (a child whose standard error was redirected inherits the variable, so the file
    /// itself is compared).
    public static func stderrGoesToJournal(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(STDERR_FILENO, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    @Sendable public static func writeToStandardError(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { if errno == EINTR { continue } else { return } }
                offset += written
            }
        }
    }
}

/// The `log_level` setting of commune.toml and hub.toml.
public enum LogLevelSetting {
    public static let names = Logger.Level.allCases.map(\.rawValue)

    static func decode<Key: CodingKey>(_ keys: KeyedDecodingContainer<Key>, _ key: Key) throws -> Logger.Level {
        guard let text = try keys.decodeIfPresent(String.self, forKey: key) else { return .info }
        guard let level = Logger.Level(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: keys.codingPath + [key], debugDescription: "must be one of \(names.joined(separator: ", ")), not '\(text)'"))
        }
        return level
    }
}
