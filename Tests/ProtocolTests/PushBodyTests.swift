import Foundation
import SyncCore
import SyncProtocol
import Testing

/// What the hub does with a push body before its store sees it (`PushBody`), including every
/// input of the fuzz corpus (Tests/Fuzz/corpus/push): each one is either taken or refused with
/// a reason, never a trap. An input the fuzzer (Deploy/fuzz-push.sh) finds crashing goes into
/// the corpus, so this test keeps it fixed.
@Suite struct PushBodyTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus/push")

    func body(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: Self.corpus.appendingPathComponent(name))) }

    func changes(_ bytes: [UInt8]) throws(WireBody.Failure) -> [Change] {
        let gzipped = bytes.starts(with: [0x1f, 0x8b])
        return try PushBody.changes(from: bytes, contentEncoding: gzipped ? "gzip" : nil, maxExpandedBytes: 1 << 20)
    }

    @Test func everyCorpusInputIsTakenOrRefusedWithAReason() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).sorted()
        #expect(names.count >= 10, "the seed corpus is missing: \(names)")
        for name in names {
            let bytes = try body(name)
            do throws(WireBody.Failure) {
                let taken = try changes(bytes)
                #expect(!name.hasPrefix("malformed-"), "\(name) was taken (\(taken.count) changes) but is there as malformed")
            } catch {
                #expect(!name.hasPrefix("real-") && !name.hasPrefix("empty-"), "\(name) was refused: \(error)")
                #expect(!error.description.isEmpty)
            }
        }
    }

    @Test func aRealPushDecodesTheSameWhetherGzippedOrNot() throws {
        let plain = try changes(try body("real-push.json"))
        #expect(try changes(try body("real-push.json.gz")) == plain)
        #expect(plain.count == 6)
        #expect(plain.map(\.dot.counter) == [64, 65, 66, 67, 68, 69])
        #expect(plain.last?.operation == .delete)
        #expect(plain[3].operation == .set(column: "allowance", value: .real(0.25)))
        #expect(plain[1].context == VersionVector(["200": 7, "06913": 64]))
    }

    func group(h: String = "1", x: String = "", o: String = "06913", w: String) -> [UInt8] {
        Array(#"{"changes":[{"t":"persons","r":"p","o":"\#(o)","h":\#(h),"x":"\#(x)","w":[\#(w)]}]}"#.utf8)
    }

    func refusal(_ bytes: [UInt8]) -> String? {
        do throws(WireBody.Failure) {
            _ = try changes(bytes)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func wellFormedGroupsAreTaken() throws {
        #expect(try changes(group(w: #"[1,"note","x"],[2]"#)).count == 2)
        #expect(try changes(group(h: "9223372036854775807", x: "200:9223372036854775807 06916:1", w: "[9223372036854775807]")).count == 1)
    }

    @Test func malformedGroupsAreRefusedWithWhatIsWrong() {
        #expect(refusal(group(w: #"[5,"note","x","extra"]"#))?.contains("[counter, column, value], not longer") == true)
        #expect(refusal(group(w: #"[5,"note"]"#)) != nil)
        #expect(refusal(group(w: "[0]"))?.contains("counter 0") == true)
        #expect(refusal(group(w: "[9223372036854775808]"))?.contains("counter 9223372036854775808") == true)
        #expect(refusal(group(h: "9223372036854775808", w: "[1]"))?.contains("stamp 9223372036854775808") == true)
        #expect(refusal(group(h: "18446744073709551616", w: "[1]"))?.contains("not a valid PushRequest") == true)
        #expect(refusal(group(w: ""))?.contains("no writes") == true)
        #expect(refusal(group(o: "06 913", w: "[1]"))?.contains("malformed origin") == true)
        for context in ["200:7  06916:1", " 200:7", "200:7 ", "200", "200:", "200:+7", "200:-1", "200:9223372036854775808", "a b:1"] {
            #expect(refusal(group(x: context, w: "[1]"))?.contains("malformed context") == true, "context '\(context)' was taken")
        }
    }

    @Test func gzipIsInflatedOnlyUpToTheLimit() throws {
        let bomb = Gzip.compress(Array(repeating: UInt8(ascii: " "), count: 2 << 20))
        #expect(throws: WireBody.Failure.self) { try PushBody.changes(from: bomb, contentEncoding: "gzip", maxExpandedBytes: 1 << 20) }
        do throws(WireBody.Failure) {
            _ = try PushBody.changes(from: bomb, contentEncoding: "gzip", maxExpandedBytes: 1 << 20)
        } catch {
            guard case .tooLarge = error else { Issue.record("a gzip bomb was refused as \(error), not as too large"); return }
        }
    }
}
