import Foundation
import MergeEngine
import Register
import SyncCore

/// A summary of the merge state of every row in a scope, to compare two replicas by content
/// rather than by counters (anti-entropy): equal digests mean equal row states, whatever the
/// counters and checkpoints say.
///
/// Rows fall into `bucketCount` buckets per table by a hash of their id; a bucket's digest is
/// the wrapping sum of its rows' hashes, so it does not depend on the order rows are read in,
/// and two replicas that differ in one row differ in exactly that row's bucket. The hash is
/// FNV-1a (64 bits) of a canonical text of the row state: it finds accidents (a lost or
/// misapplied change), it is not a defence against forgery.
public struct ScopeDigest: Sendable, Equatable {
    public static let bucketCount = 64

    public struct Table: Sendable, Equatable {
        public var rows = 0
        public var buckets = [UInt64](repeating: 0, count: ScopeDigest.bucketCount)

        public init() {}

        public init(rows: Int, buckets: [UInt64]) {
            self.rows = rows
            self.buckets = buckets
        }
    }

    /// By table name; every table of the schema is present (empty ones too).
    public var tables: [String: Table]

    public init(tables: [String: Table]) { self.tables = tables }

    /// The bucket a row falls into.
    public static func bucket(table: String, row: String) -> Int {
        var hash = FNV1a()
        hash.add(table)
        hash.add(row)
        return Int(hash.value % UInt64(bucketCount))
    }

    /// The hash of one row's merge state.
    public static func hash(table: String, row: String, state: RowState) -> UInt64 {
        var hash = FNV1a()
        hash.add(table)
        hash.add(row)
        hash.add(state.clock.description)
        hash.add(state.deletes.description)
        for column in state.fields.keys.sorted() {
            let field = state.fields[column]!
            hash.add(column)
            hash.add(field.seen.description)
            for write in field.writes {
                hash.add(write.dot.description)
                hash.add(String(write.timestamp.rawValue))
                switch write.value {
                case .null: hash.add("n")
                case .integer(let value): hash.add("i\(value)")
                case .real(let value): hash.add("r\(value.bitPattern)")
                case .text(let value): hash.add("t\(value)")
                }
            }
        }
        return hash.value
    }

    /// Buckets whose digests differ between `self` and `other`, by table.
    public func differences(from other: ScopeDigest) -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for table in Set(tables.keys).union(other.tables.keys) {
            let mine = tables[table] ?? Table()
            let theirs = other.tables[table] ?? Table()
            let buckets = (0..<Self.bucketCount).filter { mine.buckets[$0] != theirs.buckets[$0] }
            if !buckets.isEmpty { result[table] = buckets }
        }
        return result
    }
}

/// FNV-1a, 64 bits, over UTF-8 with a separator after each piece.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        for byte in text.utf8 { mix(byte) }
        mix(0)
    }

    private mutating func mix(_ byte: UInt8) {
        value ^= UInt64(byte)
        value = value &* 0x0000_0100_0000_01b3
    }
}
