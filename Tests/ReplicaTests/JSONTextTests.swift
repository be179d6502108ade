import Foundation
import Testing
@testable import Replica

/// Ids travel to `json_each` as JSON text written by hand: whatever an id holds (quotes,
/// backslashes, line breaks, control characters, Vietnamese), SQLite must read back the id.
/// (A NUL is escaped too, as the second test shows, but SQLite's text ends at it when read.)
@Suite struct JSONTextTests {
    static let awkward = ["plain", "p-06913-1", "quote\"d", "back\\slash", "line\nbreak", "tab\there", "bell\u{07}",
                          "Nguyễn Thị Ánh", "emoji 👩‍👩‍👧", "", "\u{1F}\u{7F}"]

    @Test func anyStringSurvivesTheRoundTripThroughSQLite() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        let back = try database.query("SELECT value FROM json_each(?) ORDER BY key", [.text(JSONText.array(Self.awkward))])
            .map { $0[0].textValue ?? "<not text>" }
        #expect(back == Self.awkward)
        let pairs = try database.query(
            "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?) ORDER BY key",
            [.text(JSONText.pairs(zip(Self.awkward, Self.awkward.reversed()).map { ($0, $1) }))])
        #expect(pairs.map { $0[0].textValue ?? "" } == Self.awkward)
        #expect(pairs.map { $0[1].textValue ?? "" } == Self.awkward.reversed())
    }

    @Test func randomStringsDecodeAsFoundationReadsThem() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let strings = (0..<Int.random(in: 0...5, using: &generator)).map { _ in
                String(String.UnicodeScalarView((0..<Int.random(in: 0...12, using: &generator)).compactMap { _ in
                    Unicode.Scalar(UInt32.random(in: 0...0x2FF, using: &generator))
                }))
            }
            let decoded = try JSONDecoder().decode([String].self, from: Data(JSONText.array(strings).utf8))
            #expect(decoded == strings)
        }
    }
}
