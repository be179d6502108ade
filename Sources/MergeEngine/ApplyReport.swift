import Register
import SyncCore

/// What one applied batch did.
public struct ApplyReport: Sendable, Equatable {
    /// Changes merged that were new to this replica.
    public var applied = 0
    /// Changes already known (re-sent, or superseded before they arrived).
    public var duplicates = 0
    /// New changes that met a concurrent write of the same field or row.
    public var concurrent = 0
    /// Register rows written or removed as a result.
    public var rowsMaterialised = 0

    public init() {}
}

/// A change this replica's register cannot hold.
public enum ApplyError: Error, CustomStringConvertible, Equatable {
    case unknownTable(String)
    case unknownColumn(table: String, column: String)

    public var description: String {
        switch self {
        case .unknownTable(let table):
            return "a change names table '\(table)', which this replica's schema does not have: "
                + "the sender runs another schema version; upgrade the older side"
        case .unknownColumn(let table, let column):
            return "a change names column '\(table).\(column)', which this replica's schema does not have: "
                + "the sender runs another schema version; upgrade the older side"
        }
    }
}
