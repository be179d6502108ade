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

    public init(name: String, summary: String, owner: TableOwner, columns: [ColumnSchema]) {
        self.name = name
        self.summary = summary
        self.owner = owner
        self.columns = columns
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

    public init(_ name: String, _ type: ColumnType, _ summary: String) {
        self.name = name
        self.type = type
        self.summary = summary
    }
}
