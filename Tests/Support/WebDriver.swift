import Foundation

/// Debian's headless Chromium driven through chromedriver (W3C WebDriver over HTTP), for tests
/// that use a page as a person does: type into its fields, press its buttons, keep its cookies.
public final class WebDriver: @unchecked Sendable {
    // @unchecked: used by one test at a time; the process and session are set once in init.
    public static let executable = "/usr/bin/chromedriver"
    private let process: Process
    private let base: String
    private var session = ""

    /// Starts chromedriver (its output to `log`) and a headless browser with a profile of its own.
    public init(log: String) throws {
        let port = try Self.freePort()
        base = "http://127.0.0.1:\(port)"
        process = try Programs.start(Self.executable, ["--port=\(port)"], log: log)
        guard eventually(timeout: 20, { (try? Self.call("GET", base + "/status", nil)) != nil }) else {
            throw ClusterError("chromedriver did not start; its log: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        let binary = FileManager.default.fileExists(atPath: "/usr/lib/chromium/chromium") ? "/usr/lib/chromium/chromium" : Chromium.executable
        let created = try Self.call("POST", base + "/session", ["capabilities": ["alwaysMatch": [
            "goog:chromeOptions": ["binary": binary, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(NSTemporaryDirectory())webdriver-\(getpid())-\(port)", "--window-size=1280,1100",
            ]],
        ] as [String: Any]]])
        guard let id = (created["value"] as? [String: Any])?["sessionId"] as? String else { throw ClusterError("chromedriver made no session: \(created)") }
        session = id
    }

    deinit {
        if !session.isEmpty { _ = try? Self.call("DELETE", base + "/session/\(session)", nil) }
        // SIGKILL: chromedriver started from the test runner does not stop on SIGTERM.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Programs.finish(process, within: 10)
        }
    }

    public func open(_ url: String) throws { _ = try command("POST", "/url", ["url": url]) }

    public var source: String { get throws { try command("GET", "/source", nil) as? String ?? "" } }
    public var url: String { get throws { try command("GET", "/url", nil) as? String ?? "" } }

    /// Types into the field that `selector` (CSS) finds.
    public func type(_ text: String, into selector: String) throws {
        try settled { _ = try command("POST", "/element/\(try element(selector))/value", ["text": text]) }
    }

    /// Clicks what `selector` finds. A button or link (anything but an `input[...]` box,
    /// unless `navigates` says otherwise) leads to another page: the click returns once the
    /// page clicked on is gone, so what is read next is the page it led to.
    public func click(_ selector: String, navigates: Bool? = nil) throws {
        let leaving = (navigates ?? !selector.hasPrefix("input[")) ? try element("html") : nil
        try settled { _ = try command("POST", "/element/\(try element(selector))/click", [:]) }
        guard let leaving else { return }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            do {
                _ = try command("GET", "/element/\(leaving)/name", nil)
            } catch let error as ClusterError where Self.isGone(error) {
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ClusterError("clicking \(selector) led to no other page within 15 s")
    }

    /// Whether chromedriver said the element belongs to a page no longer shown (it words it
    /// two ways, depending on where in the page's replacement the command landed).
    static func isGone(_ error: ClusterError) -> Bool {
        error.description.contains("stale element") || error.description.contains("does not belong to the document")
    }

    /// Runs `action` on an element found afresh, again (a few times) when the page was still
    /// being replaced by the one a click led to and the element found went stale with it.
    private func settled(_ action: () throws -> Void) throws {
        for attempt in 0..<10 {
            do {
                return try action()
            } catch let error as ClusterError where Self.isGone(error) && attempt < 9 {
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
    }

    /// The browser's cookies for the current page, as WebDriver reports them (name, value,
    /// httpOnly, secure, sameSite, expiry).
    public func cookies() throws -> [[String: Any]] { try command("GET", "/cookie", nil) as? [[String: Any]] ?? [] }

    public func screenshot(to path: String) throws {
        guard let encoded = try command("GET", "/screenshot", nil) as? String, let data = Data(base64Encoded: encoded) else {
            throw ClusterError("chromedriver returned no screenshot")
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    private func element(_ selector: String) throws -> String {
        let found = try command("POST", "/element", ["using": "css selector", "value": selector]) as? [String: Any]
        guard let id = found?.values.first as? String else { throw ClusterError("no element matches \(selector)") }
        return id
    }

    private func command(_ method: String, _ path: String, _ body: [String: Any]?) throws -> Any? {
        try Self.call(method, base + "/session/\(session)" + path, body)["value"] ?? nil
    }

    /// One WebDriver command, sent with curl(1): its JSON answer, or the error it names.
    @discardableResult
    private static func call(_ method: String, _ url: String, _ body: [String: Any]?) throws -> [String: Any] {
        var arguments = ["-sS", "--max-time", "60", "-X", method, "-H", "Content-Type: application/json"]
        if let body { arguments += ["--data-binary", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)] }
        let (status, output) = try Programs.runSystem("/usr/bin/curl", arguments + [url])
        guard status == 0, let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] else {
            throw ClusterError("chromedriver: no answer to \(method) \(url): \(output)")
        }
        if let value = object["value"] as? [String: Any], let error = value["error"] as? String {
            throw ClusterError("chromedriver: \(error): \(value["message"] ?? "")")
        }
        return object
    }

    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw ClusterError("no free port for chromedriver") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
