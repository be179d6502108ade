import Foundation
import MergeEngine
import Register
import Replica
import SyncCore

/// Replica files in a temporary directory, for tests.
public final class ReplicaFixture: @unchecked Sendable {
    // @unchecked: immutable after init; each test uses its own fixture on one task.
    public let directory: TemporaryDirectory

    public init() throws { directory = try TemporaryDirectory("replica-test") }

    /// A new replica file named after its id.
    public func create(_ id: ReplicaID, role: ReplicaRole = .commune) throws -> Replica {
        try Replica.create(at: path(id), id: id, role: role)
    }

    public func path(_ id: ReplicaID) -> String { directory.path("\(id).db") }

    /// The register rows of a table as the sqlite3 shell prints them, ordered by id.
    public func rows(_ id: ReplicaID, _ table: String, _ columns: String = "*") throws -> String {
        try SQLiteShell.run(path(id), "SELECT \(columns) FROM \(table) ORDER BY id;")
    }
}
