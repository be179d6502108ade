import Foundation
import SyncClient
import SyncCore
import SyncProtocol
import Testing

@Suite struct WireTests {
    func change(_ counter: UInt64, _ column: String?, _ value: Value, row: String = "p1", context: VersionVector = VersionVector(["200": 7])) -> Change {
        var seen = context
        seen.record(Dot(replica: "06913", counter: counter - 1))
        return Change(
            table: "persons", row: row, operation: column.map { .set(column: $0, value: value) } ?? .delete,
            dot: Dot(replica: "06913", counter: counter), context: seen, timestamp: HybridTimestamp(wallMillis: 1_700_000_000_000))
    }

    @Test func changeGroupsRoundTripThroughJSON() throws {
        let changes = [
            change(64, "full_name", .text("Nguyễn Văn An")), change(65, "phone", .null), change(66, "party_member", .integer(1)),
            change(67, "note", .real(1.0)), change(128, nil, .null, row: "p2"),
        ]
        let groups = ChangeGroup.group(changes)
        #expect(groups.count == 2)
        let decoded = try JSONDecoder().decode([ChangeGroup].self, from: JSONEncoder().encode(groups))
        #expect(decoded.flatMap { $0.changes()! } == changes)
    }

    @Test func gzipRoundTripsAndRefusesBombsAndGarbage() throws {
        let text = Array(String(repeating: "Xã Quảng Tân ", count: 10_000).utf8)
        let packed = Gzip.compress(text)
        #expect(packed.count < text.count / 20)
        #expect(try Gzip.decompress(packed, limit: text.count) == text)
        #expect(throws: Gzip.Failure.tooLarge(limit: 1_000)) { try Gzip.decompress(packed, limit: 1_000) }
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Array("not gzip at all".utf8), limit: 1_000) }
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Array(packed.prefix(packed.count / 2)), limit: text.count) }
    }

    @Test func backoffDoublesWithJitterUpToTheCap() {
        let backoff = Backoff(base: 1, cap: 300)
        #expect(backoff.delay(afterFailures: 0, unit: 0.9) == 0)
        #expect(backoff.delay(afterFailures: 1, unit: 1) == 1)
        #expect(backoff.delay(afterFailures: 4, unit: 1) == 8)
        #expect(backoff.delay(afterFailures: 4, unit: 0.5) == 4)
        #expect(backoff.delay(afterFailures: 40, unit: 1) == 300)
        #expect(backoff.delay(afterFailures: 40, unit: 0) == 0)
    }
}
