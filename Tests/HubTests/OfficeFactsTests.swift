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
        for (index, caller) in callers.enumerated() { await bench.store.noteOffice(caller, header: Self.facts(unsent: index), pulledThrough: 0) }
        // Not written yet, one by one: the store holds none of them until the delay passes.
        #expect(try Self.count(bench) == 0, "offices written before the delay")
        // The desk's list writes what waits first, and sees every office.
        let offices = try await bench.store.offices()
        #expect(offices.count == 40 && offices.allSatisfy { $0.seenAt != nil }, "\(offices.filter { $0.seenAt == nil }.map(\.replica))")
        #expect(offices.first { $0.replica.rawValue == "10039" }?.facts?.unsent == 39)
        // Written by the delay alone too, without anyone reading.
        let late = try await bench.office("20000", scope: "unit-late").1
        await bench.store.noteOffice(late, header: Self.facts(unsent: 7), pulledThrough: 0)
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
        await bench.store.noteOffice(office, header: Self.facts(unsent: 2), pulledThrough: 0, at: now)
        await bench.store.writeOfficeFacts()
        // What another hub process kept from an earlier pull, written after.
        await bench.store.noteOffice(office, header: Self.facts(unsent: 9), pulledThrough: 0, at: now.addingTimeInterval(-5))
        await bench.store.writeOfficeFacts()
        let kept = try bench.backend.scalar("SELECT facts FROM _sync_hub_offices WHERE replica = '11111'", in: bench.directory)
        #expect(kept?.textValue?.contains("\"unsent\":2") == true, "\(String(describing: kept))")
        #expect(try Self.count(bench) == 1)
    }
}

/// One record per replica of how far it has come (`ReplicaProgress`), read in one query on
/// each storage: what the hub settled of its changes, how far it pulled, which moves it was
/// told of, when it was seen and what it said.
@Suite struct ReplicaProgressTests {
    typealias Bench = HubStoreTests.Bench

    @Test(arguments: HubBackend.allCases)
    func eachReplicaHasOneRecordOfHowFarItHasCome(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        let a = try await bench.office("11111", scope: "unit-a")
        let b = try await bench.office("22222", scope: "unit-b")
        try a.0.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('pa1', 'unit-a', 'An'), ('pa2', 'unit-a', 'Ba')")
        let pushed = try await bench.push(a)
        let pulled = try await bench.store.pull(for: a.1, after: 0, limit: 100)
        await bench.store.noteOffice(a.1, header: OfficeFactsTests.facts(unsent: 0), pulledThrough: pulled.next)
        // B pulls without saying anything of itself (an older syncd): its position is kept.
        _ = try await bench.store.snapshot(for: b.1, cursor: nil, checkpoint: nil, limit: 100)
        await bench.store.noteOffice(b.1, header: nil, pulledThrough: 7)

        let progress = Dictionary(try await bench.store.progress().map { ($0.replica, $0) }, uniquingKeysWith: { $1 })
        let ofA = try #require(progress["11111"])
        #expect(ofA.scope == "unit-a" && ofA.settled == pushed.acknowledged && ofA.settled > 0)
        #expect(ofA.pulledThrough == pulled.next && ofA.seenAt != nil && ofA.facts?.unsent == 0)
        #expect(ofA.toldThrough == nil, "A was never told of moves")
        let ofB = try #require(progress["22222"])
        #expect(ofB.settled == 0 && ofB.pulledThrough == 7 && ofB.facts == nil)
        #expect(ofB.toldThrough != nil, "a snapshot tells of every move up to its checkpoint")

        // A later pull that says nothing keeps what the office said before, and moves on.
        await bench.store.noteOffice(a.1, header: nil, pulledThrough: pulled.next + 5, at: Date().addingTimeInterval(60))
        let later = try #require(try await bench.store.progress().first { $0.replica == "11111" })
        #expect(later.pulledThrough == pulled.next + 5 && later.facts?.unsent == 0)
    }

    /// An office that runs another release than the hub is listed as such (an upgrade is
    /// pending); one of the same release is not.
    @Test func anOfficeOfAnotherReleaseIsListedAsAwaitingAnUpgrade() throws {
        var office = OfficeView(replica: try #require(ReplicaID(rawValue: "06913")), scope: "unit-06913")
        office.seenAt = Date().formatted(.iso8601)
        office.facts = OfficeFacts(version: Release.version, unsent: 0, oldestUnsentS: nil, refusedRows: 0, clockOffsetS: 0,
                                   freeDiskBytes: 1 << 32, rulesVersion: 1, lastError: nil)
        #expect(HubStore.trouble(of: office, now: Date()).isEmpty)
        office.facts?.version = "0.0.9"
        #expect(HubStore.trouble(of: office, now: Date()) == ["runs release 0.0.9, this hub \(Release.version): an upgrade is pending"])
    }

    /// An office away longer than the compaction horizon is said to be beyond it, with what
    /// that means for its changes; one away a week only that it was not seen.
    @Test func anOfficeAwayPastTheHorizonIsListedAsBeyondIt() throws {
        var office = OfficeView(replica: try #require(ReplicaID(rawValue: "06913")), scope: "unit-06913")
        let now = Date()
        office.seenAt = now.addingTimeInterval(-10 * 86_400).formatted(.iso8601)
        #expect(HubStore.trouble(of: office, now: now, horizonDays: 90) == ["not seen for 10 days"])
        office.seenAt = now.addingTimeInterval(-91 * 86_400).formatted(.iso8601)
        let said = HubStore.trouble(of: office, now: now, horizonDays: 90)
        #expect(said.count == 1 && said[0].hasPrefix("not seen for 91 days, beyond the 90-day horizon") && said[0].contains("refused"))
        #expect(HubStore.trouble(of: office, now: now, horizonDays: 0) == ["not seen for 91 days"], "0: no horizon")
    }
}
