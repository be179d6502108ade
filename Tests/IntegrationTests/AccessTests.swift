import Foundation
import MergeEngine
import Register
import Replica
import SyncClient
import SyncCore
import Testing
import TestSupport

/// Requests without the right credential, or pushing outside the commune's scope, are
/// refused with 401/403 and leave the hub exactly as it was.
@Suite(.serialized) struct AccessTests {
    func hubState(_ cluster: SyncCluster) throws -> String {
        try SQLiteShell.run(cluster.hub.database, ".dump")
    }

    @Test func wrongOrMissingCredentialsAreRefusedAndChangeNothing() throws {
        let cluster = try SyncCluster(label: "access")
        let commune = try cluster.addCommune("06913")
        #expect(try commune.syncOnce().status == 0)
        try SQLiteShell.run(commune.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-06913', 'An');")
        Thread.sleep(forTimeInterval: 2.5)  // let the hub's own periodic fold settle first
        let before = try hubState(cluster)
        for credential in ["", "06913.0000", "06916.\(String(repeating: "ab", count: 32))", "garbage"] {
            let replica = try Replica(openingExisting: commune.database)
            let session = try SyncSession(replica: replica, hubURL: cluster.hub.url, credential: credential)
            let error = #expect(throws: SyncError.self) { try session.push() }
            guard case .refused(let status, let code, let message) = error else {
                Issue.record("expected a refusal, got \(String(describing: error))")
                continue
            }
            #expect(status == 401 && code == "unauthorized")
            #expect(message.contains("credential"))
        }
        #expect(try hubState(cluster) == before)
    }

    @Test func aRowOutsideTheCommunesScopeIsRefusedAloneAndTheRestArrives() throws {
        let cluster = try SyncCluster(label: "scope")
        let own = try cluster.addCommune("06913")
        let other = try cluster.addCommune("06916")
        #expect(try own.syncOnce().status == 0)
        #expect(try other.syncOnce().status == 0)
        try SQLiteShell.run(own.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-own', 'unit-06913', 'An');")
        #expect(try own.syncOnce().status == 0)

        // 06916 writes a person into 06913's commune, alongside a legitimate one.
        try SQLiteShell.run(other.database, """
            INSERT INTO persons(id, commune_id, full_name) VALUES ('p-mine', 'unit-06916', 'Bình');
            INSERT INTO persons(id, commune_id, full_name) VALUES ('p-stolen', 'unit-06913', 'Chi');
            """)
        let attempt = try other.syncOnce()
        #expect(attempt.status == 1, "a round with a refusal says so: \(attempt.output)")
        #expect(attempt.output.contains("the hub refused"))
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT id FROM persons WHERE id IN ('p-mine', 'p-stolen');") == "p-mine")
        #expect(try SQLiteShell.run(own.database, "SELECT count(*) FROM persons WHERE id = 'p-stolen';") == "0")
        let refused = try SQLiteShell.run(other.database, "SELECT DISTINCT pk || ' ' || code FROM _sync_refused;")
        #expect(refused == "p-stolen out_of_scope")
        // Settled: the next round sends nothing again and succeeds.
        let again = try other.syncOnce()
        #expect(again.status == 0 && again.output.contains("sent 0 changes"), "\(again.output)")
    }
}
