/// Text and JSON forms of the core values, shared by the SQLite bookkeeping and the wire.
///
/// A `Value` encodes as JSON null, an integer number, a string, or `{"real": x}` for a real
/// (so that 1 and 1.0 keep their SQLite types across a round trip).
extension Value: Codable {
    private enum RealKey: String, CodingKey { case real }

    public init(from decoder: any Decoder) throws {
        // Most values are text, then null, then integers: try them in that order, so that a
        // failed attempt (which costs an error) is rare.
        let single = try decoder.singleValueContainer()
        if let text = try? single.decode(String.self) {
            self = .text(text)
        } else if single.decodeNil() {
            self = .null
        } else if let integer = try? single.decode(Int64.self) {
            self = .integer(integer)
        } else {
            self = .real(try decoder.container(keyedBy: RealKey.self).decode(Double.self, forKey: .real))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .integer(let integer):
            var single = encoder.singleValueContainer()
            try single.encode(integer)
        case .real(let real):
            var keyed = encoder.container(keyedBy: RealKey.self)
            try keyed.encode(real, forKey: .real)
        case .text(let text):
            var single = encoder.singleValueContainer()
            try single.encode(text)
        }
    }
}

extension Dot {
    /// Parses `replica:counter`, the form `description` writes.
    public init?(text: String) {
        guard let colon = text.lastIndex(of: ":"),
            let replica = ReplicaID(rawValue: String(text[..<colon])),
            let counter = UInt64(text[text.index(after: colon)...])
        else { return nil }
        self.init(replica: replica, counter: counter)
    }
}

extension Dot: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let dot = Dot(text: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a dot: \(text)"))
        }
        self = dot
    }

    public func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        try single.encode(description)
    }
}

extension FieldWrite: Codable {
    private enum Keys: String, CodingKey { case dot, hlc, value }

    public init(from decoder: any Decoder) throws {
        let keyed = try decoder.container(keyedBy: Keys.self)
        self.init(
            dot: try keyed.decode(Dot.self, forKey: .dot),
            timestamp: HybridTimestamp(rawValue: try keyed.decode(UInt64.self, forKey: .hlc)),
            value: try keyed.decode(Value.self, forKey: .value))
    }

    public func encode(to encoder: any Encoder) throws {
        var keyed = encoder.container(keyedBy: Keys.self)
        try keyed.encode(dot, forKey: .dot)
        try keyed.encode(timestamp.rawValue, forKey: .hlc)
        try keyed.encode(value, forKey: .value)
    }
}
