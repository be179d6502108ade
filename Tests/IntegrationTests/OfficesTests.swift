import Foundation
import SyncProtocol
import Testing
import TestSupport

/// The district's offices at a glance: each office tells the hub about itself with its pulls
/// (what waits to be sent, refused rows, clock, disk, release, last failure); `synchub
/// offices` lists every office holding a credential, those in trouble first, including one
/// that never synced. A real synchub, offices run by `syncctl sync`.
@Suite(.serialized) struct OfficesTests {
    @Test func theDistrictSeesWhichOfficesAreInTroubleAndWhy() throws {
        let cluster = try SyncCluster(label: "offices")
        let healthy = try cluster.addCommune("06913")
        let refusing = try cluster.addCommune("06916")
        try cluster.hub.issueCredential(for: "06910", into: cluster.directory.path("06910.credential"))
        for office in [healthy, refusing] { #expect(try office.syncOnce().status == 0) }
        // 06916 writes a person into another commune: the hub refuses that row.
        try SQLiteShell.run(refusing.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-stolen', 'unit-06913', 'Chi');")
        #expect(try refusing.syncOnce().status == 1)
        #expect(try refusing.syncOnce().status == 0, "the next round sends nothing again and reports the refusal to the hub")

        // The hub writes what offices say of themselves a moment later, many at once
        // (`HubStore.officeFactsDelay`); `synchub offices` reads the store.
        func list() throws -> (status: Int32, output: String) {
            try Programs.run("synchub", ["offices", "--format", "json", "--config", cluster.hub.config])
        }
        #expect(eventually(timeout: 20) {
            let output = try list().output
            return output.contains("\"refused_rows\" : 1") || output.contains("\"refused_rows\":1")
        }, "\((try? list().output) ?? "")")
        let listed = try list()
        #expect(listed.status == 0, "\(listed.output)")
        let offices = try #require(try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]], "\(listed.output)")
        let byCode = Dictionary(offices.compactMap { office in (office["office"] as? String).map { ($0, office) } }, uniquingKeysWith: { $1 })
        #expect(Set(byCode.keys) == ["06910", "06913", "06916"], "\(listed.output)")
        // Trouble first: the two in trouble come before the healthy one.
        #expect(offices.last?["office"] as? String == "06913", "\(listed.output)")
        let good = try #require(byCode["06913"])
        #expect((good["trouble"] as? [String])?.isEmpty == true && good["unsent"] as? Int == 0 && good["refused_rows"] as? Int == 0, "\(good)")
        #expect(good["version"] as? String == Release.version && (good["free_disk_bytes"] as? Int ?? 0) > 0 && good["seen_at"] != nil, "\(good)")
        #expect(good["commune"] as? String == "Xã Quảng Tân (06913)", "\(good)")
        // How far it has come, from its real pulls: it pulled past the start of the feed.
        #expect((good["pulled_through"] as? Int ?? 0) > 0 && good["settled_counter"] != nil, "\(good)")
        let bad = try #require(byCode["06916"])
        #expect(bad["refused_rows"] as? Int == 1 && (bad["trouble"] as? [String] ?? []).contains("1 row(s) refused by the hub"), "\(bad)")
        let silent = try #require(byCode["06910"])
        #expect(silent["seen_at"] == nil && (silent["trouble"] as? [String] ?? []).contains { $0.hasPrefix("never synced") }, "\(silent)")

        let table = try Programs.run("synchub", ["offices", "--config", cluster.hub.config]).output
        #expect(table.contains("06910") && table.contains("never") && table.contains("06913") && table.contains(" ok"), "\(table)")

        // What an office says of itself never stops its pull, nor is taken unbounded.
        let token = try String(contentsOfFile: healthy.credentialPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let headers = ["Authorization": "Bearer \(token)", WireVersion.protocolHeader: String(WireVersion.protocolVersion),
                       WireVersion.schemaHeader: "2"]
        for junk in ["not base64 at all", Data("{\"unsent\": -5}".utf8).base64EncodedString(), String(repeating: "A", count: 4000)] {
            let pulled = try RawHTTP.send("GET", cluster.hub.url + "/v1/pull?after=0&limit=1", headers: headers.merging([OfficeFacts.header: junk]) { $1 })
            #expect(pulled.status == 200, "\(pulled.body)")
        }
        let forged = OfficeFacts(version: String(repeating: "v", count: 100), unsent: 3, oldestUnsentS: -7, refusedRows: 0,
                                 clockOffsetS: 1e300, freeDiskBytes: -1, rulesVersion: 1, lastError: String(repeating: "e", count: 1000))
        #expect(try RawHTTP.send("GET", cluster.hub.url + "/v1/pull?after=0&limit=1",
                                 headers: headers.merging([OfficeFacts.header: forged.headerValue]) { $1 }).status == 200)
        #expect(eventually(timeout: 20) {
            try SQLiteShell.run(cluster.hub.database, "SELECT facts FROM _sync_hub_offices WHERE replica = '06913';").contains("\"unsent\":3")
        }, "the forged facts are written, bounded")
        let kept = try SQLiteShell.run(cluster.hub.database, "SELECT facts FROM _sync_hub_offices WHERE replica = '06913';")
        let stored = try JSONDecoder().decode(OfficeFacts.self, from: Data(kept.utf8))
        #expect(stored.version.count <= 32 && (stored.lastError?.count ?? 0) <= 300 && stored.oldestUnsentS == 0
                && stored.freeDiskBytes == 0 && stored.clockOffsetS == 1e9 && stored.unsent == 3, "bounded: \(kept.prefix(300))")
    }
}
