import Foundation

/// Debian's Chromium, headless, for tests that look at pages as a person's browser does.
public enum Chromium {
    public static let executable = "/usr/bin/chromium"

    /// Runs chromium and returns what it printed on standard output (its launcher script
    /// may complain on standard error about things that do not matter here).
    static func run(_ arguments: [String]) throws -> String {
        let run = try Programs.execute(executable, [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(NSTemporaryDirectory())chromium-\(getpid())",
        ] + arguments, separateErrors: true, timeout: 180)
        guard run.status == 0 else {
            throw ClusterError("chromium failed (\(run.status)): \(run.errors.suffix(500))")
        }
        return run.output
    }

    /// The DOM after the page (and any navigation it starts) settled.
    public static func dom(_ url: String) throws -> String {
        try run(["--virtual-time-budget=10000", "--dump-dom", url])
    }

    public static func screenshot(_ url: String, to path: String) throws {
        _ = try run(["--window-size=1280,1100", "--screenshot=\(path)", url])
    }
}
