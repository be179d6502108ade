import Foundation
import MergeEngine
import Register
import Replica
import SyncProtocol
import Testing
import TestSupport

/// A hub on PostgreSQL whose district staff write the register with psql, in transactions
/// of their own that commit in any order: every committed write reaches the offices
/// (issue 28). A capture sequence number is taken when a statement runs, not when its
/// transaction commits, so these sessions commit out of that order on purpose. Beside them,
/// what a psql session holding the hub's write lock shows of the per-credential request limit.
@Suite struct PostgresStaffSQLTests {
    /// A hub on a new PostgreSQL database with commune 30001 in its units, and the office of
    /// that commune syncing with it.
    final class District {
        let url: String
        let directory: TemporaryDirectory
        let hub: HubNode
        let office: CommuneNode

        init(label: String, rules: String? = nil, limits: String = "") throws {
            url = try PostgresTestServer.newDatabase()
            directory = try TemporaryDirectory(label)
            hub = try HubNode(directory: directory, rules: rules)
            try hub.configure("[store]\nkind = \"postgresql\"\nurl = \"\(url)\"\npool_size = 4\n" + limits)
            try hub.start()
            office = try CommuneNode(code: "30001", directory: directory, hubURL: hub.url, interval: 0.3)
            try sql("INSERT INTO units(id, code, name, kind) VALUES ('unit-30001', '30001', 'Xã Quảng Lợi', 'commune');")
            try hub.issueCredential(for: "30001", into: office.credentialPath)
        }

        deinit {
            office.stop()
            hub.stop()
        }

        /// SQL as district staff run it with psql; the output's rows, one per line.
        @discardableResult
        func sql(_ text: String) throws -> String {
            try PostgresTestServer.psql(url, text).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// A psql session of its own, left open between statements.
        func session(_ name: String) throws -> PsqlSession { try PsqlSession(url, log: directory.path("\(name).log")) }

        /// Waits until `count` sessions of this database are inside a transaction they have not ended.
        func openTransactions(_ count: Int) -> Bool {
            eventually {
                try sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'") == "\(count)"
            }
        }

        /// What the office's replica holds: `query`'s rows, one per line.
        func atOffice(_ query: String) throws -> String { try SQLiteShell.run(office.database, query) }
    }

    @Test func aStaffEditCommittedAfterALaterOneWasFedStillReachesTheOffice() throws {
        let district = try District(label: "pg-staff-order")
        try district.sql("""
            INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-30001', 'Nguyễn Văn Một'), ('p2', 'unit-30001', 'Trần Thị Hai');
            """)
        try district.office.start()
        #expect(eventually { try district.atOffice("SELECT count(*) FROM persons;") == "2" })

        // A takes its capture number first and keeps its transaction open...
        let first = try district.session("session-a")
        first.send("BEGIN; UPDATE persons SET note = 'A' WHERE id = 'p1';")
        #expect(district.openTransactions(1), "session A did not get into its transaction")
        // ...while B, numbered after it, commits and is folded and fed.
        try district.sql("UPDATE persons SET note = 'B' WHERE id = 'p2';")
        #expect(eventually { try district.atOffice("SELECT note FROM persons WHERE id = 'p2';") == "B" })
        first.send("COMMIT;")
        #expect(first.close() == 0)

        // The office syncs every 0.3 s and compares digests only every 15 minutes: A's edit
        // arrives through the feed, or not at all.
        #expect(eventually { try district.atOffice("SELECT note FROM persons WHERE id = 'p1';") == "A" },
                "the office never received A's edit, committed after B's was fed")
        #expect(try district.sql("SELECT count(*) FROM _sync_hub_feed WHERE pk = 'p1' AND col = 'note' AND val = 'tA'") == "1")
        #expect(try district.sql("SELECT origin, counter FROM _sync_hub_feed GROUP BY 1, 2 HAVING count(*) > 1").isEmpty)
    }

    @Test func aStaffEditCommittedAfterTheHubsOwnDistrictWriteStillReachesTheOffice() throws {
        let district = try District(label: "pg-staff-hub-order", rules: "version = 2\n[seats]\nrule = \"district-wins\"\n")
        try district.sql("""
            INSERT INTO persons(id, commune_id, full_name) VALUES ('p-a', 'unit-30001', 'Nguyễn Văn A'), ('p-b', 'unit-30001', 'Trần Văn B');
            INSERT INTO positions(id, commune_id, unit_id, title_id, seat_no, capacity) VALUES ('seat-ct', 'unit-30001', 'unit-30001', 'chu_tich_ubnd', 1, 1);
            """)
        try district.office.start()
        #expect(eventually { try district.atOffice("SELECT count(*) FROM persons;") == "2" })
        #expect(eventually { try district.atOffice("SELECT count(*) FROM positions;") == "1" })
        district.office.stop()

        // Offline, the office fills the seat; the district fills it too, with its own decision.
        try SQLiteShell.run(district.office.database, """
            INSERT INTO assignments(id, commune_id, person_id, position_id, kind, decision_no, decision_date, start_date)
            VALUES ('as-commune', 'unit-30001', 'p-a', 'seat-ct', 'primary', '31/QĐ-UBND', '2024-05-01', '2024-05-01');
            """)
        try district.sql("""
            INSERT INTO assignments(id, commune_id, person_id, position_id, kind, decision_no, decision_date, start_date)
            VALUES ('as-district', 'unit-30001', 'p-b', 'seat-ct', 'primary', '7/QĐ-UBND huyện', '2024-03-01', '2024-03-01');
            """)
        // Staff edit a person in a transaction they leave open: it holds its capture number...
        let staff = try district.session("staff")
        staff.send("BEGIN; UPDATE persons SET note = 'kept open' WHERE id = 'p-b';")
        #expect(district.openTransactions(1), "the staff session did not get into its transaction")
        // ...while the office's push makes the hub end the loser of the seat (a district write
        // of its own, numbered after the staff edit), folded and fed at once.
        try district.office.start()
        #expect(eventually { try district.atOffice("SELECT end_date FROM assignments WHERE id = 'as-commune';") == "2024-05-01" })
        staff.send("COMMIT;")
        #expect(staff.close() == 0)

        #expect(eventually { try district.atOffice("SELECT note FROM persons WHERE id = 'p-b';") == "kept open" },
                "the office never received the staff edit committed after the hub's own district write was fed")
        #expect(try district.sql("SELECT origin, counter FROM _sync_hub_feed GROUP BY 1, 2 HAVING count(*) > 1").isEmpty)
    }

    /// The office's requests waiting for the store (here: for the write lock, held by a psql
    /// session) while its syncd is killed: once their connections are gone they no longer
    /// count against its limit, and the next syncd's request is taken, not refused with 429.
    @Test func requestsOfAClientThatIsGoneNoLongerCountAgainstItsLimit() throws {
        let district = try District(label: "pg-gone-client", limits: "[limits]\nmax_requests_per_caller = 2")
        let token = try String(contentsOfFile: district.office.credentialPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let head = "Connection: close\r\nAuthorization: Bearer \(token)\r\n\(WireVersion.protocolHeader): \(WireVersion.protocolVersion)\r\n"
            + "\(WireVersion.schemaHeader): \(RegisterSchema.current.version)\r\n"
        func pull() throws -> RawSocket {
            let socket = try RawSocket(port: district.hub.port)
            socket.send("GET /v1/pull?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\(head)\r\n")
            return socket
        }
        #expect(try pull().read(timeout: 5).text.hasPrefix("HTTP/1.1 200"))
        // A staff edit to feed, and the hub's write lock held: every pull now waits for it.
        try district.sql("INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-30001', 'Nguyễn Văn Một');")
        let holder = try district.session("lock-holder")
        holder.send("SELECT pg_advisory_lock(\(0x436F_6D6D_756E_6553));")
        #expect(eventually {
            try district.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted") == "1"
        })
        var waiting = [try pull(), try pull()]
        Thread.sleep(forTimeInterval: 0.5)
        #expect(waiting.allSatisfy { $0.read(timeout: 0.2).text.isEmpty }, "the pulls did not wait for the write lock")
        // Their client dies: the hub still waits on their behalf, but they no longer count.
        waiting.removeAll()
        Thread.sleep(forTimeInterval: 0.3)
        let next = try pull()
        let early = next.read(timeout: 1.5).text
        #expect(!early.hasPrefix("HTTP/1.1 429"), "a new request was refused for requests whose client is gone: \(early.prefix(300))")
        #expect(holder.close() == 0)
        let answer = early + next.read(timeout: 10).text
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(300))")
    }
}
