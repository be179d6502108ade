import Foundation
import SyncCore
import SyncProtocol
import Testing
import TestSupport

/// The hub writes pulls and snapshots with `JSONWriter`, not Foundation's encoder: whatever
/// they hold, a reader (Foundation's decoder, as every office runs) must get back exactly
/// what Foundation's encoder would have given it.
@Suite struct WireJSONTests {
    static let awkward = ["plain", "quote\"d", "back\\slash", "line\nbreak\r", "tab\there", "bell\u{07}\u{00}", "slash/", "Nguyễn Thị Ánh",
                          "emoji 👩‍👩‍👧", "", "\u{1F}\u{7F}\u{2028}"]

    struct Draw {
        var generator: SeededGenerator

        mutating func text() -> String {
            if Bool.random(using: &generator) { return WireJSONTests.awkward.randomElement(using: &generator)! }
            return String(String.UnicodeScalarView((0..<Int.random(in: 0...10, using: &generator)).compactMap { _ in
                Unicode.Scalar(UInt32.random(in: 0...0x2FF, using: &generator))
            }))
        }

        mutating func value() -> Value {
            switch Int.random(in: 0..<5, using: &generator) {
            case 0: return .null
            case 1: return .integer(Int64.random(in: Int64.min...Int64.max, using: &generator))
            case 2: return .real([0.1, -0.0, 1.0, 1e300, -2.5e-300, .pi, Double(Int64.max), 5e-324].randomElement(using: &generator)!)
            default: return .text(text())
            }
        }

        mutating func dot() -> Dot {
            Dot(replica: ReplicaID(rawValue: ["06913", "200", "06916-2"].randomElement(using: &generator)!)!,
                counter: UInt64.random(in: 0...UInt64.max, using: &generator))
        }

        mutating func write() -> FieldWrite {
            FieldWrite(dot: dot(), timestamp: HybridTimestamp(rawValue: UInt64.random(in: 0...UInt64.max, using: &generator)), value: value())
        }

        mutating func group() -> ChangeGroup {
            ChangeGroup(t: text(), r: text(), o: text(), h: UInt64.random(in: 0...UInt64.max, using: &generator), x: text(),
                        w: (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                            Bool.random(using: &generator)
                                ? ChangeGroup.Write(counter: UInt64.random(in: 0...UInt64.max, using: &generator), column: nil, value: .null)
                                : ChangeGroup.Write(counter: UInt64.random(in: 0...UInt64.max, using: &generator), column: text(), value: value())
                        })
        }

        mutating func row() -> RowSnapshot {
            var fields: [String: FieldState] = [:]
            for _ in 0..<Int.random(in: 0...3, using: &generator) {
                fields[text()] = FieldState(writes: (0..<Int.random(in: 1...2, using: &generator)).map { _ in write() },
                                            seen: VersionVector())
            }
            return RowSnapshot(table: text(), row: text(), state: RowState(fields: fields, deletes: VersionVector(), clock: VersionVector()))
        }
    }

    /// Foundation's reading of `value` as the writer wrote it and as Foundation's encoder did.
    static func bothWays<T: WireJSONEncodable & Decodable & Equatable>(_ value: T) throws -> (written: T, encoded: T) {
        (try JSONDecoder().decode(T.self, from: Data(try value.wireJSON())), try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(value)))
    }

    @Test func pullsAndSnapshotsReadBackAsFoundationsEncoderWouldHaveSentThem() throws {
        var draw = Draw(generator: SeededGenerator(seed: 25))
        for round in 0..<300 {
            var pull = PullResponse(
                changes: (0..<Int.random(in: 0...6, using: &draw.generator)).map { _ in draw.group() },
                next: Int64.random(in: 0...Int64.max, using: &draw.generator), more: Bool.random(using: &draw.generator),
                acknowledged: UInt64.random(in: 0...UInt64.max, using: &draw.generator), hub: draw.text(),
                time: Int64.random(in: Int64.min...Int64.max, using: &draw.generator), rulesVersion: Int.random(in: 0...9, using: &draw.generator),
                rules: round % 3 == 0 ? RuleSet(version: 3) : nil,
                arrived: round % 4 == 0 ? [RowRef(table: draw.text(), row: draw.text())] : nil,
                departed: round % 5 == 0 ? [RowRef(table: draw.text(), row: draw.text())] : nil,
                incarnation: round % 2 == 0 ? UInt64.random(in: 0...UInt64.max, using: &draw.generator) : nil,
                seals: round % 3 == 1 ? [draw.text(): draw.text()] : nil)
            if round % 2 == 1 {
                pull.schema = 2
                pull.officeLogDays = 90
                pull.decidedThrough = 7
            }
            let pulls = try Self.bothWays(pull)
            #expect(pulls.written == pull && pulls.encoded == pull)
            // And the office reads it back with `JSONReader`, as written and as Foundation writes it.
            #expect(try PullResponse(wireJSON: try pull.wireJSON()) == pull)
            #expect(try PullResponse(wireJSON: Array(try JSONEncoder().encode(pull))) == pull)
            let push = PushRequest(changes: pull.changes, after: round % 2 == 0 ? pull.acknowledged : nil)
            let pushes = try Self.bothWays(push)
            #expect(pushes.written == push && pushes.encoded == push)

            let page = SnapshotPage(rows: (0..<Int.random(in: 0...5, using: &draw.generator)).map { _ in draw.row() },
                                    checkpoint: Int64.random(in: 0...Int64.max, using: &draw.generator),
                                    cursor: Bool.random(using: &draw.generator) ? draw.text() : nil,
                                    acknowledged: UInt64.random(in: 0...UInt64.max, using: &draw.generator),
                                    previous: round % 7 == 0 ? PreviousComputer(seenAt: "2026-12-05T00:00:00Z", unsent: 3, oldestUnsentS: 60) : nil)
            let pages = try Self.bothWays(page)
            #expect(pages.written == page && pages.encoded == page)
            #expect(try SnapshotPage(wireJSON: try page.wireJSON()) == page)
            #expect(try SnapshotPage(wireJSON: Array(try JSONEncoder().encode(page))) == page)
            let rows = try Self.bothWays(RowsResponse(rows: page.rows))
            #expect(rows.written == rows.encoded)
            #expect(try RowsResponse(wireJSON: try RowsResponse(rows: page.rows).wireJSON()) == RowsResponse(rows: page.rows))
        }
    }

    @Test func theTextIsValidJSONAndAnInfiniteRealIsRefusedAsFoundationRefusesIt() throws {
        let group = ChangeGroup(t: "persons", r: "p\"1", o: "06913", h: 1, x: "", w: [.init(counter: 5, column: "phone", value: .text("09\n01"))])
        let text = String(decoding: try group.wireJSON(), as: UTF8.self)
        #expect(text == #"{"t":"persons","r":"p\"1","o":"06913","h":1,"x":"","w":[[5,"phone","09\n01"]]}"#)
        #expect(throws: JSONWriter.NotRepresentable.self) { try Value.real(.infinity).wireJSON() }
        #expect(throws: (any Error).self) { try JSONEncoder().encode(Value.real(.infinity)) }
    }

    // MARK: Reading a push

    static func push(_ draw: inout Draw) -> PushRequest {
        PushRequest(changes: (0..<Int.random(in: 0...6, using: &draw.generator)).map { _ in draw.group() },
                    after: Bool.random(using: &draw.generator) ? UInt64.random(in: 0...UInt64.max, using: &draw.generator) : nil)
    }

    @Test func aPushReadsBackWhateverWroteIt() throws {
        var draw = Draw(generator: SeededGenerator(seed: 2512))
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.prettyPrinted, .sortedKeys]
        for _ in 0..<300 {
            let push = Self.push(&draw)
            #expect(try PushRequest(wireJSON: try push.wireJSON()) == push)
            #expect(try PushRequest(wireJSON: Array(try JSONEncoder().encode(push))) == push)
            #expect(try PushRequest(wireJSON: Array(try pretty.encode(push))) == push)
        }
        // A newer sender's additions are passed over; escapes Foundation writes are read.
        let text = #" { "future": [1, {"a": [true, false, null, -1.5e3]}], "changes": [{"t": "persons", "r": "p\/1\u00e1\ud83d\ude00", "o": "06913", "h": 1, "x": "", "w": [[5, "phone", {"real": 2.5}], [6]], "more": {}}], "after": null } "#
        let read = try PushRequest(wireJSON: Array(text.utf8))
        // Whole numbers written with a fraction of zeros or an exponent are whole numbers, as
        // JSON Schema and Foundation's decoder take them (the contract tests send such).
        for written in ["5", "5.0", "5e0", "0.5e1", "500e-2", "5.000E+0", "5" + String(repeating: "0", count: 30) + "e-30"] {
            let push = #"{"changes":[{"t":"persons","r":"p1","o":"06913","h":1.0,"x":"","w":[["# + written + #","phone","0901"]]}]}"#
            #expect(try PushRequest(wireJSON: Array(push.utf8)).changes.first?.w.first?.counter == 5, "\(written)")
            #expect(try JSONDecoder().decode(PushRequest.self, from: Data(push.utf8)).changes.first?.w.first?.counter == 5, "\(written)")
        }
        #expect(read == PushRequest(changes: [ChangeGroup(t: "persons", r: "p/1á😀", o: "06913", h: 1, x: "",
                                                          w: [.init(counter: 5, column: "phone", value: .real(2.5)), .init(counter: 6, column: nil, value: .null)])]))
    }

    @Test func aMalformedPushIsRefusedWithWhereAndNothingItAcceptsIsReadOtherwiseByFoundation() throws {
        let good = #"{"changes":[{"t":"persons","r":"p1","o":"06913","h":1,"x":"","w":[[5,"phone","0901"]]}]}"#
        for (bad, why) in [
            (good + "x", "text after the value"), (good.replacingOccurrences(of: "0901", with: #"09\ud800"#), "lone surrogate"),
            (good.replacingOccurrences(of: "[5,", with: "[-5,"), "whole number from 0"), (good.replacingOccurrences(of: "[5,", with: "[5.5,"), "whole number from 0"),
            (good.replacingOccurrences(of: "[5,", with: "[5e9223372036854775807,"), "whole number from 0"),
            (good.replacingOccurrences(of: "[5,", with: "[5e-9223372036854775808,"), "whole number from 0"),
            (good.replacingOccurrences(of: "[5,", with: "[18446744073709551616,"), "whole number from 0"),
            (good.replacingOccurrences(of: "0901", with: "09\u{01}"), "control character"), (#"{"future":"# + String(repeating: "[", count: 5_000), "nested too deep"),
            (#"{"changes":[{"x":"#, "unexpected end"), (good.replacingOccurrences(of: #"[5,"phone","0901"]"#, with: #"[5,"phone"]"#), "[counter, column, value]"),
            (good.replacingOccurrences(of: #","x":"""#, with: ""), "needs t, r, o, h, x and w"), ("{}", "needs its changes"),
        ] {
            #expect(throws: JSONReader.Malformed.self, "\(why)") { try PushRequest(wireJSON: Array(bad.utf8)) }
            do { _ = try PushRequest(wireJSON: Array(bad.utf8)) } catch { #expect(error.description.contains(why), "\(error)") }
        }
        // Any text, mangled at random: refused, or read exactly as Foundation reads it.
        var generator = SeededGenerator(seed: 77)
        var draw = Draw(generator: SeededGenerator(seed: 78))
        var accepted = 0
        for _ in 0..<3_000 {
            var bytes = try Self.push(&draw).wireJSON()
            for _ in 0..<Int.random(in: 1...3, using: &generator) where !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[at] = Array(#"{}[],:"\0123456789.-eE tfnu"#.utf8).randomElement(using: &generator)!
                case 1: bytes.remove(at: at)
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: at)
                }
            }
            guard let mine = try? PushRequest(wireJSON: bytes) else { continue }
            accepted += 1
            #expect(try JSONDecoder().decode(PushRequest.self, from: Data(bytes)) == mine, "\(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(accepted > 0, "some mangled pushes are still pushes")
    }
}
