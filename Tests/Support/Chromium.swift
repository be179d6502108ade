import Foundation

/// Debian's Chromium, headless, for tests that look at pages as a person's browser does.
public enum Chromium {
    public static let executable = "/usr/bin/chromium"

    /// Runs chromium and returns what it printed on standard output (its launcher script
    /// may complain on standard error about things that do not matter here).
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                             "--user-data-dir=\(NSTemporaryDirectory())chromium-\(getpid())"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let complaints = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ClusterError("chromium failed (\(process.terminationStatus)): \(String(decoding: complaints, as: UTF8.self).suffix(500))")
        }
        return String(decoding: printed, as: UTF8.self)
    }

    /// The DOM after the page (and any navigation it starts) settled.
    public static func dom(_ url: String) throws -> String {
        try run(["--virtual-time-budget=10000", "--dump-dom", url])
    }

    public static func screenshot(_ url: String, to path: String) throws {
        _ = try run(["--window-size=1280,1100", "--screenshot=\(path)", url])
    }
}
