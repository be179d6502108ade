/// One captured change to the register: a write of one column of one row, or the delete of
/// a row, with its causality.
///
/// `context` is the row's version vector as the writer saw it when it made the change, so a
/// change supersedes exactly the writes its author had seen.
public struct Change: Hashable, Sendable {
    public enum Operation: Hashable, Sendable {
        /// Write `value` into `column`.
        case set(column: String, value: Value)
        /// Delete the row (a tombstone).
        case delete
    }

    public let table: String
    /// The row's primary key (a text id minted at the origin).
    public let row: String
    public let operation: Operation
    public let dot: Dot
    public let context: VersionVector
    public let timestamp: HybridTimestamp

    public init(
        table: String, row: String, operation: Operation, dot: Dot, context: VersionVector,
        timestamp: HybridTimestamp
    ) {
        self.table = table
        self.row = row
        self.operation = operation
        self.dot = dot
        self.context = context
        self.timestamp = timestamp
    }

    /// The column written, nil for a delete.
    public var column: String? {
        if case .set(let column, _) = operation { return column }
        return nil
    }
}
