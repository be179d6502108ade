import Foundation
@testable import HubCore
import SyncCore
import SyncProtocol
import Testing
import TestSupport

/// What offices say of themselves with their pulls waits in memory and is written many at
/// once (`HubStore.officeFactsDelay`), on each storage: nothing said is lost, a district's
/// offices pulling together cost one write, and what an office said is never replaced by
/// what it said before.
@Suite struct OfficeFactsTests {
    typealias Bench = HubStoreTests.Bench

    static func facts(unsent: Int) -> String {
        OfficeFacts(version: "1.0", unsent: unsent, oldestUnsentS: nil, refusedRows: 0, clockOffsetS: 0, freeDiskBytes: 1 << 32,
                    rulesVersion: 1, lastError: nil).headerValue
    }

    @Test(arguments: HubBackend.allCases)
    func manyOfficesAreWrittenTogetherAndTheDeskSeesEveryOne(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        var callers: [Caller] = []
        for index in 0..<40 {
            let code = ReplicaID(rawValue: String(format: "%05d", 10_000 + index))!
            callers.append(try await bench.office(code, scope: "unit-\(index)").1)
        }
        for (index, caller) in callers.enumerated() { await bench.store.noteOffice(caller, header: Self.facts(unsent: index)) }
        // Not written yet, one by one: the store holds none of them until the delay passes.
        #expect(try Self.count(bench) == 0, "offices written before the delay")
        // The desk's list writes what waits first, and sees every office.
        let offices = try await bench.store.offices()
        #expect(offices.count == 40 && offices.allSatisfy { $0.seenAt != nil }, "\(offices.filter { $0.seenAt == nil }.map(\.replica))")
        #expect(offices.first { $0.replica.rawValue == "10039" }?.facts?.unsent == 39)
        // Written by the delay alone too, without anyone reading.
        let late = try await bench.office("20000", scope: "unit-late").1
        await bench.store.noteOffice(late, header: Self.facts(unsent: 7))
        try await Task.sleep(for: HubStore.officeFactsDelay)
        // The delay is a floor, not a promise: a busy machine may take a little longer.
        var kept: Value?
        let written = eventually(timeout: 30) {
            kept = try bench.backend.scalar("SELECT facts FROM _sync_hub_offices WHERE replica = '20000'", in: bench.directory)
            return kept != nil
        }
        #expect(written && kept?.textValue?.contains("\"unsent\":7") == true, "\(String(describing: kept))")
    }

    static func count(_ bench: Bench) throws -> Int64 {
        Int64(try bench.backend.scalar("SELECT count(*) FROM _sync_hub_offices", in: bench.directory)?.description ?? "") ?? -1
    }

    @Test(arguments: HubBackend.allCases)
    func whatAnOfficeSaidIsNeverReplacedByWhatItSaidBefore(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        let office = try await bench.office("11111", scope: "unit-a").1
        let now = Date()
        await bench.store.noteOffice(office, header: Self.facts(unsent: 2), at: now)
        await bench.store.writeOfficeFacts()
        // What another hub process kept from an earlier pull, written after.
        await bench.store.noteOffice(office, header: Self.facts(unsent: 9), at: now.addingTimeInterval(-5))
        await bench.store.writeOfficeFacts()
        let kept = try bench.backend.scalar("SELECT facts FROM _sync_hub_offices WHERE replica = '11111'", in: bench.directory)
        #expect(kept?.textValue?.contains("\"unsent\":2") == true, "\(String(describing: kept))")
        #expect(try Self.count(bench) == 1)
    }
}
