import SyncCore

/// Changes as they cross the wire: consecutive changes of one row written together (same
/// origin, stamp and context) travel as one group, so the row, origin, stamp and context are
/// sent once. The context travels compact (`CompactContext`): without the origin's own entry.
///
/// JSON: `{"t": table, "r": row, "o": origin, "h": hlc, "x": "context", "w": [[counter, column, value], [counter]]}`
/// where `[counter]` alone is a delete.
public struct ChangeGroup: Codable, Sendable, Equatable {
    public let t: String
    public let r: String
    public let o: String
    public let h: UInt64
    public let x: String
    public let w: [Write]

    public init(t: String, r: String, o: String, h: UInt64, x: String, w: [Write]) {
        self.t = t
        self.r = r
        self.o = o
        self.h = h
        self.x = x
        self.w = w
    }

    public struct Write: Codable, Sendable, Equatable {
        public let counter: UInt64
        /// nil for a delete.
        public let column: String?
        public let value: Value

        public init(counter: UInt64, column: String?, value: Value) {
            self.counter = counter
            self.column = column
            self.value = value
        }

        public init(from decoder: any Decoder) throws {
            var items = try decoder.unkeyedContainer()
            counter = try items.decode(UInt64.self)
            if items.isAtEnd {
                column = nil
                value = .null
            } else {
                column = try items.decode(String.self)
                value = try items.decode(Value.self)
                // A fourth element would be dropped unread: refuse it rather than guess.
                guard items.isAtEnd else {
                    throw DecodingError.dataCorrupted(.init(
                        codingPath: items.codingPath, debugDescription: "a write is [counter] or [counter, column, value], not longer"))
                }
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var items = encoder.unkeyedContainer()
            try items.encode(counter)
            if let column {
                try items.encode(column)
                try items.encode(value)
            }
        }
    }

    /// Groups changes, keeping their order.
    public static func group(_ changes: [Change]) -> [ChangeGroup] {
        var groups: [ChangeGroup] = []
        var pending: [Write] = []
        var head: Change?
        var headContext = ""
        func flush() {
            guard let head else { return }
            groups.append(ChangeGroup(
                t: head.table, r: head.row, o: head.dot.replica.rawValue, h: head.timestamp.rawValue, x: headContext, w: pending))
            pending = []
        }
        for change in changes {
            let context = change.compactContext.text
            if let current = head, current.table == change.table, current.row == change.row,
                current.dot.replica == change.dot.replica, current.timestamp == change.timestamp, headContext == context
            {
            } else {
                flush()
                head = change
                headContext = context
            }
            switch change.operation {
            case .set(let column, let value): pending.append(Write(counter: change.dot.counter, column: column, value: value))
            case .delete: pending.append(Write(counter: change.dot.counter, column: nil, value: .null))
            }
        }
        flush()
        return groups
    }

    /// The changes of this group; nil if the origin or the context is malformed.
    public func changes() -> [Change]? {
        guard let origin = ReplicaID(rawValue: o), let context = CompactContext(text: x) else { return nil }
        return w.map { write in
            let dot = Dot(replica: origin, counter: write.counter)
            return Change(
                table: t, row: r,
                operation: write.column.map { .set(column: $0, value: write.value) } ?? .delete,
                dot: dot, context: context.context(of: dot), timestamp: HybridTimestamp(rawValue: h))
        }
    }
}
