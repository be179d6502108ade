import Foundation

/// Debian's Chromium, headless, for tests that look at pages as a person's browser does.
public enum Chromium {
    public static let executable = "/usr/bin/chromium"

    static func run(_ arguments: [String]) throws -> String {
        let result = try Programs.runSystem(executable, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                         "--no-first-run", "--user-data-dir=\(NSTemporaryDirectory())chromium-\(getpid())"] + arguments)
        guard result.status == 0 else { throw ClusterError("chromium failed (\(result.status)): \(result.output.suffix(500))") }
        return result.output
    }

    /// The DOM after the page (and any navigation it starts) settled.
    public static func dom(_ url: String) throws -> String {
        try run(["--virtual-time-budget=10000", "--dump-dom", url])
    }

    public static func screenshot(_ url: String, to path: String) throws {
        _ = try run(["--window-size=1280,1100", "--screenshot=\(path)", url])
    }
}
