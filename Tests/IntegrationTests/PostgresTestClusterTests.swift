import Foundation
import Testing
import TestSupport

/// Deploy/postgres-test.sh: the throw-away PostgreSQL that tests and CI start for the hub's
/// PostgreSQL store (as root, its server runs as nobody).
@Suite struct PostgresTestClusterTests {
    static let script = Programs.packageRoot.appendingPathComponent("Deploy/postgres-test.sh").path

    @Test func aThrowAwayClusterTakesConnectionsAndLeavesNothingBehind() throws {
        let parent = try TemporaryDirectory("postgres-test")
        let directory = parent.path("cluster")
        let started = try Programs.runSystem("/bin/bash", [Self.script, "start", directory])
        try #require(started.status == 0, "postgres-test.sh start failed: \(started.output)")
        defer { _ = try? Programs.runSystem("/bin/bash", [Self.script, "stop", directory]) }
        let url = try #require(started.output.split(separator: "\n").first { $0.hasPrefix("postgresql://hub@127.0.0.1:") }.map(String.init))

        let query = try Programs.runSystem("/usr/bin/psql", [url, "-tAc", "SELECT current_user || ' ' || current_database()"])
        #expect(query.output.trimmingCharacters(in: .whitespacesAndNewlines) == "hub hub")
        // A second cluster beside it gets a port of its own.
        let second = parent.path("second")
        let other = try Programs.runSystem("/bin/bash", [Self.script, "start", second])
        defer { _ = try? Programs.runSystem("/bin/bash", [Self.script, "stop", second]) }
        #expect(other.status == 0)
        #expect(!other.output.contains(url))

        let stopped = try Programs.runSystem("/bin/bash", [Self.script, "stop", directory])
        #expect(stopped.status == 0, "\(stopped.output)")
        #expect(!FileManager.default.fileExists(atPath: directory))
        #expect(try Programs.runSystem("/usr/bin/psql", [url, "-tAc", "SELECT 1"]).status != 0)
    }
}
