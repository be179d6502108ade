/// A page of the Prometheus text format (version 0.0.4) as a test reads it: each family's
/// `# TYPE` and `# HELP`, and every sample with its labels. Strict enough to fail on a line
/// Prometheus would refuse to scrape.
public struct MetricsExposition: Sendable {
    public struct Sample: Sendable, CustomStringConvertible {
        public let name: String
        public let labels: [String: String]
        public let value: Double
        public var description: String { "\(name)\(labels.sorted { $0.key < $1.key }) \(value)" }
    }

    /// A line that is not a comment, a blank or a sample.
    public struct MalformedLine: Error, CustomStringConvertible {
        public let line: String
        public let why: String
        public var description: String { "not the Prometheus text format (\(why)): \(line)" }
    }

    /// Family name to its type: counter, gauge, histogram, summary or untyped.
    public private(set) var types: [String: String] = [:]
    public private(set) var helps: [String: String] = [:]
    public private(set) var samples: [Sample] = []

    public init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("# TYPE ") || line.hasPrefix("# HELP ") {
                let words = line.dropFirst(7).split(separator: " ", maxSplits: 1).map(String.init)
                guard words.count == 2 else { throw MalformedLine(line: line, why: "a TYPE or HELP line without its text") }
                if line.hasPrefix("# TYPE ") {
                    guard types.updateValue(words[1], forKey: words[0]) == nil else { throw MalformedLine(line: line, why: "a second TYPE") }
                } else {
                    helps[words[0]] = words[1]
                }
            } else if !line.hasPrefix("#") {
                samples.append(try Self.sample(line))
            }
        }
    }

    /// The family a sample belongs to: its own name, or a histogram's or summary's name
    /// without `_bucket`, `_sum` or `_count`.
    public func family(of sample: Sample) -> String? {
        if types[sample.name] != nil { return sample.name }
        for suffix in ["_bucket", "_sum", "_count"] where sample.name.hasSuffix(suffix) {
            let base = String(sample.name.dropLast(suffix.count))
            if let type = types[base], type == "histogram" || type == "summary" { return base }
        }
        return nil
    }

    public func samples(named name: String) -> [Sample] { samples.filter { $0.name == name } }

    private static func sample(_ line: String) throws -> Sample {
        var rest = Substring(line)
        let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
        guard let first = name.first, !first.isNumber else { throw MalformedLine(line: line, why: "no metric name") }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
                rest = rest.dropFirst(label.count)
                guard !label.isEmpty, rest.hasPrefix("=\"") else { throw MalformedLine(line: line, why: "a label without =\"") }
                rest = rest.dropFirst(2)
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\" {
                        guard let escaped = rest.first else { break }
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { throw MalformedLine(line: line, why: "an unclosed label value") }
                rest = rest.dropFirst()
                guard labels.updateValue(value, forKey: label) == nil else { throw MalformedLine(line: line, why: "label \(label) twice") }
                if rest.first == "," { rest = rest.dropFirst() }
                guard !rest.isEmpty else { throw MalformedLine(line: line, why: "unclosed labels") }
            }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard (1...2).contains(fields.count), let value = Self.value(fields[0]) else {
            throw MalformedLine(line: line, why: "no value, or not a number")
        }
        return Sample(name: name, labels: labels, value: value)
    }

    private static func value(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }
}
