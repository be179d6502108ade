/// A field value as SQLite stores it. Register columns hold no blobs.
public enum Value: Hashable, Sendable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .integer(let value): return String(value)
        case .real(let value): return String(value)
        case .text(let value): return value
        }
    }
}

extension Value {
    /// The integer, or nil for any other kind.
    public var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The text, or nil for any other kind.
    public var textValue: String? {
        if case .text(let value) = self { return value }
        return nil
    }
}
