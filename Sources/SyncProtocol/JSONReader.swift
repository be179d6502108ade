import Foundation
import SyncCore

/// Reads JSON text (RFC 8259) straight into the wire types the hub reads most: an office's
/// push. Foundation's decoder builds a tree of boxed values first and then walks it through
/// keyed containers; this reads once, left to right, and builds only the result.
///
/// Strict, because the text comes from outside: nesting is bounded, a string must be valid
/// UTF-8 with valid escapes (a lone surrogate is refused), numbers must be integers in range
/// where integers are expected, and anything after the value but whitespace is refused.
/// Keys it does not know are passed over whole (a newer sender's additions), as Foundation's
/// decoder passes over them. `WireJSONTests` holds it to Foundation's decoder: what this
/// accepts, Foundation reads the same.
public struct JSONReader {
    public struct Malformed: Error, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "\(reason) at byte \(offset)" }
    }

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0
    /// Deeper than any message of the protocol nests, by far.
    static let maxDepth = 64

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    // MARK: Tokens

    private func fail(_ reason: String) -> Malformed { Malformed(offset: index, reason: reason) }

    /// What a reader of a wire type says when a value is not what its type needs.
    public func malformed(_ reason: String) -> Malformed { fail(reason) }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// The first byte of the value next, not taken.
    public mutating func next() throws(Malformed) -> UInt8 { try peek() }

    private mutating func peek() throws(Malformed) -> UInt8 {
        skipSpace()
        guard index < bytes.count else { throw fail("unexpected end of the text") }
        return bytes[index]
    }

    private mutating func expect(_ byte: UInt8) throws(Malformed) {
        guard try peek() == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
        index += 1
    }

    mutating func literal(_ word: StaticString) throws(Malformed) {
        let expected = word.withUTF8Buffer { Array($0) }
        guard bytes.count - index >= expected.count, Array(bytes[index..<index + expected.count]) == expected else {
            throw fail("expected \(word)")
        }
        index += expected.count
    }

    /// Whether the value next is `null` (and takes it).
    public mutating func takeNull() throws(Malformed) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    // MARK: Structure

    /// Reads an object, calling `field` with each key; `field` must read the key's value
    /// (`skip` for keys it does not know).
    public mutating func object(_ field: (inout JSONReader, String) throws(Malformed) -> Void) throws(Malformed) {
        try sequence(open: UInt8(ascii: "{"), close: UInt8(ascii: "}")) { (reader) throws(Malformed) in
            guard try reader.peek() == UInt8(ascii: "\"") else { throw reader.fail("expected a key") }
            let key = try reader.string()
            try reader.expect(UInt8(ascii: ":"))
            try field(&reader, key)
        }
    }

    /// Reads an array, calling `element` for each element, which must read it.
    public mutating func array(_ element: (inout JSONReader) throws(Malformed) -> Void) throws(Malformed) {
        try sequence(open: UInt8(ascii: "["), close: UInt8(ascii: "]"), element)
    }

    /// An array whose elements `element` reads.
    public mutating func list<T>(_ element: (inout JSONReader) throws(Malformed) -> T) throws(Malformed) -> [T] {
        var items: [T] = []
        try array { (reader) throws(Malformed) in items.append(try element(&reader)) }
        return items
    }

    /// An object's members or an array's elements between `open` and `close`, separated by
    /// commas, each read by `item`; one level deeper while it lasts.
    private mutating func sequence(open: UInt8, close: UInt8, _ item: (inout JSONReader) throws(Malformed) -> Void) throws(Malformed) {
        try expect(open)
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nested too deep") }
        if try peek() == close {
            index += 1
        } else {
            while true {
                try item(&self)
                let next = try peek()
                index += 1
                if next == close { break }
                guard next == UInt8(ascii: ",") else {
                    index -= 1
                    throw fail("expected ',' or '\(Character(Unicode.Scalar(close)))'")
                }
            }
        }
        depth -= 1
    }

    /// Whether the array being read (after `[` or an element) ends here, without taking it.
    public mutating func atArrayEnd() throws(Malformed) -> Bool { try peek() == UInt8(ascii: "]") }

    /// Passes over one value of any kind.
    public mutating func skip() throws(Malformed) {
        switch try peek() {
        case UInt8(ascii: "{"): try object { (reader, _) throws(Malformed) in try reader.skip() }
        case UInt8(ascii: "["): try array { (reader) throws(Malformed) in try reader.skip() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try number()
        }
    }

    /// The whole text was one value: only whitespace may follow.
    public mutating func end() throws(Malformed) {
        skipSpace()
        guard index == bytes.count else { throw fail("text after the value") }
    }

    // MARK: Scalars

    public mutating func bool() throws(Malformed) -> Bool {
        switch try peek() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        default: throw fail("expected true or false")
        }
    }

    /// The text of a JSON number, checked against the grammar.
    private mutating func number() throws(Malformed) -> (text: Substring, integral: Bool) {
        _ = try peek()
        let start = index
        func digits() -> Int {
            let first = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - first
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let leading = index
        let whole = digits()
        guard whole > 0, whole == 1 || bytes[leading] != UInt8(ascii: "0") else { throw fail("not a number") }
        var integral = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            integral = false
            guard digits() > 0 else { throw fail("not a number") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            integral = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw fail("not a number") }
        }
        return (Substring(decoding: bytes[start..<index], as: UTF8.self), integral)
    }

    public mutating func int64() throws(Malformed) -> Int64 {
        guard let value = try wholeNumber().flatMap({ Int64($0) }) else { throw fail("expected a whole number from \(Int64.min) to \(Int64.max)") }
        return value
    }

    public mutating func uint64() throws(Malformed) -> UInt64 {
        guard let value = try wholeNumber().flatMap({ UInt64($0) }) else { throw fail("expected a whole number from 0 to \(UInt64.max)") }
        return value
    }

    /// A number that is a whole number, as plain digits (with its sign): also when written
    /// with a fraction of zeros or an exponent (`5.0`, `5e2`, `1.5e1`), which JSON Schema and
    /// Foundation's decoder take as integers; worked out exactly, not through a Double. nil
    /// when it has a fraction or is far too large.
    private mutating func wholeNumber() throws(Malformed) -> Substring? {
        let (text, integral) = try number()
        if integral { return text }
        var sign = Substring(), rest = text
        if rest.hasPrefix("-") { sign = "-"; rest = rest.dropFirst() }
        let parts = rest.split(separator: "e", maxSplits: 1, omittingEmptySubsequences: false).flatMap { $0.split(separator: "E") }
        // An exponent beyond ±1000 makes no whole number of 64 bits (nor any overflow here).
        guard let mantissa = parts.first, let exponent = parts.count > 1 ? Int(parts[1]) : 0, (-1_000...1_000).contains(exponent),
            mantissa.count <= 1_000
        else { return nil }
        let pieces = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        var digits = String(pieces[0]) + (pieces.count > 1 ? String(pieces[1]) : "")
        let scale = exponent - (pieces.count > 1 ? pieces[1].count : 0)
        if scale >= 0 {
            guard digits.drop(while: { $0 == "0" }).count + scale <= 40 else { return nil }
            digits += String(repeating: "0", count: scale)
        } else {
            guard -scale <= digits.count, digits.suffix(-scale).allSatisfy({ $0 == "0" }) else { return nil }
            digits.removeLast(-scale)
        }
        let trimmed = digits.drop(while: { $0 == "0" })
        return Substring(sign + (trimmed.isEmpty ? "0" : trimmed))
    }

    public mutating func double() throws(Malformed) -> Double {
        let (text, _) = try number()
        guard let value = Double(text), value.isFinite else { throw fail("expected a finite number") }
        return value
    }

    public mutating func string() throws(Malformed) -> String {
        try expect(UInt8(ascii: "\""))
        var out: [UInt8] = []
        var start = index
        while true {
            guard index < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw fail("a control character in a string") }
            if byte != UInt8(ascii: "\\") { index += 1; continue }
            out.append(contentsOf: bytes[start..<index])
            index += 1
            guard index < bytes.count else { throw fail("unterminated string") }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw fail("a lone surrogate in a string")
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("a lone surrogate in a string") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw fail("a lone surrogate in a string")
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            default: throw fail("an unknown escape in a string")
            }
            start = index
        }
        out.append(contentsOf: bytes[start..<index])
        index += 1
        guard let text = String(validating: out, as: UTF8.self) else { throw fail("a string that is not UTF-8") }
        return text
    }

    private mutating func hex4() throws(Malformed) -> UInt32 {
        guard bytes.count - index >= 4 else { throw fail("a short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("a bad \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}

/// A wire type read with `JSONReader`.
public protocol WireJSONDecodable: Decodable {
    init(reading reader: inout JSONReader) throws(JSONReader.Malformed)
}

extension WireJSONDecodable {
    /// The value the whole of `bytes` holds.
    public init(wireJSON bytes: [UInt8]) throws(JSONReader.Malformed) {
        var reader = JSONReader(bytes)
        self = try Self(reading: &reader)
        try reader.end()
    }
}

extension Value {
    /// A value as `Value`'s Codable form writes it: null, a whole number, a string, or
    /// `{"real": x}`.
    public init(reading reader: inout JSONReader) throws(JSONReader.Malformed) {
        switch try reader.next() {
        case UInt8(ascii: "n"): try reader.literal("null"); self = .null; return
        case UInt8(ascii: "\""): self = .text(try reader.string()); return
        case UInt8(ascii: "{"): break
        default: self = .integer(try reader.int64()); return
        }
        var real: Double?
        try reader.object { (reader, key) throws(JSONReader.Malformed) in
            if key == "real" { real = try reader.double() } else { try reader.skip() }
        }
        guard let real else { throw reader.malformed("a value that is not null, a whole number, a string or {\"real\": x}") }
        self = .real(real)
    }
}

extension ChangeGroup.Write {
    public init(reading reader: inout JSONReader) throws(JSONReader.Malformed) {
        var counter: UInt64?
        var column: String?
        var value = Value.null
        var position = 0
        try reader.array { (reader) throws(JSONReader.Malformed) in
            switch position {
            case 0: counter = try reader.uint64()
            case 1: column = try reader.string()
            case 2: value = try Value(reading: &reader)
            default: throw reader.malformed("a write is [counter] or [counter, column, value], not longer")
            }
            position += 1
        }
        guard let counter, position == 1 || position == 3 else {
            throw reader.malformed("a write is [counter] or [counter, column, value]")
        }
        self.init(counter: counter, column: column, value: value)
    }
}

extension ChangeGroup {
    public init(reading reader: inout JSONReader) throws(JSONReader.Malformed) {
        var t, r, o, x: String?
        var h: UInt64?
        var w: [Write]?
        try reader.object { (reader, key) throws(JSONReader.Malformed) in
            switch key {
            case "t": t = try reader.string()
            case "r": r = try reader.string()
            case "o": o = try reader.string()
            case "x": x = try reader.string()
            case "h": h = try reader.uint64()
            case "w": w = try reader.list { (reader) throws(JSONReader.Malformed) in try Write(reading: &reader) }
            default: try reader.skip()
            }
        }
        guard let t, let r, let o, let x, let h, let w else {
            throw reader.malformed("a change group needs t, r, o, h, x and w")
        }
        self.init(t: t, r: r, o: o, h: h, x: x, w: w)
    }
}

extension PushRequest: WireJSONDecodable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Malformed) {
        var changes: [ChangeGroup]?
        var after: UInt64?
        try reader.object { (reader, key) throws(JSONReader.Malformed) in
            switch key {
            case "changes": changes = try reader.list { (reader) throws(JSONReader.Malformed) in try ChangeGroup(reading: &reader) }
            case "after": after = try reader.takeNull() ? nil : try reader.uint64()
            default: try reader.skip()
            }
        }
        guard let changes else { throw reader.malformed("a push needs its changes") }
        self.init(changes: changes, after: after)
    }
}

extension JSONReader {
    /// The text of the value next, taken whole: for a part read by Foundation's decoder (a
    /// small or rare part of a message read with this reader).
    public mutating func rawValue() throws(Malformed) -> [UInt8] {
        _ = try next()
        let start = index
        try skip()
        return Array(bytes[start..<index])
    }

    /// The value next, read by Foundation's decoder.
    public mutating func foundation<T: Decodable>(_ type: T.Type) throws(Malformed) -> T {
        let raw = try rawValue()
        do {
            return try JSONDecoder().decode(T.self, from: Data(raw))
        } catch {
            throw malformed("not a \(T.self): \(error)")
        }
    }
}

extension FieldWrite {
    public init(reading reader: inout JSONReader) throws(JSONReader.Malformed) {
        var dot: Dot?
        var hlc: UInt64?
        var value: Value?
        try reader.object { (reader, key) throws(JSONReader.Malformed) in
            switch key {
            case "dot":
                let text = try reader.string()
                guard let parsed = Dot(text: text) else { throw reader.malformed("not a dot: \(text)") }
                dot = parsed
            case "hlc": hlc = try reader.uint64()
            case "value": value = try Value(reading: &reader)
            default: try reader.skip()
            }
        }
        guard let dot, let hlc, let value else { throw reader.malformed("a write needs dot, hlc and value") }
        self.init(dot: dot, timestamp: HybridTimestamp(rawValue: hlc), value: value)
    }
}

extension FieldSnapshot {
    public init(reading reader: inout JSONReader) throws(JSONReader.Malformed) {
        var column, seen: String?
        var writes: [FieldWrite]?
        try reader.object { (reader, key) throws(JSONReader.Malformed) in
            switch key {
            case "column": column = try reader.string()
            case "seen": seen = try reader.string()
            case "writes": writes = try reader.list { (reader) throws(JSONReader.Malformed) in try FieldWrite(reading: &reader) }
            default: try reader.skip()
            }
        }
        guard let column, let seen, let writes else { throw reader.malformed("a field needs column, seen and writes") }
        self.init(column: column, seen: seen, writes: writes)
    }
}

extension RowSnapshot {
    public init(reading reader: inout JSONReader) throws(JSONReader.Malformed) {
        var table, row, clock, deletes: String?
        var fields: [FieldSnapshot]?
        try reader.object { (reader, key) throws(JSONReader.Malformed) in
            switch key {
            case "table": table = try reader.string()
            case "row": row = try reader.string()
            case "clock": clock = try reader.string()
            case "deletes": deletes = try reader.string()
            case "fields": fields = try reader.list { (reader) throws(JSONReader.Malformed) in try FieldSnapshot(reading: &reader) }
            default: try reader.skip()
            }
        }
        guard let table, let row, let clock, let deletes, let fields else {
            throw reader.malformed("a row needs table, row, clock, deletes and fields")
        }
        self.init(table: table, row: row, clock: clock, deletes: deletes, fields: fields)
    }
}

extension SnapshotPage: WireJSONDecodable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Malformed) {
        var rows: [RowSnapshot]?
        var checkpoint: Int64?
        var cursor: String?
        var acknowledged: UInt64?
        var previous: PreviousComputer?
        try reader.object { (reader, key) throws(JSONReader.Malformed) in
            switch key {
            case "rows": rows = try reader.list { (reader) throws(JSONReader.Malformed) in try RowSnapshot(reading: &reader) }
            case "checkpoint": checkpoint = try reader.int64()
            case "cursor": cursor = try reader.takeNull() ? nil : try reader.string()
            case "acknowledged": acknowledged = try reader.uint64()
            case "previous": previous = try reader.takeNull() ? nil : try reader.foundation(PreviousComputer.self)
            default: try reader.skip()
            }
        }
        guard let rows, let checkpoint, let acknowledged else { throw reader.malformed("a snapshot page needs rows, checkpoint and acknowledged") }
        self.init(rows: rows, checkpoint: checkpoint, cursor: cursor, acknowledged: acknowledged, previous: previous)
    }
}

extension RowsResponse: WireJSONDecodable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Malformed) {
        var rows: [RowSnapshot]?
        try reader.object { (reader, key) throws(JSONReader.Malformed) in
            if key == "rows" { rows = try reader.list { (reader) throws(JSONReader.Malformed) in try RowSnapshot(reading: &reader) } } else { try reader.skip() }
        }
        guard let rows else { throw reader.malformed("rows are missing") }
        self.init(rows: rows)
    }
}

extension PullResponse: WireJSONDecodable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Malformed) {
        var changes: [ChangeGroup]?
        var next: Int64?
        var more: Bool?
        var acknowledged: UInt64?
        var hub: String?
        var time: Int64?
        var rulesVersion: Int?
        var rules: RuleSet?
        var arrived, departed: [RowRef]?
        var incarnation: UInt64?
        var seals: [String: String]?
        var decisions: [DecisionView]?
        var decidedThrough: Int64?
        var schema, officeLogDays: Int?
        try reader.object { (reader, key) throws(JSONReader.Malformed) in
            if try reader.takeNull() { return }
            switch key {
            case "changes": changes = try reader.list { (reader) throws(JSONReader.Malformed) in try ChangeGroup(reading: &reader) }
            case "next": next = try reader.int64()
            case "more": more = try reader.bool()
            case "acknowledged": acknowledged = try reader.uint64()
            case "hub": hub = try reader.string()
            case "time": time = try reader.int64()
            case "rulesVersion": rulesVersion = Int(try reader.int64())
            case "rules": rules = try reader.foundation(RuleSet.self)
            case "arrived": arrived = try reader.foundation([RowRef].self)
            case "departed": departed = try reader.foundation([RowRef].self)
            case "incarnation": incarnation = try reader.uint64()
            case "seals": seals = try reader.foundation([String: String].self)
            case "decisions": decisions = try reader.foundation([DecisionView].self)
            case "decidedThrough": decidedThrough = try reader.int64()
            case "schema": schema = Int(try reader.int64())
            case "officeLogDays": officeLogDays = Int(try reader.int64())
            default: try reader.skip()
            }
        }
        guard let changes, let next, let more, let acknowledged, let hub, let time, let rulesVersion else {
            throw reader.malformed("a pull needs changes, next, more, acknowledged, hub, time and rulesVersion")
        }
        self.init(changes: changes, next: next, more: more, acknowledged: acknowledged, hub: hub, time: time, rulesVersion: rulesVersion,
                  rules: rules, arrived: arrived, departed: departed, incarnation: incarnation, seals: seals)
        self.decisions = decisions
        self.decidedThrough = decidedThrough
        self.schema = schema
        self.officeLogDays = officeLogDays
    }
}
