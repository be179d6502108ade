import Foundation
import Testing
import TestSupport

/// No anonymous lock-out: connections that trickle a request head a byte at a time, from
/// several addresses each under its share, fill every connection place of a hub; an office
/// that presents its credential must still sync and `/health` must still answer. A real
/// synchub, attacked by `syncbench trickle` at a small scale (75 connections against 60
/// places, a byte a second) with the same office rounds and probes it prints as figures.
@Suite(.serialized) struct TrickleTests {
    @Test func headsTricklingFromManyAddressesLockOutNeitherAnOfficeNorHealth() throws {
        let run = try Programs.run("syncbench", [
            "trickle", "--connections", "75", "--addresses", "5", "--interval", "1", "--duration", "12",
            "--limits", "max_connections = 60;max_connections_per_address = 16;head_timeout_s = 2",
        ])
        #expect(run.status == 0, "\(run.output)")
        let last = try #require(run.output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(run.output)")
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect((figures["office_rounds"] as? Int ?? 0) >= 5, "\(run.output)")
        #expect(figures["office_rounds_failed"] as? Int == 0, "an honest office was locked out:\n\(run.output)")
        #expect(figures["health_probes_failed"] as? Int == 0, "/health was locked out:\n\(run.output)")
        #expect((figures["closed_by_hub"] as? Int ?? 0) > 0, "the hub let trickling heads hold their connections:\n\(run.output)")
    }
}
