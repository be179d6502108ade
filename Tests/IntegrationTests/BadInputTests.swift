import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import SyncProtocol
import Testing
import TestSupport

/// At least 200 generated bad requests against a running hub: each gets a clear 4xx, the hub
/// stays up, and its database is unchanged. The generator is seeded (the seed is printed in
/// every failure message).
@Suite(.serialized) struct BadInputTests {
    struct Case {
        let name: String
        let method: String
        let path: String
        var headers: [String: String]
        let body: Data?
        let expected: Set<Int>
        /// For a change the hub takes in and refuses (200 with the change listed as refused).
        var refusal: String? = nil
    }

    @Test func twoHundredBadRequestsAreRefusedAndChangeNothing() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SeededGenerator(seed: seed)
        let cluster = try SyncCluster(label: "badinput")
        let own = try cluster.addCommune("06913")
        let other = try cluster.addCommune("06916")
        #expect(try own.syncOnce().status == 0)
        #expect(try other.syncOnce().status == 0)
        let token = try String(contentsOfFile: own.credentialPath, encoding: .utf8)
        // One legitimate batch, so that replays have something to replay.
        let valid = try pushBody([group(origin: "06913", counter: 64, row: "p-valid", unit: "unit-06913")])
        let accepted = try RawHTTP.send("POST", cluster.hub.url + "/v1/push", headers: headers(token), body: valid)
        #expect(accepted.status == 200, "\(accepted.body)")
        Thread.sleep(forTimeInterval: 2.5)  // let the hub's own periodic fold settle
        let before = try SQLiteShell.run(cluster.hub.database, ".dump")

        var cases: [Case] = []
        while cases.count < 220 {
            // Counters only grow, as a replica's do: a refused change is settled at the hub, and
            // a later change under a lower counter would be a replica re-using its counters.
            let counter = UInt64(1_000 + cases.count) << 6
            cases.append(makeCase(&random, counter: counter, token: token,
                                  otherToken: try String(contentsOfFile: other.credentialPath, encoding: .utf8), valid: valid))
        }
        var counts: [String: Int] = [:]
        for item in cases {
            let reply = try RawHTTP.send(item.method, cluster.hub.url + item.path, headers: item.headers, body: item.body)
            counts[item.name, default: 0] += 1
            #expect(item.expected.contains(reply.status), "seed \(seed), \(item.name): got \(reply.status) \(reply.body.prefix(200))")
            if reply.status >= 400 {
                let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(reply.body.utf8))
                #expect(error.map { !$0.message.isEmpty } == true, "seed \(seed), \(item.name): no clear error body: \(reply.body.prefix(200))")
            }
            if let code = item.refusal {
                let answer = try? JSONDecoder().decode(PushResponse.self, from: Data(reply.body.utf8))
                #expect(answer?.applied == 0 && answer?.refused.isEmpty == false && answer?.refused.allSatisfy { $0.code == code && !$0.message.isEmpty } == true,
                        "seed \(seed), \(item.name): not refused as \(code): \(reply.body.prefix(300))")
            }
        }
        #expect(try RawHTTP.send("GET", cluster.hub.url + "/health").status == 200, "the hub went down")
        // Refusals are remembered by dot (so a change sent again gets the same answer); nothing
        // else may change: not the register, not the merge state, not the feed.
        #expect(try dumpWithoutRefusals(cluster.hub.database) == withoutRefusals(before), "seed \(seed): a refused or replayed request changed the hub")
        #expect(counts.count >= 15, "seed \(seed): only \(counts.keys.sorted()) kinds generated")
    }

    /// A `.dump` without the hub's bookkeeping of refusals.
    func withoutRefusals(_ dump: String) -> String {
        dump.split(separator: "\n").filter { !$0.hasPrefix("INSERT INTO _sync_hub_refused") && !$0.hasPrefix("INSERT INTO _sync_hub_received") }
            .joined(separator: "\n")
    }

    func dumpWithoutRefusals(_ database: String) throws -> String { withoutRefusals(try SQLiteShell.run(database, ".dump")) }

    // MARK: The generator

    func headers(_ token: String, gzip: Bool = false) -> [String: String] {
        var headers = [
            "Authorization": "Bearer \(token)", "Content-Type": "application/json",
            WireVersion.protocolHeader: String(WireVersion.protocolVersion), WireVersion.schemaHeader: String(RegisterSchema.current.version),
        ]
        if gzip { headers["Content-Encoding"] = "gzip" }
        return headers
    }

    func group(origin: String, counter: UInt64, row: String, unit: String, table: String = "persons",
               column: String = "full_name", value: Value = .text("Người thử")) -> ChangeGroup {
        ChangeGroup(t: table, r: row, o: origin, h: 1, x: "",
                    w: [ChangeGroup.Write(counter: counter, column: "commune_id", value: .text(unit)),
                        ChangeGroup.Write(counter: counter + 1, column: column, value: value)])
    }

    func pushBody(_ groups: [ChangeGroup]) throws -> Data { try JSONEncoder().encode(PushRequest(changes: groups)) }

    func makeCase(_ random: inout SeededGenerator, counter: UInt64, token: String, otherToken: String, valid: Data) -> Case {
        let row = "p-\(UInt32.random(in: 0...UInt32.max, using: &random))"
        func push(_ name: String, _ body: Data?, headers: [String: String]? = nil, expect: Set<Int>, refusal: String? = nil) -> Case {
            Case(name: name, method: "POST", path: "/v1/push", headers: headers ?? self.headers(token), body: body, expected: expect, refusal: refusal)
        }
        func groups(_ groups: [ChangeGroup]) -> Data { (try? pushBody(groups)) ?? Data() }
        switch Int.random(in: 0..<21, using: &random) {
        case 20:
            let twice = ChangeGroup(t: "persons", r: row, o: "06913", h: 1, x: "", w: [
                .init(counter: counter, column: "commune_id", value: .text("unit-06913")),
                .init(counter: counter, column: "full_name", value: .text("hai lần"))])
            return push("one dot twice", groups([twice]), expect: [400])
        case 0: return push("no credential", valid, headers: headers(token).filter { $0.key != "Authorization" }, expect: [401])
        case 1: return push("wrong credential", valid, headers: headers("06913." + String(repeating: "0", count: 64)), expect: [401])
        case 2: return push("garbage credential", valid, headers: headers(String((0..<20).map { _ in Character(UnicodeScalar(UInt8.random(in: 33...126, using: &random))) })), expect: [401])
        case 3:
            var bytes = Array(valid)
            bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
            return push("truncated JSON", Data(bytes), expect: [400])
        case 4: return push("random bytes", Data((0..<Int.random(in: 1...500, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }), expect: [400])
        case 5: return push("wrong JSON shape", Data(#"{"changes": [{"t": 1}]}"#.utf8), expect: [400])
        case 6: return push("not gzip", valid, headers: headers(token, gzip: true), expect: [400])
        case 7:
            let packed = Gzip.compress(Array(valid))
            return push("truncated gzip", Data(packed.prefix(packed.count / 2)), headers: headers(token, gzip: true), expect: [400])
        case 8:
            let bomb = Gzip.compress(Array(repeating: UInt8(ascii: " "), count: 80 * 1024 * 1024))
            return push("gzip bomb", Data(bomb), headers: headers(token, gzip: true), expect: [413])
        case 9: return push("oversized body", Data(repeating: UInt8(ascii: " "), count: 9 * 1024 * 1024), expect: [413])
        case 10:
            var versioned = headers(token)
            // Any version but the one this build speaks.
            let (header, spoken) = Bool.random(using: &random)
                ? (WireVersion.protocolHeader, WireVersion.protocolVersion) : (WireVersion.schemaHeader, RegisterSchema.current.version)
            versioned[header] = String(spoken + Int.random(in: 1...97, using: &random))
            return push("wrong version", valid, headers: versioned, expect: [409])
        case 11: return push("replayed batch", valid, expect: [200])
        case 12: return push("dots of another replica", groups([group(origin: "06916", counter: counter, row: row, unit: "unit-06913")]), expect: [403])
        case 13: return push("outside scope", groups([group(origin: "06913", counter: counter, row: row, unit: "unit-06916")]), expect: [200], refusal: "out_of_scope")
        case 14: return push("another commune's existing row", groups([group(origin: "06913", counter: counter, row: "p-valid", unit: "unit-06913")]),
                             headers: headers(otherToken), expect: [403])
        case 15:
            let huge = Value.text(String(repeating: "ạ", count: 40_000))
            // Its row's commune_id is taken; the huge field alone is refused.
            let body = groups([ChangeGroup(t: "persons", r: row, o: "06913", h: 1, x: "", w: [.init(counter: counter, column: "full_name", value: huge)])])
            return push("huge field value", body, expect: [200], refusal: "too_large")
        case 16:
            var bytes = Array(groups([group(origin: "06913", counter: counter, row: row, unit: "unit-06913", value: .text("XXXX"))]))
            if let index = bytes.firstIndex(of: UInt8(ascii: "X")) { bytes.replaceSubrange(index..<index + 2, with: [0xC3, 0x28]) }
            return push("invalid UTF-8", Data(bytes), expect: [400])
        case 17:
            let table = ["units", "titles", "quotas"].randomElement(using: &random)!
            return push("reference table", groups([ChangeGroup(t: table, r: row, o: "06913", h: 1, x: "", w: [.init(counter: counter, column: "name", value: .text("x"))])]),
                        expect: [200], refusal: "reference_table")
        case 18:
            let pick = Int.random(in: 0..<3, using: &random)
            let bad = [ChangeGroup(t: "persons", r: row, o: "06913", h: 1, x: "not a vector", w: [.init(counter: counter, column: "note", value: .null)]),
                       ChangeGroup(t: "persons", r: row, o: "06913", h: 1, x: "", w: [.init(counter: counter, column: "shoe_size", value: .null)]),
                       ChangeGroup(t: "salaries", r: row, o: "06913", h: 1, x: "", w: [.init(counter: counter, column: "amount", value: .integer(1))])][pick]
            return push(["malformed context", "unknown column", "unknown table"][pick], groups([bad]), expect: pick == 0 ? [400] : [200],
                        refusal: [nil, "unknown_column", "unknown_table"][pick])
        default:
            let paths = ["/v1/pull?after=-1", "/v1/pull?after=abc", "/v1/pull?limit=x", "/v1/snapshot?cursor=nosuchtable/x", "/v1/snapshot?checkpoint=-5"]
            let path = paths.randomElement(using: &random)!
            return Case(name: "bad query " + path, method: "GET", path: path, headers: headers(token), body: nil, expected: [400])
        }
    }
}
