import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import SyncCore
import SyncProtocol
import Testing

/// What a hub takes back of the district's changes an office gives back after the hub was
/// put back from an older copy (`HubStore.recover`), on each storage: only changes the hub
/// sealed itself, numbered where an incarnation may have lost them, and only once.
@Suite struct DistrictRecoveryTests {
    static let key = DistrictSeal(key: Array(repeating: 7, count: 32))

    func change(_ counter: UInt64, _ row: String, name: String, origin: ReplicaID = "200") -> [Change] {
        [("commune_id", Value.text("unit-a")), ("full_name", .text(name))].enumerated().map { index, write in
            let dot = Dot(replica: origin, counter: counter + UInt64(index))
            return Change(table: "persons", row: row, operation: .set(column: write.0, value: write.1), dot: dot,
                          context: CompactContext(VersionVector(), origin: origin).context(of: dot),
                          timestamp: HybridTimestamp(rawValue: 1 << 40))
        }
    }

    func seals(_ changes: [Change], with seal: DistrictSeal = key) -> [String: String] {
        Dictionary(uniqueKeysWithValues: changes.map { (String($0.dot.counter), seal.seal($0)) })
    }

    @Test(arguments: HubBackend.allCases)
    func onlyTheHubsOwnSealedChangesInALostRangeAreTakenBack(on backend: HubBackend) async throws {
        let bench = try HubStoreTests.Bench(backend)
        await bench.store.useSeal(Self.key)
        let first = try #require(try await bench.store.beginIncarnation(at: Date(timeIntervalSinceNow: -3_600)))
        // A later start whose store lacks what the first handed out above what it held: the
        // district's counters between are ones an office may give back.
        let second = try #require(try await bench.store.beginIncarnation(at: Date()))
        #expect(second.previous == first.floor && second.floor > first.floor)
        let office = try await bench.office("11111", scope: "unit-a")
        let status = try await bench.store.recoveryStatus(for: office.1, since: 0)
        #expect(status.incarnation == second.floor)
        #expect(status.lacking.contains(CounterRange(after: first.floor, before: second.floor)))

        let lost = change(first.floor + 64, "p-lost", name: "Huyện")
        let forged = change(first.floor + 128, "p-forged", name: "Giả")
        let altered = change(first.floor + 192, "p-altered", name: "Thật")
        let alteredSeals = seals(altered)
        // Its name changed on the way: that change's seal no longer fits.
        let tampered = Array(change(first.floor + 192, "p-altered", name: "Sửa").suffix(1))
        let notDistrict = change(first.floor + 256, "p-office", name: "Xã", origin: "11111")
        let notLost = change(second.floor + 64, "p-new", name: "Mới")
        var given = seals(lost).merging(seals(forged, with: DistrictSeal(key: Array(repeating: 9, count: 32)))) { a, _ in a }
        given.merge(alteredSeals) { a, _ in a }
        given.merge(seals(notDistrict)) { a, _ in a }
        given.merge(seals(notLost)) { a, _ in a }
        let reply = try await bench.store.recover(lost + forged + tampered + notDistrict + notLost, seals: given, from: office.1)
        #expect(reply.taken == lost.count)
        #expect(Set(reply.refused) == Set((forged + tampered + notDistrict + notLost).map(\.dot.counter)))
        #expect(try backend.scalar("SELECT full_name FROM persons WHERE id = 'p-lost'", in: bench.directory) == .text("Huyện"))
        #expect(try backend.scalar("SELECT id FROM persons WHERE id <> 'p-lost'", in: bench.directory) == nil)
        // Given back again (another office held it too): held, not taken twice.
        let again = try await bench.store.recover(lost, seals: seals(lost), from: office.1)
        #expect(again.taken == 0 && again.held == lost.count && again.refused.isEmpty)
        // It is in the feed again, for the offices that missed it.
        let pulled = try await bench.store.pull(for: office.1, after: 0, limit: 1_000)
        #expect(pulled.changes.contains { $0.r == "p-lost" })
        #expect(pulled.incarnation == second.floor)
        #expect(pulled.seals?[String(lost[0].dot.counter)] == Self.key.seal(lost[0]))
    }
}
