import Foundation

/// What an office tells the hub about itself with each pull (header `X-CommuneSync-Office`,
/// base64 of this JSON): what waits to be sent, what the hub refused, its clock and disk, its
/// release and rules. The district reads them in `synchub offices`. The hub keeps only
/// bounded values (`bounded`) and ignores a header it cannot read: the facts never stop a pull.
public struct OfficeFacts: Codable, Sendable, Equatable {
    public static let header = "X-CommuneSync-Office"
    /// The most the hub reads of the header.
    public static let maxHeaderBytes = 2048

    /// The office's release (`Release.version`).
    public var version: String
    /// Changes not yet acknowledged by the hub, and the age of the oldest in seconds.
    public var unsent: Int
    public var oldestUnsentS: Int?
    /// Rows with a change the hub refused.
    public var refusedRows: Int
    /// The office's clock minus the hub's at the last pull, in seconds.
    public var clockOffsetS: Double?
    public var freeDiskBytes: Int64?
    public var rulesVersion: Int?
    /// Why the office's last round failed, if it did.
    public var lastError: String?
    /// The register schema the office keeps (absent from offices of releases before it was told).
    public var schema: Int?

    public init(version: String, unsent: Int, oldestUnsentS: Int?, refusedRows: Int, clockOffsetS: Double?, freeDiskBytes: Int64?,
                rulesVersion: Int?, lastError: String?, schema: Int? = nil) {
        self.version = version
        self.unsent = unsent
        self.oldestUnsentS = oldestUnsentS
        self.refusedRows = refusedRows
        self.clockOffsetS = clockOffsetS
        self.freeDiskBytes = freeDiskBytes
        self.rulesVersion = rulesVersion
        self.lastError = lastError
        self.schema = schema
    }

    /// The header's value.
    public var headerValue: String { (try? JSONEncoder().encode(self))?.base64EncodedString() ?? "" }

    /// The facts a header carries, with every number and text within bounds; nil when it is
    /// no such thing.
    public static func parse(_ header: String) -> OfficeFacts? {
        guard header.utf8.count <= maxHeaderBytes, let data = Data(base64Encoded: header),
            let facts = try? JSONDecoder().decode(OfficeFacts.self, from: data)
        else { return nil }
        return facts.bounded
    }

    /// The same facts with numbers clamped to what an office can have and texts cut short.
    public var bounded: OfficeFacts? {
        guard (0...1_000_000_000).contains(unsent), (0...1_000_000_000).contains(refusedRows) else { return nil }
        var facts = self
        facts.version = String(version.prefix(32))
        facts.oldestUnsentS = oldestUnsentS.map { min(max($0, 0), 100 * 365 * 86_400) }
        facts.clockOffsetS = clockOffsetS.flatMap { $0.isFinite ? min(max($0, -1e9), 1e9) : nil }
        facts.freeDiskBytes = freeDiskBytes.map { max($0, 0) }
        facts.rulesVersion = rulesVersion.map { min(max($0, 0), 1_000_000) }
        facts.lastError = lastError.map { String($0.prefix(300)) }
        facts.schema = schema.map { min(max($0, 0), 1_000_000) }
        return facts
    }
}
