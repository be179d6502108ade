import Foundation
import MergeEngine
import Register
import Replica
import Testing
import TestSupport

/// What technicians and admins touch: `syncctl status`, systemd's notify protocol, metrics,
/// and the units themselves.
@Suite(.serialized) struct OperationsTests {
    static let requiredKeys = [
        "replica", "hub_url", "hub_reachable", "last_push_ack_at", "last_pull_at", "unacked_changes",
        "oldest_unacked_age_s", "open_conflicts", "awaiting_review", "schema_version", "rules_version", "daemon_running",
    ]

    @Test func statusReportsHealthyThenHubDownThenDaemonDown() throws {
        let cluster = try SyncCluster(label: "status")
        let commune = try cluster.addCommune("06913", interval: 0.3)
        try commune.start()
        #expect(eventually { commune.hasUnits })
        try SQLiteShell.run(commune.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-06913', 'An');")
        #expect(eventually { try commune.status().json["unacked_changes"] as? Int == 0 })

        let healthy = try commune.status()
        #expect(healthy.exitCode == 0)
        for key in Self.requiredKeys { #expect(healthy.json.keys.contains(key), "missing \(key)") }
        #expect(healthy.json["replica"] as? String == "06913")
        #expect(healthy.json["commune_name"] as? String == "Xã Quảng Tân")
        #expect(healthy.json["hub_url"] as? String == cluster.hub.url)
        #expect(healthy.json["hub_reachable"] as? Bool == true)
        #expect(healthy.json["daemon_running"] as? Bool == true)
        #expect(healthy.json["schema_version"] as? Int == RegisterSchema.current.version)
        #expect(healthy.json["last_push_ack_at"] is String && healthy.json["last_pull_at"] is String)
        #expect(healthy.json["oldest_unacked_age_s"] is NSNull)
        #expect(healthy.json["state"] as? String == "healthy")

        // The hub goes away; the office keeps writing.
        cluster.hub.stop()
        try SQLiteShell.run(commune.database, "UPDATE persons SET phone = '0901' WHERE id = 'p1';")
        #expect(eventually { try commune.status().exitCode == 1 })
        let degraded = try commune.status()
        #expect(degraded.json["hub_reachable"] as? Bool == false)
        #expect(degraded.json["daemon_running"] as? Bool == true)
        #expect(degraded.json["unacked_changes"] as? Int == 1)
        #expect((degraded.json["oldest_unacked_age_s"] as? Double).map { $0 >= 0 } == true)
        #expect((degraded.json["hint"] as? String)?.contains("hub does not answer") == true)

        // The daemon stops too: status still reads the replica file.
        #expect(commune.terminate() == 0)
        let down = try commune.status()
        #expect(down.exitCode == 2)
        #expect(down.json["daemon_running"] as? Bool == false)
        #expect(down.json["hub_reachable"] as? Bool == false)
        #expect(down.json["unacked_changes"] as? Int == 1)
        #expect(down.json["replica"] as? String == "06913")
    }

    @Test func statusThatCannotCheckIsUnknownNotDegraded() throws {
        let directory = try TemporaryDirectory("unknown")
        // No configuration to read: exit 3 and, under --json, still one object saying why.
        let missing = try Programs.run("syncctl", ["status", "--json", "--config", directory.path("nowhere.toml")])
        #expect(missing.status == 3)
        let object = try JSONSerialization.jsonObject(with: Data(missing.output.utf8)) as? [String: Any]
        #expect(object?["state"] as? String == "unknown")
        #expect((object?["error"] as? String)?.contains("nowhere.toml") == true)
        #expect(object?["hint"] is String)
        #expect(try Programs.run("syncctl", ["status", "--config", directory.path("nowhere.toml")]).output.contains("UNKNOWN"))
        // A replica that is no replica: cannot check either.
        try SQLiteShell.run(directory.path("other.db"), "CREATE TABLE t(x);")
        try """
        replica = "06913"
        database = "\(directory.path("other.db"))"
        control_socket = "\(directory.path("none.sock"))"
        [hub]
        url = "http://127.0.0.1:9"
        credential = "x"
        """.write(toFile: directory.path("c.toml"), atomically: true, encoding: .utf8)
        let foreign = try Programs.run("syncctl", ["status", "--json", "--config", directory.path("c.toml")])
        #expect(foreign.status == 3 && foreign.output.contains(#""state":"unknown""#), "\(foreign.output)")
    }

    @Test func statusJSONKeepsSlashesAndGivesVersionsAsNumbers() throws {
        let cluster = try SyncCluster(label: "json")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        let printed = try Programs.run("syncctl", ["status", "--json", "--config", commune.config]).output
        #expect(printed.contains(#""hub_url":"http://127.0.0.1:"#), "\(printed)")
        let json = try commune.status().json
        #expect(json["schema_version"] is Int && json["rules_version"] is Int, "\(json)")
    }

    @Test func theHubAndSyncdLogTheirStop() throws {
        let cluster = try SyncCluster(label: "stops")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        #expect(commune.terminate() == 0)
        cluster.hub.stop()
        #expect(try String(contentsOfFile: cluster.hub.log, encoding: .utf8).contains("stopped cleanly"))
        #expect(try String(contentsOfFile: commune.log, encoding: .utf8).contains("stopped cleanly"))
    }

    @Test func syncdSpeaksSystemdsNotifyProtocol() throws {
        let cluster = try SyncCluster(label: "notify")
        let commune = try cluster.addCommune("06913", interval: 0.5)
        let socketPath = cluster.directory.path("notify.sock")
        let listener = try DatagramListener(path: socketPath)
        // WATCHDOG_USEC of 0.4 s: syncd must ping at least every 0.2 s.
        try commune.start(environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "400000"])
        let messages = listener.receive(for: 3)
        #expect(messages.first?.contains("READY=1") == true, "\(messages.prefix(3))")
        #expect(messages.contains { $0.contains("STATUS=last round ok") })
        #expect(messages.filter { $0.contains("WATCHDOG=1") }.count >= 8)
        #expect(commune.terminate() == 0)
        #expect(listener.receive(for: 1).contains { $0.contains("STOPPING=1") })
        #expect(try String(contentsOfFile: commune.log, encoding: .utf8).contains("stopped cleanly"))
    }

    @Test func metricsMoveAfterASync() throws {
        let cluster = try SyncCluster(label: "metrics")
        let commune = try cluster.addCommune("06913")
        #expect(try commune.syncOnce().status == 0)
        func metric(_ name: String) throws -> Double {
            let page = try httpGet(cluster.hub.url + "/metrics")
            #expect(page.status == 200)
            let line = page.body.split(separator: "\n").first { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") && !$0.hasPrefix("#") }
            return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        }
        let appliedBefore = try metric("communesync_hub_changes_applied_total")
        let batchesBefore = try metric("communesync_hub_push_batches_total")
        try SQLiteShell.run(commune.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-06913', 'An');")
        #expect(try commune.syncOnce().status == 0)
        // A new row is one change per column.
        let columns = try #require(RegisterSchema.current.table(named: "persons")).columns.count
        #expect(try metric("communesync_hub_changes_applied_total") == appliedBefore + Double(columns))
        #expect(try metric("communesync_hub_push_batches_total") == batchesBefore + 1)
        let page = try httpGet(cluster.hub.url + "/metrics").body
        #expect(page.contains(#"communesync_hub_requests_total{route="/v1/push",status="200"}"#))
        #expect(page.contains(#"communesync_hub_replica_last_seen_timestamp_seconds{replica="06913",role="commune"}"#))
    }

    @Test func theSystemdUnitsVerify() throws {
        let directory = try TemporaryDirectory("units")
        for unit in ["syncd.service", "synchub.service", "synchub-backup.service", "synchub-backup.timer"] {
            // verify checks that ExecStart's program exists: point it at the built one.
            let text = try String(contentsOf: Programs.packageRoot.appendingPathComponent("Deploy/systemd/\(unit)"), encoding: .utf8)
                .replacingOccurrences(of: "/usr/local/bin/", with: Programs.directory.path + "/")
            let path = directory.path(unit)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let verify = try Programs.execute("/usr/bin/systemd-analyze", ["verify", path], timeout: 120)
            let printed = verify.output
            #expect(verify.status == 0, "\(unit): \(printed)")
            #expect(!printed.contains(unit + ":"), "\(unit) has warnings: \(printed)")
        }
    }
}

/// A Unix datagram socket playing systemd's side of the notify protocol.
final class DatagramListener {
    private let descriptor: Int32

    init(path: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw ClusterError("cannot bind \(path)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    /// Every datagram received within `seconds`.
    func receive(for seconds: Double) -> [String] {
        var messages: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count > 0 { messages.append(String(decoding: buffer[..<count], as: UTF8.self)) }
        }
        return messages
    }
}

@Suite(.serialized) struct DoctorTests {
    @Test func doctorPassesAHealthyOfficeAndNamesEachProblemWithAFix() throws {
        let cluster = try SyncCluster(label: "doctor")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        let healthy = try Programs.run("syncctl", ["doctor", "--config", commune.config])
        #expect(healthy.status == 0, "\(healthy.output)")
        #expect(healthy.output.contains("integrity check passed") && healthy.output.contains("accepts this commune's credential"))

        // A wrong credential: named, with what to do.
        try "06913.\(String(repeating: "0", count: 64))".write(toFile: commune.credentialPath, atomically: true, encoding: .utf8)
        let refused = try Programs.run("syncctl", ["doctor", "--config", commune.config])
        #expect(refused.status == 2)
        #expect(refused.output.contains("FAIL  the hub refused the credential (401)") && refused.output.contains("fix: ask the district office"))

        // The hub and the daemon gone.
        cluster.hub.stop()
        commune.stop()
        let down = try Programs.run("syncctl", ["doctor", "--config", commune.config])
        #expect(down.status == 2)
        #expect(down.output.contains("does not answer") && down.output.contains("syncd does not answer"))
        #expect(down.output.contains("integrity check passed"), "the replica file is still checked")
    }
}
