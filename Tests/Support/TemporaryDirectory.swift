import Foundation

/// A fresh directory under the system's temporary directory, removed when released.
public final class TemporaryDirectory: @unchecked Sendable {
    // @unchecked: the only stored property is an immutable URL.
    public let url: URL

    public init(_ label: String = "communesync") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Set COMMUNESYNC_KEEP_TEST_FILES=1 to keep the files (and logs) of a failing test.
    deinit {
        if ProcessInfo.processInfo.environment["COMMUNESYNC_KEEP_TEST_FILES"] == nil {
            try? FileManager.default.removeItem(at: url)
        }
    }
}
