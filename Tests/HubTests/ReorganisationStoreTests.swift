import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import MergeEngine
import Register
import Replica
import SyncCore
import SyncProtocol
import Testing
import TestSupport

/// Mergers, rotation and replica ids in the hub's logic, on each storage (`HubBackend`).
@Suite struct ReorganisationStoreTests {
    typealias Bench = HubStoreTests.Bench

    @Test(arguments: HubBackend.allCases)
    func aMergerUnderAReusedCodeMovesEverythingAndNeverReusesTheReplicaID(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        let b = try await bench.office("22222", scope: "unit-b")  // the store creates its tables on first use
        try bench.districtSQL("""
            INSERT INTO units(id, code, name, kind) VALUES
                ('unit-a', '11111', 'Xã A', 'commune'), ('unit-b', '22222', 'Thị trấn B', 'township'), ('unit-d', '44444', 'Xã D', 'commune');
            """)
        try await bench.store.ingestLocalEdits()
        let aToken = try await bench.store.issueCredential(for: "11111", scope: nil)
        let a = (try Replica.create(at: bench.directory.path("a.db"), id: "11111", role: .commune),
                 try await bench.store.authenticate("Bearer \(aToken)"))
        let d = try await bench.office("44444", scope: "unit-d")
        #expect(a.1.scope == "unit-a")
        try a.0.database.execute("""
            INSERT INTO persons(id, commune_id, full_name) VALUES ('pa1', 'unit-a', 'An');
            INSERT INTO assignments(id, commune_id, person_id, position_id, kind) VALUES ('aa1', 'unit-a', 'pa1', 'pos-a', 'primary');
            """)
        try b.0.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('pb1', 'unit-b', 'Bình')")
        try await bench.push(a)
        try await bench.push(b)
        // Office A is offline when it happens: an edit and a new person.
        try a.0.database.execute("""
            UPDATE persons SET phone = '0911' WHERE id = 'pa1';
            INSERT INTO persons(id, commune_id, full_name) VALUES ('pa-late', 'unit-a', 'Typed offline');
            """)

        let report = try await bench.store.reorganise([
            Succession(oldCode: "11111", newCode: "11111", newName: "Xã Mới", newKind: "commune", isDefault: true),
            Succession(oldCode: "22222", newCode: "11111", newName: "Xã Mới", newKind: "commune", isDefault: true),
            Succession(oldCode: "99999", newCode: "11111", newName: "Xã Mới", newKind: "commune", isDefault: true),
        ], on: "2025-07-01")
        #expect(report.created.map(\.code) == ["11111"])
        #expect(Set(report.ended.map(\.unit.code)) == ["11111", "22222"])
        #expect(report.notHere == 1)
        let merged = report.created[0].id
        #expect(report.moved["persons"] == 2 && report.moved["assignments"] == 1)

        // Ended offices: refused the register, with the successor named; their typing is taken.
        // (Each request checks its credential anew: a caller is what one request found.)
        let bNow = try await bench.store.authenticate("Bearer " + (try await bench.store.issueCredential(for: "22222", scope: "unit-b")))
        #expect(bNow.replica == "22222")
        await #expect {
            try await bench.store.pull(for: bNow, after: 0, limit: 100)
        } throws: { error in
            (error as? HubError)?.status == 410 && (error as? HubError)?.message.contains("Xã Mới (11111)") == true
        }
        let late = try await bench.push(a)
        #expect(late.refused.isEmpty, "\(late.refused)")
        #expect(try backend.scalar("SELECT commune_id FROM persons WHERE id = 'pa-late'", in: bench.directory)?.textValue == merged)
        #expect(try backend.scalar("SELECT phone FROM persons WHERE id = 'pa1'", in: bench.directory)?.textValue == "0911")

        // The new unit's office: the same code, a replica id never used.
        let token = try await bench.store.issueCredential(for: "11111", scope: nil)
        #expect(token.hasPrefix("11111-2."))
        let successor = try await bench.store.authenticate("Bearer \(token)")
        #expect(successor.scope == merged && successor.replica == "11111-2")
        #expect(try await bench.store.issueCredential(for: "11111", scope: nil).hasPrefix("11111-2."), "issued again: the same id")
        let snapshot = try await bench.store.snapshot(for: successor, cursor: nil, checkpoint: nil, limit: 1_000)
        #expect(Set(snapshot.rows.filter { $0.table != "units" }.map { "\($0.table)/\($0.row)" })
            == ["persons/pa1", "persons/pb1", "persons/pa-late", "assignments/aa1"])
        // Every office learns of the new unit and the ended ones, as of any district write.
        let unitRows = Dictionary(uniqueKeysWithValues: snapshot.rows.filter { $0.table == "units" }.map { ($0.row, $0.state!) })
        #expect(unitRows[merged]?.fields["name"]?.writes.first?.value == .text("Xã Mới"))
        #expect(unitRows[merged]?.fields["effective_from"]?.writes.first?.value == .text("2025-07-01"))
        #expect(unitRows["unit-b"]?.fields["successor_id"]?.writes.first?.value == .text(merged))
        #expect(unitRows["unit-b"]?.fields["effective_to"]?.writes.first?.value == .text("2025-06-30"))

        // Rotation: pb1 goes to D; D's pull brings it whole, the successor's drops it.
        let dBefore = try await bench.store.pull(for: d.1, after: 0, limit: 1_000).next
        let sBefore = snapshot.checkpoint
        let rotated = try await bench.store.rotate(person: "pb1", toCode: "44444", on: "2026-01-15")
        #expect(rotated == ["persons": 1])
        let toD = try await bench.store.pull(for: d.1, after: dBefore, limit: 1_000)
        #expect(toD.arrived == [RowRef(table: "persons", row: "pb1")])
        let rows = try await bench.store.rows(RowsRequest(table: "persons", ids: ["pb1"]), for: d.1)
        #expect(rows.rows.first?.state?.fields["full_name"]?.writes.first?.value == .text("Bình"))

        // An edit of pb1 the successor made before it knew (it pushes before it pulls) is
        // taken; one of a row that was never its own is refused.
        let office = try Replica.create(at: bench.directory.path("s.db"), id: "11111-2", role: .commune)
        try office.install(snapshot.rows.map { ($0.table, $0.row, $0.state!) })
        try office.reserveCounters(through: snapshot.acknowledged)
        try office.database.execute("UPDATE persons SET phone = '0922' WHERE id = 'pb1'")
        try office.fold()
        let edit = try await bench.store.push(try office.capturedChanges(after: 0), from: successor)
        #expect(edit.refused.isEmpty && edit.applied == 1, "\(edit)")
        #expect(try backend.scalar("SELECT phone FROM persons WHERE id = 'pb1'", in: bench.directory)?.textValue == "0922")
        let fromSuccessor = try await bench.store.pull(for: successor, after: sBefore, limit: 1_000)
        #expect(fromSuccessor.departed == [RowRef(table: "persons", row: "pb1")])
        #expect(fromSuccessor.arrived == nil)
        // Told, it may no longer change pb1.
        try office.database.execute("UPDATE persons SET phone = '0933' WHERE id = 'pb1'")
        try office.fold()
        let knowing = try await bench.store.push(try office.capturedChanges(after: edit.acknowledged), from: successor)
        #expect(knowing.refused.map(\.code) == ["moved_away"], "\(knowing)")
        #expect(try backend.scalar("SELECT phone FROM persons WHERE id = 'pb1'", in: bench.directory)?.textValue == "0922")
        let stranger = try await bench.push(d)
        #expect(stranger.applied == 0)
        try d.0.database.execute("INSERT INTO persons(id, commune_id, full_name) VALUES ('pa1', 'unit-d', 'Not D''s')")
        let refused = try await bench.push(d)
        #expect(Set(refused.refused.map(\.code)) == ["out_of_scope"] && Set(refused.refused.map(\.row)) == ["pa1"])
        #expect(try bench.feedDotCounts().values.allSatisfy { $0 == 1 })
    }

    /// Quotas of the new unit are the district's to set; once set, the holding rules count
    /// the seats of the communes that merged into it.
    @Test(arguments: HubBackend.allCases)
    func theSuccessorsQuotaCountsTheSeatsOfTheCommunesThatMergedIntoIt(on backend: HubBackend) async throws {
        let bench = try Bench(backend)
        let a = try await bench.office("11111", scope: "unit-a")
        let b = try await bench.office("22222", scope: "unit-b")
        try bench.districtSQL("""
            INSERT INTO units(id, code, name, kind) VALUES ('unit-a', '11111', 'Xã A', 'commune'), ('unit-b', '22222', 'Xã B', 'commune');
            INSERT INTO titles(id, code, category, level, max_holders) VALUES ('t-vp', 'van_phong', 'civil_servant', 'commune', 2);
            """)
        try await bench.store.ingestLocalEdits()
        for (office, unit) in [(a, "unit-a"), (b, "unit-b")] {
            try office.0.database.execute("""
                INSERT INTO persons(id, commune_id, full_name) VALUES ('p-\(unit)', '\(unit)', 'Holder of \(unit)');
                INSERT INTO positions(id, commune_id, unit_id, title_id, seat_no, capacity) VALUES ('pos-\(unit)', '\(unit)', '\(unit)', 't-vp', 1, 1);
                INSERT INTO assignments(id, commune_id, person_id, position_id, kind, start_date) VALUES
                    ('a-\(unit)', '\(unit)', 'p-\(unit)', 'pos-\(unit)', 'primary', '2020-01-01');
                """)
            try await bench.push(office)
        }
        let report = try await bench.store.reorganise([
            Succession(oldCode: "11111", newCode: "33333", newName: "Xã Mới", newKind: "commune", isDefault: true),
            Succession(oldCode: "22222", newCode: "33333", newName: "Xã Mới", newKind: "commune", isDefault: true),
        ], on: "2025-07-01")
        let merged = try #require(report.created.first?.id)
        try bench.districtSQL("""
            INSERT INTO quotas(id, unit_id, category, max_headcount, legal_basis) VALUES ('q-new', '\(merged)', 'cadre_civil_servant', 1, 'ND 33/2023');
            """)
        try await bench.store.ingestLocalEdits()
        let reviewer = try await bench.store.authenticate(
            "Bearer " + (try await bench.store.issueCredential(for: "reviewer1", scope: nil, reviewer: true)))
        let quota = try #require(try await bench.store.conflicts(state: "open", for: reviewer).first { $0.kind == "quota" })
        #expect(quota.row == merged)
        #expect(quota.chosen.contains("2 people hold cadre_civil_servant titles; the quota is 1"), "\(quota.chosen)")
    }

    /// A hub file from before replica ids were registered learns the ids its credentials and
    /// received changes used, so none is issued to another unit.
    @Test func aHubFileFromBeforeTheRegistryNeverReissuesAnIDItUsed() async throws {
        let directory = try TemporaryDirectory("replica-ids")
        let path = directory.path("hub.db")
        do {
            let store = HubStore(storage: try SQLiteHubStorage(path: path, district: "200"))
            _ = try await store.issueCredential(for: "06895", scope: "unit-township")
        }
        try SQLiteDatabase(path: path, create: false).execute("DROP TABLE _sync_hub_replicas")
        let store = HubStore(storage: try SQLiteHubStorage(path: path, district: "200"))
        #expect(try await store.issueCredential(for: "06895", scope: "unit-township").hasPrefix("06895."))
        #expect(try await store.issueCredential(for: "06895", scope: "unit-new-commune").hasPrefix("06895-2."))
        #expect(try await store.issueCredential(for: "06895", scope: "unit-third").hasPrefix("06895-3."))
        #expect(try await store.issueCredential(for: "06895-2", scope: nil).hasPrefix("06895-2."))
    }
}
