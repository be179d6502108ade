/// The name of one replica: the official commune code for a commune office (e.g. `22499`),
/// the district code for the district hub (e.g. `200`).
///
/// Replica ids appear inside stored and transmitted version vectors, so they are restricted
/// to letters, digits, `-`, `_` and `.`; the separators of the text encoding never occur.
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Returns nil when `rawValue` is empty, longer than 64 characters, or holds a character
    /// outside letters, digits, `-`, `_` and `.`.
    public init?(rawValue: String) {
        guard !rawValue.isEmpty, rawValue.utf8.count <= 64,
            rawValue.utf8.allSatisfy(ReplicaID.isAllowed)
        else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static func < (lhs: ReplicaID, rhs: ReplicaID) -> Bool { lhs.rawValue < rhs.rawValue }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
            UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }
}

extension ReplicaID: ExpressibleByStringLiteral {
    /// For literals in code and tests; traps on an invalid id, as a literal is a programmer's choice.
    public init(stringLiteral value: String) {
        guard let id = ReplicaID(rawValue: value) else { preconditionFailure("invalid replica id literal \(value)") }
        self = id
    }
}
