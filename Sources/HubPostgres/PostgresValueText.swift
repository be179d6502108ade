import HubCore
import SyncCore

/// How a register value (`Value`: NULL, integer, real or text) crosses into PostgreSQL and
/// back unchanged, whatever column holds it: as text tagged with its kind (`n`, `i42`,
/// `r0.5`, `tAn`). Merge state, feed and log keep values this way, so a value comes back
/// exactly as it was sent (a real stays a real, the digest hashes stay equal to SQLite's);
/// typed register columns convert with `_sync_untag_*` (`PostgresRegisterSQL`) on the way in
/// and `PostgresRegisterSQL.tagged` on the way out.
enum PostgresValueText {
    static func tag(_ value: Value) -> String {
        switch value {
        case .null: return "n"
        case .integer(let integer): return "i\(integer)"
        case .real(let real): return "r\(real)"
        case .text(let text): return "t\(text)"
        }
    }

    /// The value of a tagged text; nil when the text is not one (a damaged row).
    static func value(_ tagged: String) -> Value? {
        guard let kind = tagged.first else { return nil }
        let rest = String(tagged.dropFirst())
        switch kind {
        case "n": return .null
        case "i": return Int64(rest).map(Value.integer)
        case "r": return Double(rest).map(Value.real) ?? Double(rest.lowercased()).map(Value.real)
        case "t": return .text(rest)
        default: return nil
        }
    }

    /// The tagged text of a nullable text (column names, scopes): `n` for none.
    static func tag(_ text: String?) -> String { text.map { "t\($0)" } ?? "n" }
}
