import Foundation
import SyncProtocol
import Testing
import TestSupport

/// Administrative change with real processes: a hub, commune offices run by `syncctl sync`
/// and `syncd`, district staff running `synchub units`, driven by the national mapping file
/// (Deploy/data/commune_mapping_2025.csv).
@Suite(.serialized) struct ReorganisationTests {
    static let mapping = Programs.packageRoot.appendingPathComponent("Deploy/data/commune_mapping_2025.csv").path
    static let register = ["persons", "positions", "assignments", "evaluations", "trainings"]

    /// Two persons, a seat held by the first, and a rating of the second, typed at `office`.
    static func typeRecords(at office: CommuneNode, unit: String) throws {
        let code = office.code
        try SQLiteShell.run(office.database, """
            INSERT INTO persons(id, commune_id, full_name, citizen_id, phone) VALUES
                ('p-\(code)-1', '\(unit)', 'Người một \(code)', '0220\(code)01', '0900'),
                ('p-\(code)-2', '\(unit)', 'Người hai \(code)', '0220\(code)02', '0900');
            INSERT INTO positions(id, commune_id, unit_id, title_id, seat_no, capacity) VALUES
                ('pos-\(code)', '\(unit)', '\(unit)', 'title-chu-tich', 1, 1);
            INSERT INTO assignments(id, commune_id, person_id, position_id, kind, start_date) VALUES
                ('a-\(code)', '\(unit)', 'p-\(code)-1', 'pos-\(code)', 'primary', '2021-06-01');
            INSERT INTO evaluations(id, commune_id, person_id, year, proposed_rating) VALUES
                ('e-\(code)', '\(unit)', 'p-\(code)-2', 2024, 'good');
            """)
    }

    /// Ids of the register rows of a file, as `table/id`, those of `unit` only when given.
    static func rows(_ database: String, unit: String? = nil) throws -> Set<String> {
        try rows({ try SQLiteShell.run(database, $0) }, unit: unit)
    }

    /// The same, read with `sql` (a hub's SQLite file or PostgreSQL database).
    static func rows(_ sql: (String) throws -> String, unit: String? = nil) throws -> Set<String> {
        var found: Set<String> = []
        for table in register {
            let filter = unit.map { " WHERE commune_id = '\($0)'" } ?? ""
            let ids = try sql("SELECT id FROM \(table)\(filter);")
            found.formUnion(ids.split(separator: "\n").map { "\(table)/\($0)" })
        }
        return found
    }

    static func sync(_ office: CommuneNode) throws -> (status: Int32, output: String) { try office.syncOnce() }

    static func hubValue(_ cluster: SyncCluster, _ sql: String) throws -> String { try SQLiteShell.run(cluster.hub.database, sql) }

    /// Huyện Đầm Hà's nine communes of 2025 become two on 2025-07-01: Xã Quảng Tân (06913)
    /// goes on and takes three; the new Xã Đầm Hà takes five under code 06895, which was
    /// Thị trấn Đầm Hà's. Three offices are offline with edits when it happens.
    @Test(arguments: ["sqlite", "postgresql"])
    func damHaNineCommunesBecomeTwoWhileOfficesAreOffline(store: String) throws {
        let hubs = try HubSide(store, label: "reorganise-damha")
        let codes = ["06895", "06898", "06901", "06904", "06910", "06913", "06916", "06917", "06919"]
        try hubs.sql("""
            INSERT INTO units(id, code, name, kind, parent_id) VALUES
                ('hamlet-06916-1', '06916-01', 'Thôn Đầm Buôn', 'hamlet', 'unit-06916'),
                ('hamlet-06898-1', '06898-01', 'Thôn Quảng Lâm 1', 'hamlet', 'unit-06898');
            INSERT INTO titles(id, code, name_vi, category, level) VALUES ('title-truong-thon', 'truong_thon', 'Trưởng thôn', 'nonspecialised_hamlet', 'hamlet');
            """)
        var offices: [String: CommuneNode] = [:]
        for code in codes {
            let office = try hubs.office(code, number: offices.count)
            offices[code] = office
            #expect(try Self.sync(office).status == 0)
            try Self.typeRecords(at: office, unit: office.unit)
            if code == "06916" {
                // The head of Thôn Đầm Buôn: a hamlet seat, which follows its hamlet into the new commune.
                try SQLiteShell.run(office.database, """
                    INSERT INTO positions(id, commune_id, unit_id, title_id, seat_no, capacity) VALUES
                        ('pos-06916-thon', 'unit-06916', 'hamlet-06916-1', 'title-truong-thon', 1, 1);
                    INSERT INTO assignments(id, commune_id, person_id, position_id, kind, start_date) VALUES
                        ('a-06916-thon', 'unit-06916', 'p-06916-2', 'pos-06916-thon', 'primary', '2022-01-01');
                    """)
            }
            let round = try Self.sync(office)
            #expect(round.status == 0, "\(code): \(round.output)")
        }
        #expect(try hubs.sql("SELECT count(*) FROM persons;") == "18")

        // Offline when the district reorganises: each types an edit and a new person.
        let offline = ["06895", "06898", "06916"]
        for code in offline {
            try SQLiteShell.run(offices[code]!.database, """
                UPDATE persons SET phone = '0911-\(code)' WHERE id = 'p-\(code)-1';
                INSERT INTO persons(id, commune_id, full_name) VALUES ('p-\(code)-late', 'unit-\(code)', 'Typed offline at \(code)');
                INSERT INTO trainings(id, commune_id, person_id, field, course) VALUES
                    ('t-\(code)-late', 'unit-\(code)', 'p-\(code)-2', 'it', 'Tin học văn phòng');
                """)
        }

        let reorganised = try Programs.run(
            "synchub", ["units", "reorganise", "--config", hubs.nodes[0].config, "--mapping", Self.mapping, "--on", "2025-07-01"])
        #expect(reorganised.status == 0, "\(reorganised.output)")
        #expect(reorganised.output.contains("created  06895 Xã Đầm Hà"), "\(reorganised.output)")
        #expect(reorganised.output.contains("goes on  06913 Xã Quảng Tân"), "\(reorganised.output)")
        let newDamHa = try hubs.sql("SELECT id FROM units WHERE code = '06895' AND effective_to IS NULL;")
        #expect(!newDamHa.isEmpty && newDamHa != "unit-06895")
        #expect(try hubs.sql("SELECT count(*) FROM units WHERE effective_to = '2025-06-30' AND successor_id IS NOT NULL AND kind <> 'hamlet';") == "8")
        // Each hamlet that followed its commune keeps where it was until then (UnitLineage).
        #expect(try hubs.sql("SELECT parent_id || ' ' || successor_id || ' ' || code FROM units WHERE id = 'hamlet-06916-1@2025-06-30';")
            == "unit-06916 hamlet-06916-1 06916-01")
        #expect(try hubs.sql("SELECT count(*) FROM units WHERE effective_from = '2025-07-01';") == "1")
        #expect(try hubs.sql("SELECT parent_id FROM units WHERE id = 'hamlet-06916-1';") == newDamHa)
        #expect(try hubs.sql("SELECT parent_id FROM units WHERE id = 'hamlet-06898-1';") == "unit-06913")

        // Offices that were online learn it at their next round: refused, told where to go.
        let online = try Self.sync(offices["06901"]!)
        #expect(online.status != 0)
        #expect(online.output.contains("Xã Quảng An (06901) was in force until 2025-06-30; from 2025-07-01 its records belong to Xã Quảng Tân (06913)"), "\(online.output)")
        #expect(online.output.contains("Xã Quảng Tân (06913)"), "\(online.output)")
        // The offline ones come back: what they typed is taken, then they are refused too.
        for code in offline {
            let late = try Self.sync(offices[code]!)
            #expect(late.status != 0, "\(code): \(late.output)")
            #expect(late.output.contains("was in force until 2025-06-30"), "\(code): \(late.output)")
            let status = try offices[code]!.status()
            #expect(status.json["unacked_changes"] as? Int == 0, "\(code): \(status.json)")
            #expect(status.exitCode != 0, "an ended office is never healthy: \(status.json)")
        }

        // Every record is in exactly one successor, and nothing typed is lost.
        let all = try Self.rows(hubs.sql)
        #expect(all.count == 9 * 5 + 3 * 2 + 2)  // 9 offices' records; a person and a training typed offline at 3; the hamlet seat
        let inQuangTan = try Self.rows(hubs.sql, unit: "unit-06913")
        let inDamHa = try Self.rows(hubs.sql, unit: newDamHa)
        #expect(inQuangTan.isDisjoint(with: inDamHa))
        #expect(inQuangTan.union(inDamHa) == all)
        #expect(try hubs.sql("SELECT id FROM trainings WHERE commune_id = '\(newDamHa)' ORDER BY id;") == "t-06895-late\nt-06916-late")
        for code in ["06898", "06901", "06910", "06913"] { #expect(inQuangTan.contains("persons/p-\(code)-1")) }
        for code in ["06895", "06904", "06916", "06917", "06919"] { #expect(inDamHa.contains("persons/p-\(code)-1")) }
        #expect(inDamHa.contains("persons/p-06916-late") && inDamHa.contains("persons/p-06895-late"))
        #expect(inDamHa.contains("positions/pos-06916-thon") && inDamHa.contains("assignments/a-06916-thon"))
        #expect(inQuangTan.contains("persons/p-06898-late"))
        for code in offline {
            #expect(try hubs.sql("SELECT phone FROM persons WHERE id = 'p-\(code)-1';") == "0911-\(code)")
        }

        // Xã Quảng Tân's office goes on and receives the three communes' records whole.
        let quangTan = offices["06913"]!
        try quangTan.start()
        #expect(eventually { try Self.rows(quangTan.database) == inQuangTan }, "\(String(describing: try? Self.rows(quangTan.database).symmetricDifference(inQuangTan)))")
        #expect(try SQLiteShell.run(quangTan.database, "SELECT full_name || '|' || phone FROM persons WHERE id = 'p-06898-1';")
            == "Người một 06898|0911-06898")
        #expect(eventually { try quangTan.status().exitCode == 0 }, "\(String(describing: try? quangTan.status().json))")

        // The new Xã Đầm Hà's office: code 06895 again, but a replica id never used before.
        let second = try TemporaryDirectory("reorganise-damha-new")
        let damHa = try hubs.office("06895", number: 1, in: second)
        #expect(try String(contentsOfFile: damHa.credentialPath, encoding: .utf8).hasPrefix("06895-2."))
        try damHa.start()
        #expect(eventually { try Self.rows(damHa.database) == inDamHa }, "\(String(describing: try? Self.rows(damHa.database).symmetricDifference(inDamHa)))")
        #expect(try SQLiteShell.run(damHa.database, "SELECT phone FROM persons WHERE id = 'p-06916-1';") == "0911-06916")
        #expect(eventually { try damHa.status().exitCode == 0 }, "\(String(describing: try? damHa.status().json))")
        #expect(try damHa.status().json["replica"] as? String == "06895-2")
        #expect(try damHa.status().json["commune_name"] as? String == "Xã Đầm Hà")
        #expect(try offices["06895"]!.status().json["commune_name"] as? String == "Thị trấn Đầm Hà", "the old office still says what it was")
        // History is kept: before the date, the old units and who held what there; after it,
        // the same seats under the successor.
        func report(_ date: String) throws -> [[String: Any]] {
            let run = try Programs.run("syncctl", ["report", "--database", damHa.database, "--as-of", date, "--json"])
            #expect(run.status == 0, "\(run.output)")
            let object = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
            return object?["units"] as? [[String: Any]] ?? []
        }
        let before = try report("2025-06-30")
        #expect(before.compactMap { $0["code"] as? String }.sorted() == codes, "\(before)")
        let oldDamHa = before.first { $0["code"] as? String == "06916" }
        #expect(oldDamHa?["name"] as? String == "Xã Đầm Hà" && oldDamHa?["effective_to"] as? String == "2025-06-30")
        let oldHolders = oldDamHa?["holders"] as? [[String: Any]] ?? []
        #expect(oldHolders.compactMap { $0["person"] as? String } == ["Người một 06916", "Người hai 06916"], "\(oldHolders)")
        // The hamlet seat shows under the commune the hamlet was in then, its hamlet named.
        #expect(oldHolders.last?["seat_unit"] as? String == "Thôn Đầm Buôn (06916-01)", "\(oldHolders)")
        let after = try report("2025-07-01")
        #expect(after.compactMap { $0["code"] as? String }.sorted() == ["06895", "06913"], "\(after)")
        let merged = after.first { $0["code"] as? String == "06895" }
        #expect(Set((merged?["holders"] as? [[String: Any]])?.compactMap { $0["person"] as? String } ?? [])
            == Set(["06895", "06904", "06916", "06917", "06919"].map { "Người một \($0)" } + ["Người hai 06916"]))

        // The new office writes; its dots are its own, not the old township's.
        try SQLiteShell.run(damHa.database, "UPDATE persons SET phone = '0922' WHERE id = 'p-06904-1';")
        #expect(eventually { try hubs.sql("SELECT phone FROM persons WHERE id = 'p-06904-1';") == "0922" })
        #expect(eventually { try damHa.status().json["unacked_changes"] as? Int == 0 })
    }

    /// Thành phố Hà Giang (024): Phường Quang Trung is split between Phường Hà Giang 2 (its
    /// default successor, under Phường Trần Phú's old code 00691) and Phường Hà Giang 1; the
    /// district places one residential group (its seat's holder goes with it) and one person
    /// in Hà Giang 1.
    @Test func haGiangSplitPlacesWhatTheDistrictSaysAndTheRestGoesToTheDefault() throws {
        let cluster = try SyncCluster(label: "reorganise-split")
        let wards = [("00688", "Phường Quang Trung"), ("00691", "Phường Trần Phú"), ("00692", "Phường Ngọc Hà"),
                     ("00694", "Phường Nguyễn Trãi"), ("00697", "Phường Minh Khai"), ("00700", "Xã Ngọc Đường"),
                     ("00946", "Xã Phương Độ"), ("00949", "Xã Phương Thiện")]
        try SQLiteShell.run(cluster.hub.database, """
            INSERT INTO units(id, code, name, kind, parent_id, effective_from) VALUES ('unit-024', '024', 'Thành phố Hà Giang', 'district', NULL, '2010-01-01');
            \(wards.map { "INSERT INTO units(id, code, name, kind, parent_id, effective_from) VALUES ('unit-\($0.0)', '\($0.0)', '\($0.1)', '\($0.1.hasPrefix("Xã") ? "commune" : "ward")', 'unit-024', '2010-01-01');" }.joined(separator: "\n"))
            INSERT INTO units(id, code, name, kind, parent_id) VALUES
                ('group-00688-1', '00688-01', 'Tổ 1', 'residential_group', 'unit-00688'),
                ('group-00688-2', '00688-02', 'Tổ 2', 'residential_group', 'unit-00688');
            """)
        let quangTrung = try cluster.addCommune("00688")
        #expect(try Self.sync(quangTrung).status == 0)
        try Self.typeRecords(at: quangTrung, unit: "unit-00688")
        try SQLiteShell.run(quangTrung.database, """
            INSERT INTO positions(id, commune_id, unit_id, title_id, seat_no, capacity) VALUES
                ('pos-group-2', 'unit-00688', 'group-00688-2', 'title-to-truong', 1, 1);
            INSERT INTO persons(id, commune_id, full_name) VALUES ('p-00688-3', 'unit-00688', 'Người ba');
            INSERT INTO assignments(id, commune_id, person_id, position_id, kind, start_date) VALUES
                ('a-group-2', 'unit-00688', 'p-00688-3', 'pos-group-2', 'primary', '2022-01-01');
            """)
        #expect(try Self.sync(quangTrung).status == 0)
        // Offline at the split: an edit of a person who goes with Tổ 2.
        try SQLiteShell.run(quangTrung.database, "UPDATE persons SET phone = '0933' WHERE id = 'p-00688-3';")

        // A place naming nothing of the split is refused, and nothing changes.
        let typo = try Programs.run("synchub", [
            "units", "reorganise", "--config", cluster.hub.config, "--mapping", Self.mapping, "--on", "2025-07-01", "--place", "00688-09=00694",
        ])
        #expect(typo.status != 0 && typo.output.contains("--place 00688-09=...: no hamlet"), "\(typo.output)")
        #expect(try Self.hubValue(cluster, "SELECT count(*) FROM units WHERE effective_to IS NOT NULL AND code LIKE '006%';") == "0")
        let split = try Programs.run("synchub", [
            "units", "reorganise", "--config", cluster.hub.config, "--mapping", Self.mapping, "--on", "2025-07-01",
            "--place", "00688-02=00694", "--place", "p-00688-2=00694",
        ])
        #expect(split.status == 0, "\(split.output)")
        #expect(split.output.contains("review   split communes 00688"), "\(split.output)")
        let two = try Self.hubValue(cluster, "SELECT id FROM units WHERE code = '00691' AND effective_to IS NULL;")
        let one = try Self.hubValue(cluster, "SELECT id FROM units WHERE code = '00694' AND effective_to IS NULL;")
        #expect(try Self.hubValue(cluster, "SELECT name FROM units WHERE id = '\(two)';") == "Phường Hà Giang 2")
        #expect(try Self.hubValue(cluster, "SELECT successor_id FROM units WHERE id = 'unit-00688';") == two)
        #expect(try Self.hubValue(cluster, "SELECT parent_id FROM units WHERE id = 'group-00688-1';") == two)
        #expect(try Self.hubValue(cluster, "SELECT parent_id FROM units WHERE id = 'group-00688-2';") == one)
        #expect(try Self.hubValue(cluster, "SELECT name FROM units WHERE code = '00700' AND effective_to IS NULL;") == "Xã Ngọc Đường")

        // The split waits on the review desk: one item, a side per successor with what it got.
        let reviewer = cluster.directory.path("reviewer.credential")
        try cluster.hub.issueCredential(for: "phong-noi-vu", into: reviewer, reviewer: true)
        let desk = ["--hub", cluster.hub.url, "--credential-file", reviewer]
        let listed = try Programs.run("syncctl", ["review", "list", "--json"] + desk)
        let items = try JSONDecoder().decode([ConflictView].self, from: Data(listed.output.utf8)).filter { $0.kind == "placement" }
        #expect(items.map(\.id) == ["units/unit-00688/*placement"], "\(listed.output)")
        let sides = items.first?.sides.compactMap { $0.value?.description } ?? []
        #expect(sides.contains { $0.hasPrefix("Phường Hà Giang 2 (00691), the default successor: received 1 assignments, 1 persons, 1 positions") }, "\(sides)")
        #expect(sides.contains { $0.hasPrefix("Phường Hà Giang 1 (00694): received 1 assignments, 1 evaluations, 2 persons, 1 positions") }, "\(sides)")
        let confirmed = try Programs.run("syncctl", ["review", "resolve", "units/unit-00688/*placement", "--pick", two, "--reason", "đã kiểm tra"] + desk)
        #expect(confirmed.status == 0, "\(confirmed.output)")
        let open = try Programs.run("syncctl", ["review", "list", "--json"] + desk)
        #expect(try JSONDecoder().decode([ConflictView].self, from: Data(open.output.utf8)).filter { $0.kind == "placement" }.isEmpty)

        let late = try Self.sync(quangTrung)
        #expect(late.output.contains("Phường Hà Giang 2 (00691)"), "\(late.output)")
        #expect(try quangTrung.status().json["unacked_changes"] as? Int == 0)

        let inOne = try Self.rows(cluster.hub.database, unit: one)
        let inTwo = try Self.rows(cluster.hub.database, unit: two)
        // Tổ 2's seat and its holder (placed by the hamlet), and a person placed by name
        // with their rating; the rest with the default successor.
        #expect(inOne == ["persons/p-00688-3", "positions/pos-group-2", "assignments/a-group-2", "persons/p-00688-2", "evaluations/e-00688"])
        #expect(inTwo == ["persons/p-00688-1", "positions/pos-00688", "assignments/a-00688"])
        #expect(try Self.hubValue(cluster, "SELECT phone FROM persons WHERE id = 'p-00688-3';") == "0933")

        // Both successors' offices bootstrap with what the split gave them.
        let second = try TemporaryDirectory("reorganise-split-new")
        for (code, expected) in [("00691", inTwo), ("00694", inOne)] {
            let office = try CommuneNode(code: code, directory: second, hubURL: cluster.hub.url, interval: 0.3)
            try cluster.hub.issueCredential(for: code, into: office.credentialPath)
            try office.start()
            defer { office.stop() }
            #expect(eventually { try Self.rows(office.database) == expected }, "\(code)")
            #expect(eventually { try office.status().exitCode == 0 }, "\(code): \(String(describing: try? office.status().json))")
        }
    }

    /// Collision 5: the district moves a person to another commune while the old office edits
    /// them offline.
    @Test func aRotatedPersonMovesWholeAndTheOldOfficesOfflineEditFollows() throws {
        let cluster = try SyncCluster(label: "rotation")
        let old = try cluster.addCommune("06916", digestInterval: 0.5)
        let new = try cluster.addCommune("06913", digestInterval: 0.5)
        for office in [old, new] { #expect(try Self.sync(office).status == 0) }
        try Self.typeRecords(at: old, unit: old.unit)
        try SQLiteShell.run(old.database, """
            INSERT INTO trainings(id, commune_id, person_id, field, course) VALUES ('t-1', 'unit-06916', 'p-06916-1', 'state_management', 'QLNN');
            INSERT INTO evaluations(id, commune_id, person_id, year, proposed_rating) VALUES ('e-1', 'unit-06916', 'p-06916-1', 2024, 'excellent');
            """)
        #expect(try Self.sync(old).status == 0)
        // Offline: the old office corrects the person's phone, and records a degree.
        try SQLiteShell.run(old.database, "UPDATE persons SET phone = '0944', degree = 'university' WHERE id = 'p-06916-1';")

        let moved = try Programs.run("synchub", [
            "units", "move-person", "--config", cluster.hub.config, "--person", "p-06916-1", "--to", "06913", "--on", "2026-01-15",
        ])
        #expect(moved.status == 0, "\(moved.output)")
        let history: Set<String> = ["persons/p-06916-1", "assignments/a-06916", "evaluations/e-1", "trainings/t-1"]
        #expect(try Self.rows(cluster.hub.database, unit: "unit-06913") == history)
        #expect(try Self.hubValue(cluster, "SELECT end_date || '|' || end_reason FROM assignments WHERE id = 'a-06916';")
            == "2026-01-15|rotated to Xã Quảng Tân (06913) on 2026-01-15")
        #expect(try Self.hubValue(cluster, "SELECT commune_id FROM trainings WHERE id = 't-1';") == "unit-06913")

        // The new office receives the person whole; the old one sends its edit, then drops them.
        #expect(try Self.sync(new).status == 0)
        #expect(try Self.rows(new.database) == history)
        #expect(try SQLiteShell.run(new.database, "SELECT full_name FROM persons WHERE id = 'p-06916-1';") == "Người một 06916")
        #expect(try SQLiteShell.run(new.database, "SELECT count(*) FROM trainings WHERE person_id = 'p-06916-1';") == "1")
        // The new owner records the degree too, differently, before the old office is back.
        try SQLiteShell.run(new.database, "UPDATE persons SET degree = 'master' WHERE id = 'p-06916-1';")
        #expect(try Self.sync(new).status == 0)
        let back = try Self.sync(old)
        #expect(back.status == 0, "\(back.output)")
        #expect(try SQLiteShell.run(old.database, "SELECT count(*) FROM persons WHERE id = 'p-06916-1';") == "0")
        #expect(try SQLiteShell.run(old.database, "SELECT count(*) FROM _sync_fields WHERE pk IN ('p-06916-1', 'a-06916', 'e-1', 't-1');") == "0")
        #expect(try Self.rows(old.database) == ["persons/p-06916-2", "positions/pos-06916", "evaluations/e-06916"])
        #expect(try Self.hubValue(cluster, "SELECT phone FROM persons WHERE id = 'p-06916-1';") == "0944")
        // The two degrees met: a conflict of the field, with both values, under the rules.
        let degree = try Self.hubValue(cluster, "SELECT kind || '|' || sides FROM _sync_conflicts WHERE tbl = 'persons' AND pk = 'p-06916-1' AND col = 'degree';")
        #expect(degree.hasPrefix("field|") && degree.contains("university") && degree.contains("master"), "\(degree)")
        #expect(try Self.sync(new).status == 0)
        #expect(try SQLiteShell.run(new.database, "SELECT phone || '|' || degree FROM persons WHERE id = 'p-06916-1';")
            == (try Self.hubValue(cluster, "SELECT '0944|' || degree FROM persons WHERE id = 'p-06916-1';")))
        // Both offices agree with the hub by content (anti-entropy compares digests).
        for office in [old, new] {
            try office.start()
            defer { office.stop() }
            #expect(eventually {
                let status = try office.status()
                return status.exitCode == 0 && status.json["last_digest_match_at"] is String && status.json["digest_differing_rows"] as? Int == 0
            }, "\(office.code): \(String(describing: try? office.status().json))")
        }
    }
}

/// The hub side of a test: one synchub on its SQLite file, or two synchub processes on one
/// PostgreSQL database (offices take them in turn), holding Huyện Đầm Hà's units as
/// district staff load them (`Deploy/demo/dam_ha_communes.csv`, ids `unit-CODE`).
final class HubSide {
    let directory: TemporaryDirectory
    let nodes: [HubNode]
    let url: String?
    /// Offices made here, stopped with the hubs.
    private(set) var offices: [CommuneNode] = []

    init(_ store: String, label: String) throws {
        let directory = try TemporaryDirectory(label)
        self.directory = directory
        if store == "postgresql" {
            let url = try PostgresTestServer.newDatabase()
            nodes = try ["hub-a", "hub-b"].map { name in
                let hub = try HubNode(directory: directory, name: name)
                try hub.configure("[store]\nkind = \"postgresql\"\nurl = \"\(url)\"\npool_size = 4")
                return hub
            }
            self.url = url
        } else {
            nodes = [try HubNode(directory: directory)]
            url = nil
        }
        for node in nodes { try node.start() }
        let csv = try String(contentsOfFile: Programs.packageRoot.appendingPathComponent("Deploy/demo/dam_ha_communes.csv").path, encoding: .utf8)
        let units = csv.split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        try sql("INSERT INTO units(id, code, name, kind) VALUES ('unit-200', '200', 'Huyện Đầm Hà', 'district');\n" + units.map { fields in
            let kind = fields[6] == "Xã" ? "commune" : fields[6] == "Phường" ? "ward" : "township"
            let ended = fields[7] == "1" ? "NULL" : "'2019-12-31'"
            return "INSERT INTO units(id, code, name, kind, parent_id, effective_from, effective_to) VALUES "
                + "('unit-\(fields[4])', '\(fields[4])', '\(fields[5])', '\(kind)', 'unit-200', '2008-01-01', \(ended));"
        }.joined(separator: "\n"))
    }

    deinit {
        for office in offices { office.stop() }
        for node in nodes { node.stop() }
    }

    /// SQL as district staff run it on the hub's store; the output's rows, one per line.
    @discardableResult
    func sql(_ text: String) throws -> String {
        if let url { return try PostgresTestServer.psql(url, text).trimmingCharacters(in: .whitespacesAndNewlines) }
        return try SQLiteShell.run(nodes[0].database, text)
    }

    /// The office of commune `code`, the `number`-th: it syncs with the hubs in turn. Its
    /// files go in `directory` when given (a second office under the same code).
    func office(_ code: String, number: Int, in directory: TemporaryDirectory? = nil) throws -> CommuneNode {
        let office = try CommuneNode(
            code: code, directory: directory ?? self.directory, hubURL: nodes[number % nodes.count].url, interval: 0.3)
        try nodes[0].issueCredential(for: code, into: office.credentialPath)
        offices.append(office)
        return office
    }
}
