import Foundation
import MergeEngine
import Register
import Replica
import SyncClient
import SyncCore
import SyncProtocol
import Testing
import TestSupport

/// The hub trusts no replica: what an attacker holding a valid commune credential can send,
/// against a real synchub process. Each test is one attack the hub once fell to.
@Suite(.serialized) struct TrustBoundaryTests {
    let cluster: SyncCluster
    let office: CommuneNode
    let token: String

    init() throws {
        cluster = try SyncCluster(label: "trust")
        office = try cluster.addCommune("06913")
        #expect(try office.syncOnce().status == 0)
        token = try String(contentsOfFile: office.credentialPath, encoding: .utf8)
    }

    func headers(_ token: String? = nil) -> [String: String] {
        ["Authorization": "Bearer \(token ?? self.token)", "Content-Type": "application/json",
         WireVersion.protocolHeader: String(WireVersion.protocolVersion), WireVersion.schemaHeader: String(RegisterSchema.current.version)]
    }

    /// A person row of this office, as a group of two writes from `counter` on.
    func person(_ row: String, counter: UInt64, h: UInt64 = nowStamp(), x: String = "", origin: String = "06913",
                name: Value = .text("Người thử")) -> ChangeGroup {
        ChangeGroup(t: "persons", r: row, o: origin, h: h, x: x, w: [
            .init(counter: counter, column: "commune_id", value: .text("unit-06913")),
            .init(counter: counter + 1, column: "full_name", value: name)])
    }

    static func nowStamp(aheadSeconds: Double = 0) -> UInt64 {
        HybridTimestamp(wallMillis: UInt64((Date().timeIntervalSince1970 + aheadSeconds) * 1000)).rawValue
    }

    func push(_ groups: [ChangeGroup], token: String? = nil) throws -> RawHTTP.Reply {
        try RawHTTP.send("POST", cluster.hub.url + "/v1/push", headers: headers(token),
                         body: try JSONEncoder().encode(PushRequest(changes: groups)))
    }

    /// The hub's database, less what refusals record.
    func dump() throws -> String {
        try SQLiteShell.run(cluster.hub.database, ".dump").split(separator: "\n")
            .filter { !$0.hasPrefix("INSERT INTO _sync_hub_refused") && !$0.hasPrefix("INSERT INTO _sync_hub_received") }
            .joined(separator: "\n")
    }

    func errorCode(_ reply: RawHTTP.Reply) -> String? {
        (try? JSONDecoder().decode(ErrorBody.self, from: Data(reply.body.utf8)))?.error
    }

    func refusals(_ reply: RawHTTP.Reply) -> [Refusal] {
        (try? JSONDecoder().decode(PushResponse.self, from: Data(reply.body.utf8)))?.refused ?? []
    }

    func hubIsUp() -> Bool { (try? RawHTTP.send("GET", cluster.hub.url + "/health").status) == 200 }

    // MARK: Numbers

    @Test func countersAndStampsBeyondTwoToThe63AreRefusedAndTheHubStaysUp() throws {
        Thread.sleep(forTimeInterval: 2.5)  // the hub's periodic fold settles
        let before = try dump()
        let huge: [(String, ChangeGroup)] = [
            ("counter 2^63", person("p-big-1", counter: 1 << 63)),
            ("counter 2^64-2", person("p-big-2", counter: UInt64.max - 1)),
            ("stamp 2^63", person("p-big-3", counter: 64, h: 1 << 63)),
            ("stamp 2^64-1", person("p-big-4", counter: 128, h: UInt64.max)),
            ("context 2^63", person("p-big-5", counter: 192, x: "200:9223372036854775808")),
            ("counter 0", ChangeGroup(t: "persons", r: "p-big-6", o: "06913", h: Self.nowStamp(), x: "", w: [.init(counter: 0, column: "note", value: .null)])),
        ]
        for (name, group) in huge {
            let reply = try push([group])
            #expect([400, 409].contains(reply.status), "\(name): \(reply.status) \(reply.body.prefix(200))")
            #expect(hubIsUp(), "\(name) brought the hub down")
        }
        #expect(try dump() == before, "a refused batch changed the hub")
    }

    // MARK: Clocks

    @Test func aStampFromTheFutureIsRefusedAndCannotMoveTheHubsClock() throws {
        for ahead in [3_600.0, 95_000_000_000.0 - Date().timeIntervalSince1970] {  // an hour; the year 5000
            let reply = try push([person("p-future-\(Int(ahead))", counter: 64, h: Self.nowStamp(aheadSeconds: ahead))])
            #expect(reply.status == 409 && errorCode(reply) == "clock_ahead", "\(reply.status) \(reply.body.prefix(300))")
            #expect(reply.body.contains("the clock of office 06913 is ahead"), "\(reply.body)")
        }
        // The district's next edit is stamped by the hub's own clock, not by the future.
        try SQLiteShell.run(cluster.hub.database, "UPDATE units SET name = name || ' ' WHERE id = 'unit-06913';")
        #expect(eventually(timeout: 10) { (try? SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM _sync_hub_feed WHERE origin = '200' AND pk = 'unit-06913'")) != "0" })
        let stamp = UInt64(try SQLiteShell.run(cluster.hub.database, "SELECT max(hlc) FROM _sync_hub_feed WHERE origin = '200'")) ?? 0
        #expect(Double(stamp >> 16) / 1000 < Date().timeIntervalSince1970 + 60, "the hub's clock was dragged to \(stamp >> 16)")
    }

    /// An office computer whose clock runs two hours ahead: its changes are refused with
    /// what to do, and once the clock is right they reach the hub, stamped again. (The office's
    /// clock is the session's: libfaketime hides a Swift program's arguments from it, so syncd
    /// itself cannot be run under it.)
    @Test func anOfficeWhoseClockRunsAheadIsToldAndCatchesUpOnceCorrected() throws {
        let replica = try Replica.openOrCreate(at: office.database, id: "06913", role: .commune)
        try SQLiteShell.run(office.database, """
            INSERT INTO persons(id, commune_id, full_name) VALUES ('p-clock', 'unit-06913', 'Giờ sai');
            UPDATE _sync_log SET at_ms = at_ms + 7200000 WHERE hlc IS NULL;
            """)
        let wrong = try SyncSession(replica: replica, hubURL: cluster.hub.url, credential: token)
        wrong.clock = { Date().addingTimeInterval(7_200) }
        #expect {
            try wrong.round()
        } throws: { error in
            guard case SyncError.refused(409, "clock_ahead", let message) = error else { return false }
            return message.contains("the clock of office 06913 is ahead of the hub's by 119 min") && message.contains("timedatectl")
        }
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM persons WHERE id = 'p-clock'") == "0")
        // The clock is corrected: the refused change is stamped again and sent.
        let right = try SyncSession(replica: replica, hubURL: cluster.hub.url, credential: token)
        let report = try right.round()
        #expect((report.rebase?.restamped ?? 0) > 0, "\(String(describing: report.rebase))")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT full_name FROM persons WHERE id = 'p-clock'") == "Giờ sai")
        let stamp = UInt64(try SQLiteShell.run(cluster.hub.database, "SELECT max(hlc) FROM _sync_hub_feed WHERE pk = 'p-clock'")) ?? .max
        #expect(Double(stamp >> 16) / 1000 < Date().timeIntervalSince1970 + 60)
        // Later writes are stamped by the corrected clock too.
        try SQLiteShell.run(office.database, "UPDATE persons SET phone = '0901' WHERE id = 'p-clock';")
        _ = try right.round()
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT phone FROM persons WHERE id = 'p-clock'") == "0901")
    }

    /// The same through syncd: rows typed while the clock ran ahead (the sqlite3 shell under
    /// libfaketime) reach the hub once syncd, on a right clock, stamps them again.
    @Test func syncdStampsAgainWhatWasTypedWhileTheClockRanAhead() throws {
        let faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
        try #require(FileManager.default.fileExists(atPath: faketime), "faketime is not installed (Deploy/setup-debian.sh installs it)")
        try SQLiteShell.run(office.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-typed-ahead', 'unit-06913', 'Nhập trước');",
                            environment: ["LD_PRELOAD": faketime, "FAKETIME": "+3h"])
        try office.start()
        #expect(eventually(timeout: 30) {
            try SQLiteShell.run(cluster.hub.database, "SELECT full_name FROM persons WHERE id = 'p-typed-ahead'") == "Nhập trước"
        }, "log: \(((try? String(contentsOfFile: office.log, encoding: .utf8)) ?? "").suffix(1500))")
        #expect(eventually(timeout: 10) { try office.status().exitCode == 0 }, "\(String(describing: try? office.status().json))")
        #expect(try office.status().json["rebase_reason"] as? String == "this computer's clock had run ahead; unsent changes were stamped again from the corrected clock")
        office.stop()
    }

    // MARK: Contexts

    @Test func aContextClaimingHistoryTheHubNeverHadIsRefused() throws {
        // A row of this office, then a district decision on it.
        #expect(try push([person("p-ctx", counter: 64)]).status == 200)
        let forged = [
            ("the hub's own counter", "200:\(UInt64(1) << 62)", 409),
            ("another office's counter", "06916:5000", 409),
            ("its own dot", "06913:100000", 400),
        ]
        for (index, (name, context, status)) in forged.enumerated() {
            let reply = try push([ChangeGroup(t: "persons", r: "p-ctx", o: "06913", h: Self.nowStamp(), x: context,
                                              w: [.init(counter: 128 + 64 * UInt64(index), column: "note", value: .text("forged"))])])
            #expect(reply.status == status, "\(name): \(reply.status) \(reply.body.prefix(300))")
        }
        // The district's later edit of the row still counts: table, merge state and feed agree.
        try SQLiteShell.run(cluster.hub.database, "UPDATE persons SET note = 'district' WHERE id = 'p-ctx';")
        #expect(try office.syncOnce().status == 0)
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT note FROM persons WHERE id = 'p-ctx'") == "district")
        #expect(try SQLiteShell.run(office.database, "SELECT note FROM persons WHERE id = 'p-ctx'") == "district")
    }

    // MARK: Sizes and bytes

    @Test func rowIdsAreBoundedAndNulBytesAndWrongTypesAreRefusedOneByOne() throws {
        let sizeBefore = try FileManager.default.attributesOfItem(atPath: cluster.hub.database)[.size] as? Int ?? 0
        let long = String(repeating: "x", count: 11_800)
        let longRow = person(long, counter: 64)
        let fine = person("p-fine", counter: 384)
        let reply = try push([
            longRow,
            person("p-nul\u{0}id", counter: 128),
            person("p-line\nforged", counter: 192),
            person("p-nulvalue", counter: 256, name: .text("An\u{0}h")),
            ChangeGroup(t: "persons", r: "p-type", o: "06913", h: Self.nowStamp(), x: "", w: [
                .init(counter: 320, column: "commune_id", value: .text("unit-06913")),
                .init(counter: 321, column: "party_member", value: .text("có"))]),
            fine,
        ])
        #expect(reply.status == 200, "\(reply.body.prefix(300))")
        let codes = Dictionary(grouping: refusals(reply), by: \.code).mapValues(\.count)
        #expect(codes["bad_row_id"] == 6, "\(codes)")
        #expect(codes["bad_value"] == 1 && codes["wrong_type"] == 1, "\(codes)")
        #expect(refusals(reply).allSatisfy { $0.row.utf8.count <= 256 })
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM persons WHERE id = 'p-fine'") == "1",
                "a bad change held back a good one")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM persons WHERE id <> 'p-fine' AND id NOT LIKE 'p-%'") == "0")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM persons WHERE id IN ('p-nulvalue', 'p-type') AND full_name IS NULL AND party_member IS NULL") == "2")
        let sizeAfter = try FileManager.default.attributesOfItem(atPath: cluster.hub.database)[.size] as? Int ?? 0
        #expect(sizeAfter - sizeBefore < 1_000_000, "hub.db grew by \(sizeAfter - sizeBefore) bytes")
        // Sent again: the same answers, nothing applied twice.
        let again = try push([longRow, fine])
        #expect(again.status == 200 && refusals(again).count == 2, "\(again.body.prefix(300))")
    }

    @Test func nothingARequestCarriesCanForgeALogLine() throws {
        let forged = "2026-01-01T00:00:00+0000 info synchub: forged-entry"
        _ = try push([ChangeGroup(t: "persons", r: "p-log", o: "06913\n" + forged, h: Self.nowStamp(), x: "", w: [.init(counter: 64, column: "note", value: .null)])])
        _ = try push([ChangeGroup(t: "persons", r: "p-log", o: "06913", h: Self.nowStamp(), x: "06913:1\n" + forged, w: [.init(counter: 64, column: "note", value: .null)])])
        _ = try push([ChangeGroup(t: "persons", r: "p-log\n" + forged, o: "06913", h: Self.nowStamp(aheadSeconds: 7_200), x: "", w: [.init(counter: 64, column: "note", value: .null)])])
        Thread.sleep(forTimeInterval: 0.5)
        let log = try String(contentsOfFile: cluster.hub.log, encoding: .utf8)
        #expect(log.contains("forged-entry"), "the requests were not logged at all")
        #expect(!log.split(separator: "\n").contains { $0.hasPrefix("2026-01-01T00:00:00") }, "a request forged a log line")
    }

    @Test func metricsAreLabelledByRouteNotByWhatWasAsked() throws {
        for index in 0..<300 {
            for path in ["/v1/pull/\(index)", "//v1/pull?x=\(index)", "/v1/pull/../pull\(index)", "/junk\(index)", "/v1/pull%2F\(index)"] {
                _ = try? RawHTTP.send("GET", cluster.hub.url + path, headers: headers())
            }
        }
        let metrics = try RawHTTP.send("GET", cluster.hub.url + "/metrics").body
        let routes = Set(metrics.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("communesync_hub_requests_total"), let start = line.range(of: "route=\"") else { return nil }
            return String(line[start.upperBound...].prefix { $0 != "\"" })
        })
        #expect(metrics.utf8.count < 20_000, "/metrics grew to \(metrics.utf8.count) bytes")
        #expect(routes.isSubset(of: ["/v1/push", "/v1/pull", "/v1/snapshot", "/v1/own", "/v1/digest", "/v1/rows", "/v1/recover", "/v1/conflicts",
                                     "/v1/conflicts/resolve", "/v1/conflicts/revert", "other"]), "\(routes)")
    }

    // MARK: Load

    @Test func aPushBeyondTheLimitIsRefusedAndABigOneLetsOthersIn() throws {
        cluster.hub.stop()
        try cluster.hub.configure("[limits]\nmax_push_changes = 8000\napply_chunk_changes = 500")
        try cluster.hub.start()
        let other = try cluster.addCommune("06916")
        #expect(try other.syncOnce().status == 0)
        func batch(rows: Range<Int>) -> [ChangeGroup] { rows.map { person("p-load-\($0)", counter: UInt64($0 + 1) * 64) } }
        let tooMany = try push(batch(rows: 0..<4_001))
        #expect(tooMany.status == 413 && tooMany.body.contains("batch_changes"), "\(tooMany.status) \(tooMany.body.prefix(200))")
        // 7,000 changes, applied 500 at a time: another office's pull is answered in between.
        let body = try JSONEncoder().encode(PushRequest(changes: batch(rows: 0..<3_500)))
        let finished = LockedTimes()
        let pushing = Thread {
            let reply = try? RawHTTP.send("POST", cluster.hub.url + "/v1/push", headers: headers(), body: body)
            finished.set("push", status: reply?.status ?? 0)
        }
        pushing.start()
        let otherToken = try String(contentsOfFile: other.credentialPath, encoding: .utf8)
        Thread.sleep(forTimeInterval: 0.15)
        let pull = try RawHTTP.send("GET", cluster.hub.url + "/v1/pull?after=0&limit=10", headers: headers(otherToken))
        finished.set("pull", status: pull.status)
        #expect(eventually(timeout: 60) { finished.order.count == 2 })
        #expect(finished.statuses == ["push": 200, "pull": 200], "\(finished.statuses)")
        #expect(finished.order == ["pull", "push"], "the other office waited for the whole push: \(finished.order)")
        #expect(try SQLiteShell.run(cluster.hub.database, "SELECT count(*) FROM persons WHERE id LIKE 'p-load-%'") == "3500")
    }

    @Test func idleConnectionsAreClosedAndCannotTakeEveryFileDescriptor() throws {
        cluster.hub.stop()
        try cluster.hub.configure("[limits]\nidle_timeout_s = 2\nmax_connections = 150\nmax_connections_per_address = 150")
        try cluster.hub.start()
        let pid = try #require(cluster.hub.processIdentifier)
        let (status, output) = try Programs.runSystem("/usr/bin/prlimit", ["--pid", String(pid), "--nofile=256:256"])
        #expect(status == 0, "\(output)")
        var sockets: [RawSocket] = []
        for _ in 0..<300 { if let socket = try? RawSocket(port: cluster.hub.port) { sockets.append(socket) } }
        Thread.sleep(forTimeInterval: 3.5)
        #expect(cluster.hub.isRunning)
        #expect(hubIsUp(), "/health did not answer with 300 idle connections open")
        let closed = sockets.filter { $0.read(timeout: 0.05).closed }.count
        #expect(closed == sockets.count, "only \(closed) of \(sockets.count) idle connections were closed by the hub")
    }

    @Test func slowBodiesTimeOutAndOneOfficeCannotTakeEveryRequestSlot() throws {
        cluster.hub.stop()
        try cluster.hub.configure("[limits]\nrequest_timeout_s = 2\nmax_requests_per_caller = 2\nmax_header_bytes = 8192")
        try cluster.hub.start()
        func slowPush() throws -> RawSocket {
            let socket = try RawSocket(port: cluster.hub.port)
            let head = headers().map { "\($0.key): \($0.value)\r\n" }.joined()
            socket.send("POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\n\(head)Content-Length: 1000\r\n\r\n{\"changes\": [")
            return socket
        }
        let first = try slowPush()
        let second = try slowPush()
        Thread.sleep(forTimeInterval: 0.3)
        let third = try slowPush().read(timeout: 1.5).text
        #expect(third.hasPrefix("HTTP/1.1 429"), "a third request of one office was not refused: \(third.prefix(200))")
        // A reviewer's requests count against the reviewer's own places, on the review API too.
        let reviewerFile = cluster.directory.path("reviewer.credential")
        try cluster.hub.issueCredential(for: "reviewer-trust", into: reviewerFile, reviewer: true)
        let reviewer = try String(contentsOfFile: reviewerFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        func slowResolve() throws -> RawSocket {
            let socket = try RawSocket(port: cluster.hub.port)
            let head = headers(reviewer).map { "\($0.key): \($0.value)\r\n" }.joined()
            socket.send("POST /v1/conflicts/resolve HTTP/1.1\r\nHost: 127.0.0.1\r\n\(head)Content-Length: 1000\r\n\r\n{\"id\": ")
            return socket
        }
        let reviews = [try slowResolve(), try slowResolve()]
        Thread.sleep(forTimeInterval: 0.3)
        let thirdReview = try slowResolve().read(timeout: 1.5).text
        #expect(thirdReview.hasPrefix("HTTP/1.1 429"), "a third request of one reviewer was not refused: \(thirdReview.prefix(200))")
        // Another office is served meanwhile.
        let other = try cluster.addCommune("06916")
        #expect(try other.syncOnce().status == 0)
        for socket in [first, second] + reviews {
            let answer = socket.read(timeout: 4).text
            #expect(answer.hasPrefix("HTTP/1.1 408") && answer.contains("request_timeout"), "\(answer.prefix(300))")
        }
        // A head larger than allowed is refused, and the hub stays up.
        let big = try RawSocket(port: cluster.hub.port)
        big.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: \(String(repeating: "a", count: 20_000))\r\n\r\n")
        let answer = big.read(timeout: 3)
        #expect(!answer.text.hasPrefix("HTTP/1.1 200"), "a 20 KB head was taken: \(answer.text.prefix(100))")
        #expect(hubIsUp())
    }

    /// Requests beyond `max_concurrent_requests` wait for a place, then get 503; the hub's
    /// health is answered all the while.
    @Test func requestsBeyondTheHubsCapacityWaitThenGetBusyAndHealthIsAlwaysAnswered() throws {
        cluster.hub.stop()
        try cluster.hub.configure("[limits]\nmax_concurrent_requests = 1\nrequest_timeout_s = 3")
        try cluster.hub.start()
        let other = try cluster.addCommune("06916")
        let otherToken = try String(contentsOfFile: other.credentialPath, encoding: .utf8)
        // One request holds the only place while its body trickles in.
        let holder = try RawSocket(port: cluster.hub.port)
        let head = headers().map { "\($0.key): \($0.value)\r\n" }.joined()
        holder.send("POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\n\(head)Content-Length: 1000\r\n\r\n{")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(hubIsUp(), "/health waited behind the request limit")
        let began = Date()
        let busy = try RawHTTP.send("GET", cluster.hub.url + "/v1/pull?after=0", headers: headers(otherToken))
        let waited = Date().timeIntervalSince(began)
        #expect(busy.status == 503 && errorCode(busy) == "busy", "\(busy.status) \(busy.body.prefix(200))")
        #expect(waited > 1.2, "refused after \(waited) s, without waiting for a place")
        // The holder times out (408); then the place is free again.
        #expect(holder.read(timeout: 4).text.hasPrefix("HTTP/1.1 408"))
        #expect(try RawHTTP.send("GET", cluster.hub.url + "/v1/pull?after=0", headers: headers(otherToken)).status == 200)
    }

    // MARK: Credentials

    @Test func credentialsAreNeverSilentlyReplacedAndCanBeRevoked() throws {
        let replace = try Programs.run("synchub", ["credential", "issue", "--config", cluster.hub.config, "--replica", "06913", "--reviewer"])
        #expect(replace.status != 0 && replace.output.contains("already holds a commune's credential"), "\(replace.output)")
        let district = try Programs.run("synchub", ["credential", "issue", "--config", cluster.hub.config, "--replica", "200"])
        #expect(district.status != 0 && district.output.contains("own replica id"), "\(district.output)")
        #expect(try office.syncOnce().status == 0, "the office's credential stopped working")
        let list = try Programs.run("synchub", ["credential", "list", "--config", cluster.hub.config])
        #expect(list.status == 0 && list.output.contains("06913") && list.output.contains("commune") && !list.output.contains(token))
        let revoke = try Programs.run("synchub", ["credential", "revoke", "--config", cluster.hub.config, "--replica", "06913"])
        #expect(revoke.status == 0, "\(revoke.output)")
        let refused = try RawHTTP.send("GET", cluster.hub.url + "/v1/pull?after=0", headers: headers())
        #expect(refused.status == 401)
        #expect(try office.syncOnce().status != 0)
    }
}

/// The order in which concurrent requests finished.
final class LockedTimes: @unchecked Sendable {
    // @unchecked: every access holds the lock.
    private let lock = NSLock()
    private var finished: [String] = []
    private var codes: [String: Int] = [:]

    func set(_ name: String, status: Int) {
        lock.withLock {
            finished.append(name)
            codes[name] = status
        }
    }

    var order: [String] { lock.withLock { finished } }
    var statuses: [String: Int] { lock.withLock { codes } }
}
