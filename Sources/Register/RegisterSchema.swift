import Foundation

/// The one description of the register: tables, columns and what each holds. The SQL tables,
/// the capture triggers and `Config/schema.sql` are all generated from it.
public struct RegisterSchema: Sendable {
    /// Raised whenever a table or column is added; replicas record the version they hold and
    /// `Replica.open` upgrades older files in place.
    public let version: Int
    public let tables: [TableSchema]

    public init(version: Int, tables: [TableSchema]) {
        self.version = version
        self.tables = tables
    }

    public func table(named name: String) -> TableSchema? {
        tables.first { $0.name == name }
    }

    /// The register as it was at `version`: the tables and columns it had then. Columns are
    /// only ever appended, so an older schema is a prefix of every table (and a subset of the
    /// tables) of a newer one.
    public func asOf(version older: Int) -> RegisterSchema {
        precondition((1...version).contains(older), "register schema \(older) is not between 1 and \(version)")
        return RegisterSchema(version: older, tables: tables.filter { $0.since <= older }.map { table in
            TableSchema(name: table.name, summary: table.summary, owner: table.owner, columns: table.columns.filter { $0.since <= older },
                        since: table.since)
        })
    }

    /// The environment variable that makes a program speak an earlier register schema than
    /// its release's, to rehearse an upgrade (an office or hub process as the previous release
    /// had it, on a file the previous release made). Unset in production.
    public static let rehearsalVariable = "COMMUNESYNC_REGISTER_SCHEMA"

    /// The register this process speaks: `latest`, or the earlier version named by
    /// `COMMUNESYNC_REGISTER_SCHEMA`.
    public static let current: RegisterSchema = {
        guard let text = ProcessInfo.processInfo.environment[rehearsalVariable], !text.isEmpty else { return latest }
        guard let version = Int(text), (1...latest.version).contains(version) else {
            fatalError("\(rehearsalVariable) must be a register schema version from 1 to \(latest.version), not '\(text)'; unset it to speak this release's")
        }
        return latest.asOf(version: version)
    }()
}

/// Who may write a table.
public enum TableOwner: String, Sendable {
    /// Reference data: only the district hub writes it; commune replicas refuse local writes.
    case district
    /// Register data: commune offices and the district both write it.
    case shared
}

public struct TableSchema: Sendable {
    public let name: String
    public let summary: String
    public let owner: TableOwner
    /// Every column except the primary key `id`, in table order.
    public let columns: [ColumnSchema]
    /// The register schema version that added the table.
    public let since: Int

    public init(name: String, summary: String, owner: TableOwner, columns: [ColumnSchema], since: Int = 1) {
        self.name = name
        self.summary = summary
        self.owner = owner
        self.columns = columns
        self.since = since
    }

    /// The text primary key every register table has, minted where the row is created.
    public static let primaryKey = "id"
}

public enum ColumnType: String, Sendable {
    case text = "TEXT"
    case integer = "INTEGER"
    case real = "REAL"
}

public struct ColumnSchema: Sendable {
    public let name: String
    public let type: ColumnType
    public let summary: String
    /// The register schema version that added the column (columns are only ever appended).
    public let since: Int

    public init(_ name: String, _ type: ColumnType, _ summary: String, since: Int = 1) {
        self.name = name
        self.type = type
        self.summary = summary
        self.since = since
    }
}
