import MergeEngine
import Register

/// A row the district moved from one commune to another: a merger or split of units, or a
/// person rotated to another commune (with their assignments, evaluations and trainings).
/// The feed publishes every change under the row's scope as it stands after the change, so
/// without a record of the move the office left behind would keep a copy it no longer owns,
/// and the office reached would receive only the changes made after the move.
public struct RowMove: Sendable, Equatable, Hashable {
    public let table: String
    public let row: String
    /// The commune (units.id) the row was published to before; the office leaving it drops it.
    public let from: String
    /// The commune it is published to now ("" when no commune keeps it any more).
    public let to: String

    public init(table: String, row: String, from: String, to: String) {
        self.table = table
        self.row = row
        self.from = from
        self.to = to
    }

    public var key: RowKey { RowKey(table: table, row: row) }
}
