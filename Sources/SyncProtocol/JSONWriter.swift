import Foundation
import SyncCore

/// Writes JSON text straight into bytes, for the messages sent most and largest (an office's
/// push, a pull's changes, a snapshot's rows): Foundation's encoder builds a tree of boxed
/// values for each message first, which was a quarter of the hub's time on a snapshot. The text is
/// what `JSONEncoder` would send, give or take spacing and escapes (the keys, nesting and
/// values are the same), so any JSON reader — an office of an earlier release included —
/// reads the same values; `WireJSONTests` holds the two to that.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = []

    public init(capacity: Int = 4_096) { bytes.reserveCapacity(capacity) }

    /// A non-finite real, which JSON cannot carry (`JSONEncoder` refuses it as well).
    public struct NotRepresentable: Error, CustomStringConvertible {
        public let value: Double
        public var description: String { "\(value) cannot be written as JSON" }
    }

    // MARK: Structure

    public mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { needsComma.removeLast(); bytes.append(UInt8(ascii: "}")) }
    public mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { needsComma.removeLast(); bytes.append(UInt8(ascii: "]")) }

    /// A key of the object being written; its value comes next.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = false }
    }

    private mutating func separate() {
        guard let last = needsComma.last else { return }
        if last { bytes.append(UInt8(ascii: ",")) } else { needsComma[needsComma.count - 1] = true }
    }

    // MARK: Values

    public mutating func null() { separate(); bytes.append(contentsOf: "null".utf8) }

    public mutating func bool(_ value: Bool) { separate(); bytes.append(contentsOf: (value ? "true" : "false").utf8) }

    public mutating func integer(_ value: some BinaryInteger) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func real(_ value: Double) throws {
        guard value.isFinite else { throw NotRepresentable(value: value) }
        separate()
        bytes.append(contentsOf: value.description.utf8)
    }

    /// A string, escaped as JSON requires: quote, backslash and control characters; the rest
    /// goes as its UTF-8 bytes.
    public mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: utf8[start..<index])
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: "\\u00".utf8)
                    bytes.append(hex[Int(byte >> 4)])
                    bytes.append(hex[Int(byte & 0x0F)])
                }
            }
            bytes.append(contentsOf: utf8[start...])
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A value of a rare or small type, through Foundation's encoder.
    public mutating func encoded(_ value: some Encodable) throws {
        separate()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        bytes.append(contentsOf: try encoder.encode(value))
    }

    public mutating func write(_ value: some WireJSONEncodable) throws { try value.write(to: &self) }

    /// A key and its value, for the members of an object.
    public mutating func field(_ name: StaticString, _ value: String) { key(name); string(value) }
    public mutating func field(_ name: StaticString, _ value: some BinaryInteger) { key(name); integer(value) }
    public mutating func field(_ name: StaticString, _ value: some WireJSONEncodable) throws { key(name); try value.write(to: &self) }
    public mutating func field<Element: WireJSONEncodable>(_ name: StaticString, _ elements: [Element]) throws { key(name); try array(elements) }

    public mutating func array<Element: WireJSONEncodable>(_ elements: [Element]) throws {
        beginArray()
        for element in elements { try element.write(to: &self) }
        endArray()
    }
}

/// A wire type the hub writes with `JSONWriter` rather than Foundation's encoder.
public protocol WireJSONEncodable: Encodable {
    func write(to writer: inout JSONWriter) throws
}

extension WireJSONEncodable {
    /// The JSON text of this value.
    public func wireJSON() throws -> [UInt8] {
        var writer = JSONWriter()
        try write(to: &writer)
        return writer.bytes
    }
}

extension Value: WireJSONEncodable {
    public func write(to writer: inout JSONWriter) throws {
        switch self {
        case .null: writer.null()
        case .integer(let integer): writer.integer(integer)
        case .text(let text): writer.string(text)
        case .real(let real):
            writer.beginObject()
            writer.key("real")
            try writer.real(real)
            writer.endObject()
        }
    }
}

extension FieldWrite: WireJSONEncodable {
    public func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        writer.field("dot", dot.description)
        writer.field("hlc", timestamp.rawValue)
        try writer.field("value", value)
        writer.endObject()
    }
}

extension ChangeGroup.Write: WireJSONEncodable {
    public func write(to writer: inout JSONWriter) throws {
        writer.beginArray()
        writer.integer(counter)
        if let column {
            writer.string(column)
            try value.write(to: &writer)
        }
        writer.endArray()
    }
}

extension ChangeGroup: WireJSONEncodable {
    public func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        writer.field("t", t)
        writer.field("r", r)
        writer.field("o", o)
        writer.field("h", h)
        writer.field("x", x)
        try writer.field("w", w)
        writer.endObject()
    }
}

extension FieldSnapshot: WireJSONEncodable {
    public func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        writer.field("column", column)
        writer.field("seen", seen)
        try writer.field("writes", writes)
        writer.endObject()
    }
}

extension RowSnapshot: WireJSONEncodable {
    public func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        writer.field("table", table)
        writer.field("row", row)
        writer.field("clock", clock)
        writer.field("deletes", deletes)
        try writer.field("fields", fields)
        writer.endObject()
    }
}

extension SnapshotPage: WireJSONEncodable {
    public func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.field("rows", rows)
        writer.field("checkpoint", checkpoint)
        if let cursor {
            writer.field("cursor", cursor)
        }
        writer.field("acknowledged", acknowledged)
        if let previous {
            writer.key("previous")
            try writer.encoded(previous)
        }
        writer.endObject()
    }
}

extension RowsResponse: WireJSONEncodable {
    public func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.field("rows", rows)
        writer.endObject()
    }
}

extension PushRequest: WireJSONEncodable {
    public func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.field("changes", changes)
        if let after {
            writer.field("after", after)
        }
        writer.endObject()
    }
}

extension PullResponse: WireJSONEncodable {
    public func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.field("changes", changes)
        writer.field("next", next)
        writer.key("more")
        writer.bool(more)
        writer.field("acknowledged", acknowledged)
        writer.field("hub", hub)
        writer.field("time", time)
        writer.field("rulesVersion", rulesVersion)
        // Rare or small: Foundation's encoder, as before.
        if let rules { writer.key("rules"); try writer.encoded(rules) }
        if let arrived { writer.key("arrived"); try writer.encoded(arrived) }
        if let departed { writer.key("departed"); try writer.encoded(departed) }
        if let incarnation { writer.field("incarnation", incarnation) }
        if let seals { writer.key("seals"); try writer.encoded(seals) }
        if let decisions { writer.key("decisions"); try writer.encoded(decisions) }
        if let decidedThrough { writer.field("decidedThrough", decidedThrough) }
        if let schema { writer.field("schema", schema) }
        if let officeLogDays { writer.field("officeLogDays", officeLogDays) }
        writer.endObject()
    }
}
