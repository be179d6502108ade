import Foundation
import HTTPTypes
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import Hummingbird
import HummingbirdTesting
import Logging
import MergeEngine
import Register
import Replica
import SyncConfig
import SyncCore
import SyncProtocol
import Testing
import TestSupport

/// The hub's HTTP API in-process: the application synchub runs, its requests handed straight
/// to its router, over a hub store on a temporary SQLite file. What a request may be refused
/// for (shape, versions, size, parameters, credential, scope), and what the pages of a
/// transfer add up to.
///
/// What depends on timing (the per-caller gate, the request limit, slow bodies) is tested on
/// a synchub process by TrustBoundaryTests: in this process, suites that block their threads
/// can hold up an in-process hub for longer than any of its timeouts.
@Suite struct HubHTTPTests {
    /// A hub with two commune offices of different communes and a reviewer holding credentials.
    final class Bench: Sendable {
        let directory: TemporaryDirectory
        let store: HubStore
        let limits: HubLimits
        /// Commune office 11111, scope unit-a; 22222 is unit-b; reviewer1 reviews.
        let communeA: String
        let communeB: String
        let reviewer: String

        init(limits: HubLimits = HubLimits()) async throws {
            directory = try TemporaryDirectory("hub-http-test")
            store = try HubStore(path: directory.path("hub.db"), district: "200")
            self.limits = limits
            communeA = try await store.issueCredential(for: "11111", scope: "unit-a")
            communeB = try await store.issueCredential(for: "22222", scope: "unit-b")
            reviewer = try await store.issueCredential(for: "reviewer1", scope: nil, reviewer: true)
        }

        /// Runs `body` against the hub's application, every request passing through its router
        /// and middleware as it would from a socket.
        func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            var logger = Logger(label: "hub-http-test")
            logger.logLevel = .critical
            let app = try HubServer.application(store: store, host: "127.0.0.1", port: 0, limits: limits, logger: logger)
            try await app.test(.router) { client in try await body(client) }
        }

        /// A push of what `sql` writes in a new replica of office `code`: its changes as syncd
        /// would send them.
        func pushBody(of code: ReplicaID, _ sql: String) throws -> ByteBuffer {
            let replica = try Replica.create(at: directory.path("\(code)-\(UUID().uuidString.prefix(8)).db"), id: code, role: .commune)
            try replica.database.execute(sql)
            try replica.fold()
            return ByteBuffer(bytes: try JSONEncoder().encode(PushRequest(changes: ChangeGroup.group(try replica.capturedChanges()))))
        }
    }

    /// The headers syncd sends: its credential (if any) and the versions it speaks.
    static func headers(_ token: String?, protocol: String? = String(WireVersion.protocolVersion),
                        schema: String? = String(RegisterSchema.current.version)) -> HTTPFields {
        var fields: HTTPFields = [:]
        if let token { fields[.authorization] = "Bearer \(token)" }
        if let `protocol` { fields[HTTPField.Name(WireVersion.protocolHeader)!] = `protocol` }
        if let schema { fields[HTTPField.Name(WireVersion.schemaHeader)!] = schema }
        return fields
    }

    static func decode<Message: Decodable>(_ type: Message.Type, _ response: TestResponse) throws -> Message {
        try JSONDecoder().decode(Message.self, from: Data(response.body.readableBytesView))
    }

    /// The refusal in a response, after checking its status.
    static func refusal(_ response: TestResponse, _ status: HTTPResponse.Status,
                        sourceLocation: SourceLocation = #_sourceLocation) throws -> ErrorBody {
        #expect(response.status == status, "\(String(buffer: response.body))", sourceLocation: sourceLocation)
        return try decode(ErrorBody.self, response)
    }

    // MARK: Routes

    @Test func everyListedRouteIsServedAndAnotherMethodIsToldWhichAreAllowed() async throws {
        let bench = try await Bench()
        try await bench.test { client in
            for route in HubAPI.routes {
                let response = try await client.execute(uri: route.path, method: HTTPRequest.Method(route.method)!)
                #expect(response.status != .notFound, "\(route.method) \(route.path) is listed but not served")
            }
            #expect(try await client.execute(uri: "/v1/nothing", method: .get).status == .notFound)
            let wrongMethod = try await client.execute(uri: "/v1/push", method: .get)
            #expect(try Self.refusal(wrongMethod, .methodNotAllowed).error == "method_not_allowed")
            #expect(wrongMethod.headers[.allow] == "POST")
        }
    }

    // MARK: Validation

    @Test func malformedJSONIsRefusedNamingTheMessageExpected() async throws {
        let bench = try await Bench()
        try await bench.test { client in
            let broken = ByteBuffer(string: #"{"changes": [{"t": "persons""#)
            for (path, token, message) in [("/v1/push", bench.communeA, "PushRequest"), ("/v1/rows", bench.communeA, "RowsRequest"),
                                           ("/v1/conflicts/resolve", bench.reviewer, "ResolveRequest")] {
                let response = try await client.execute(uri: path, method: .post, headers: Self.headers(token), body: broken)
                let refusal = try Self.refusal(response, .badRequest)
                #expect(refusal.error == "bad_request")
                #expect(refusal.message.contains("not a valid \(message)"), "\(path): \(refusal.message)")
            }
        }
    }

    @Test func aSyncRequestWithoutItsVersionsOrWithOthersIsRefusedAndNothingIsApplied() async throws {
        let bench = try await Bench()
        let push = try bench.pushBody(of: "11111", "INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-a', 'An')")
        try await bench.test { client in
            let cases: [(HTTPFields, HTTPResponse.Status, String, String)] = [
                (Self.headers(bench.communeA, protocol: nil), .badRequest, "bad_request", "has no \(WireVersion.protocolHeader) header"),
                (Self.headers(bench.communeA, schema: nil), .badRequest, "bad_request", "has no \(WireVersion.schemaHeader) header"),
                (Self.headers(bench.communeA, schema: "two"), .badRequest, "bad_request", "must be a whole number, not 'two'"),
                (Self.headers(bench.communeA, protocol: "2"), .conflict, "version_mismatch", "the request says protocol 2"),
                (Self.headers(bench.communeA, schema: "99"), .conflict, "version_mismatch", "schema 99, a later release's. Changes are held"),
                (Self.headers(bench.communeA, schema: "0"), .conflict, "version_mismatch", "the request says schema 0"),
            ]
            for (headers, status, code, message) in cases {
                let response = try await client.execute(uri: "/v1/push", method: .post, headers: headers, body: push)
                let refusal = try Self.refusal(response, status)
                #expect(refusal.error == code)
                #expect(refusal.message.contains(message), "\(refusal.message)")
            }
            // Held, not misapplied: the hub's feed is still empty.
            let pulled = try await client.execute(uri: "/v1/pull", method: .get, headers: Self.headers(bench.communeA))
            #expect(try Self.decode(PullResponse.self, pulled).changes.isEmpty)
            // The review API is not versioned: a reviewer's script sends its credential alone.
            let conflicts = try await client.execute(uri: "/v1/conflicts?state=open", method: .get,
                                                     headers: Self.headers(bench.reviewer, protocol: nil, schema: nil))
            #expect(conflicts.status == .ok)
            #expect(try Self.decode([ConflictView].self, conflicts).isEmpty)
        }
    }

    /// An office of the previous register schema is served (the hub keeps its newer columns
    /// for it) until the district raises `oldest_office_schema`; then it is held, told why.
    @Test func anOfficeOfAnEarlierSchemaIsServedUntilTheDistrictStopsServingIt() async throws {
        let earlier = String(RegisterSchema.latest.version - 1)
        let served = try await Bench()
        try await served.test { client in
            let push = try served.pushBody(of: "11111", "INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-a', 'An')")
            let pushed = try await client.execute(uri: "/v1/push", method: .post, headers: Self.headers(served.communeA, schema: earlier), body: push)
            #expect(pushed.status == .ok)
            let pulled = try await client.execute(uri: "/v1/pull", method: .get, headers: Self.headers(served.communeA, schema: earlier))
            #expect(try Self.decode(PullResponse.self, pulled).schema == RegisterSchema.latest.version)
        }
        var limits = HubLimits()
        limits.oldestOfficeSchema = RegisterSchema.latest.version
        let refusing = try await Bench(limits: limits)
        try await refusing.test { client in
            let push = try refusing.pushBody(of: "11111", "INSERT INTO persons(id, commune_id, full_name) VALUES ('p1', 'unit-a', 'An')")
            let refusal = try Self.refusal(
                try await client.execute(uri: "/v1/push", method: .post, headers: Self.headers(refusing.communeA, schema: earlier), body: push),
                .conflict)
            #expect(refusal.error == "version_mismatch")
            #expect(refusal.message.contains("(oldest_office_schema); the request says schema \(earlier)"), "\(refusal.message)")
            #expect(refusal.message.contains("upgrade syncd at the office"))
            let pulled = try await client.execute(uri: "/v1/pull", method: .get, headers: Self.headers(refusing.communeA))
            #expect(try Self.decode(PullResponse.self, pulled).changes.isEmpty)
        }
    }

    @Test func aBodyLargerThanTheLimitIsRefusedAsSentAndAsExpanded() async throws {
        var limits = HubLimits()
        limits.maxBodyBytes = 4096
        limits.maxExpandedBytes = 16 * 1024
        let bench = try await Bench(limits: limits)
        try await bench.test { client in
            let large = ByteBuffer(bytes: [UInt8](repeating: UInt8(ascii: " "), count: 8192))
            let asSent = try Self.refusal(
                try await client.execute(uri: "/v1/push", method: .post, headers: Self.headers(bench.communeA), body: large), .contentTooLarge)
            #expect(asSent.error == "too_large")
            #expect(asSent.message.contains("larger than 4096 bytes"))

            // Small on the wire, too large once inflated.
            var gzipped = Self.headers(bench.communeA)
            gzipped[.contentEncoding] = "gzip"
            let bomb = Gzip.compress([UInt8](repeating: UInt8(ascii: " "), count: 64 * 1024))
            #expect(bomb.count < bench.limits.maxBodyBytes)
            let expanded = try Self.refusal(
                try await client.execute(uri: "/v1/push", method: .post, headers: gzipped, body: ByteBuffer(bytes: bomb)), .contentTooLarge)
            #expect(expanded.error == "too_large")
        }
    }

    @Test func pageParametersThatAreNotWholeNumbersInRangeAreRefused() async throws {
        let bench = try await Bench()
        try await bench.test { client in
            let refused = [
                ("/v1/pull?after=-1", "after"), ("/v1/pull?after=soon", "after"), ("/v1/pull?limit=0", "limit"),
                ("/v1/pull?limit=1.5", "limit"), ("/v1/pull?rules=x", "rules"), ("/v1/snapshot?limit=-3", "limit"),
                ("/v1/snapshot?checkpoint=last", "checkpoint"), ("/v1/own?after=-1", "after"),
                ("/v1/own?limit=99999999999999999999", "limit"),
            ]
            for (uri, parameter) in refused {
                let response = try await client.execute(uri: uri, method: .get, headers: Self.headers(bench.communeA))
                let refusal = try Self.refusal(response, .badRequest)
                #expect(refusal.message.hasPrefix("query parameter '\(parameter)' must be a whole number"), "\(uri): \(refusal.message)")
            }
            let cursor = try await client.execute(uri: "/v1/snapshot?cursor=nowhere", method: .get, headers: Self.headers(bench.communeA))
            #expect(try Self.refusal(cursor, .badRequest).message.contains("malformed snapshot cursor"))
            // The same parameters in range are answered.
            for uri in ["/v1/pull?after=0&limit=1", "/v1/snapshot?limit=1", "/v1/own?after=0&limit=1"] {
                #expect(try await client.execute(uri: uri, method: .get, headers: Self.headers(bench.communeA)).status == .ok, "\(uri)")
            }
        }
    }

    // MARK: Credentials and scope

    @Test func noCredentialOrAWrongOneGets401SayingWhatToDo() async throws {
        let bench = try await Bench()
        try await bench.test { client in
            for path in ["/v1/pull", "/v1/conflicts"] {
                let none = try Self.refusal(try await client.execute(uri: path, method: .get, headers: Self.headers(nil)), .unauthorized)
                #expect(none.error == "unauthorized")
                #expect(none.message.hasPrefix("no credential was sent"))
                let wrong = try Self.refusal(
                    try await client.execute(uri: path, method: .get, headers: Self.headers("11111.not-the-secret")), .unauthorized)
                #expect(wrong.message.contains("the credential for '11111' is not valid"))
                var basic = Self.headers(nil)
                basic[.authorization] = "Basic \(bench.communeA)"
                #expect(try Self.refusal(try await client.execute(uri: path, method: .get, headers: basic), .unauthorized)
                    .message.hasPrefix("no credential was sent"))
            }
            // The credential is checked before the versions: a stranger learns nothing more.
            let stranger = try await client.execute(uri: "/v1/push", method: .post, headers: Self.headers(nil, protocol: nil, schema: nil))
            #expect(try Self.refusal(stranger, .unauthorized).error == "unauthorized")
        }
    }

    @Test func aCommuneCannotPushIntoAnotherCommunesScope() async throws {
        let bench = try await Bench()
        let watcherA = try await bench.store.issueCredential(for: "11112", scope: "unit-a")
        let push = try bench.pushBody(of: "11111", """
            INSERT INTO persons(id, commune_id, full_name) VALUES ('pa1', 'unit-a', 'An');
            INSERT INTO persons(id, commune_id, full_name) VALUES ('pb9', 'unit-b', 'Not mine');
            """)
        try await bench.test { client in
            let response = try await client.execute(uri: "/v1/push", method: .post, headers: Self.headers(bench.communeA), body: push)
            #expect(response.status == .ok)
            let pushed = try Self.decode(PushResponse.self, response)
            #expect(Set(pushed.refused.map(\.row)) == ["pb9"])
            #expect(pushed.refused.allSatisfy { $0.code == "out_of_scope" })
            #expect(pushed.applied > 0)
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"communesync_hub_changes_refused_total{replica="11111"} "# + String(pushed.refused.count) + "\n"),
                    "each refused change counted under its office")

            // B's commune holds nothing: not the row A was refused, nor the one A may keep.
            let pulledByB = try Self.decode(PullResponse.self, try await client.execute(
                uri: "/v1/pull", method: .get, headers: Self.headers(bench.communeB)))
            #expect(pulledByB.changes.isEmpty, "\(pulledByB.changes.map(\.r))")
            let pulledInA = try Self.decode(PullResponse.self, try await client.execute(
                uri: "/v1/pull", method: .get, headers: Self.headers(watcherA)))
            #expect(Set(pulledInA.changes.map(\.r)) == ["pa1"])
        }
    }

    @Test func aCommuneReadsOnlyItsOwnScopeWhicheverWayItAsks() async throws {
        let bench = try await Bench()
        let pushA = try bench.pushBody(of: "11111", "INSERT INTO persons(id, commune_id, full_name) VALUES ('pa1', 'unit-a', 'An')")
        let pushB = try bench.pushBody(of: "22222", "INSERT INTO persons(id, commune_id, full_name) VALUES ('pb1', 'unit-b', 'Bình')")
        // A feed carries other offices' changes: each commune's second office pulls what its first pushed.
        let watcherA = try await bench.store.issueCredential(for: "11112", scope: "unit-a")
        let watcherB = try await bench.store.issueCredential(for: "22223", scope: "unit-b")
        try await bench.test { client in
            for (token, push) in [(bench.communeA, pushA), (bench.communeB, pushB)] {
                #expect(try await client.execute(uri: "/v1/push", method: .post, headers: Self.headers(token), body: push).status == .ok)
            }
            let asked = ByteBuffer(bytes: try JSONEncoder().encode(RowsRequest(table: "persons", ids: ["pa1", "pb1"])))
            for (token, watcher, mine) in [(bench.communeA, watcherA, "pa1"), (bench.communeB, watcherB, "pb1")] {
                let pulled = try Self.decode(PullResponse.self, try await client.execute(
                    uri: "/v1/pull", method: .get, headers: Self.headers(watcher)))
                #expect(Set(pulled.changes.map(\.r)) == [mine])
                let headers = Self.headers(token)
                let snapshot = try Self.decode(SnapshotPage.self, try await client.execute(uri: "/v1/snapshot", method: .get, headers: headers))
                #expect(Set(snapshot.rows.map(\.row)) == [mine])
                let rows = try Self.decode(RowsResponse.self, try await client.execute(
                    uri: "/v1/rows", method: .post, headers: headers, body: asked))
                #expect(rows.rows.map(\.row) == [mine])
                let digest = try Self.decode(DigestResponse.self, try await client.execute(uri: "/v1/digest", method: .get, headers: headers))
                #expect(digest.tables.first { $0.table == "persons" }?.rows == 1)
            }
        }
    }

    @Test func reviewerRoutesRefuseACommuneAndSyncRoutesRefuseAReviewer() async throws {
        let bench = try await Bench()
        try await bench.test { client in
            let decision = ByteBuffer(bytes: try JSONEncoder().encode(ResolveRequest(id: "c1", pick: "a", value: nil, reason: "checked")))
            let revert = ByteBuffer(bytes: try JSONEncoder().encode(RevertRequest(review: 1, reason: "mistake")))
            for (method, path, body) in [(HTTPRequest.Method.get, "/v1/conflicts", nil), (.post, "/v1/conflicts/resolve", decision),
                                         (.post, "/v1/conflicts/revert", revert)] {
                let response = try await client.execute(uri: path, method: method, headers: Self.headers(bench.communeA), body: body)
                let refusal = try Self.refusal(response, .forbidden)
                #expect(refusal.error == "forbidden")
                #expect(refusal.message.contains("the credential of 11111 is a commune's; this needs a reviewer's"), "\(path)")
            }
            #expect(try await client.execute(uri: "/v1/conflicts", method: .get, headers: Self.headers(bench.reviewer)).status == .ok)
            let snapshot = try await client.execute(uri: "/v1/snapshot", method: .get, headers: Self.headers(bench.reviewer))
            #expect(try Self.refusal(snapshot, .forbidden).message.contains("is a reviewer's; this needs a commune's"))
        }
    }

    // MARK: Paging

    @Test func pullAndSnapshotPagesAddUpToTheWhole() async throws {
        var limits = HubLimits()
        limits.maxBatch = 7
        let bench = try await Bench(limits: limits)
        let people = (1...23).map { "('p\($0)', 'unit-a', 'Person \($0)')" }.joined(separator: ", ")
        let push = try bench.pushBody(of: "11111", "INSERT INTO persons(id, commune_id, full_name) VALUES \(people)")
        let watcher = try await bench.store.issueCredential(for: "11112", scope: "unit-a")
        try await bench.test { client in
            #expect(try await client.execute(uri: "/v1/push", method: .post, headers: Self.headers(bench.communeA), body: push).status == .ok)
            let whole = try await bench.store.pull(for: try await bench.store.authenticate("Bearer \(watcher)"), after: 0, limit: 10_000)
            #expect(!whole.more)

            // The feed, five at a time (and never more than max_batch, whatever is asked).
            var pulled: [ChangeGroup] = []
            var after: Int64 = 0
            var pages = 0
            while true {
                let limit = pages == 0 ? 1_000 : 5
                let page = try Self.decode(PullResponse.self, try await client.execute(
                    uri: "/v1/pull?after=\(after)&limit=\(limit)", method: .get, headers: Self.headers(watcher)))
                #expect(page.changes.count <= min(limit, bench.limits.maxBatch))
                pulled += page.changes
                after = page.next
                pages += 1
                if !page.more || pages > 100 { break }
            }
            #expect(pages > 3)
            #expect(pulled.flatMap { $0.changes() ?? [] } == whole.changes.flatMap { $0.changes() ?? [] })
            #expect(Set(pulled.map(\.r)) == Set((1...23).map { "p\($0)" }))

            // The state, four rows a page, each page at the first page's checkpoint.
            var rows: [RowSnapshot] = []
            var cursor: String?
            var checkpoint: Int64?
            pages = 0
            repeat {
                var uri = "/v1/snapshot?limit=4"
                if let cursor { uri += "&cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
                if let checkpoint { uri += "&checkpoint=\(checkpoint)" }
                let page = try Self.decode(SnapshotPage.self, try await client.execute(uri: uri, method: .get, headers: Self.headers(watcher)))
                #expect(page.rows.count <= 4)
                #expect(checkpoint == nil || page.checkpoint == checkpoint)
                rows += page.rows
                checkpoint = page.checkpoint
                cursor = page.cursor
                pages += 1
            } while cursor != nil && pages <= 100
            #expect(pages >= 6)
            let state = try await bench.store.snapshot(
                for: try await bench.store.authenticate("Bearer \(watcher)"), cursor: nil, checkpoint: nil, limit: 10_000)
            #expect(rows == state.rows)
            #expect(Set(rows.filter { $0.table == "persons" }.map(\.row)) == Set((1...23).map { "p\($0)" }))
            #expect(checkpoint == whole.next)
        }
    }

    // MARK: Metrics

    @Test func everyAnswerIsCountedUnderItsRouteAndStatus() async throws {
        let bench = try await Bench()
        try await bench.test { client in
            _ = try await client.execute(uri: "/v1/pull?after=0&limit=3", method: .get, headers: Self.headers(bench.communeA))
            _ = try await client.execute(uri: "/v1/pull?after=1", method: .get, headers: Self.headers(nil))
            _ = try await client.execute(uri: "/v1/push", method: .post, headers: Self.headers(bench.communeA, schema: "99"))
            _ = try await client.execute(uri: "/v1/conflicts", method: .get, headers: Self.headers(bench.communeA))
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let counted = metrics.split(separator: "\n").filter { $0.hasPrefix("communesync_hub_requests_total{") }
            func count(_ route: String, _ status: Int) -> Bool {
                counted.contains { $0.contains(#"route="\#(route)""#) && $0.contains(#"status="\#(status)""#) && $0.hasSuffix(" 1") }
            }
            #expect(count("/v1/pull", 200), "\(counted)")
            #expect(count("/v1/pull", 401), "\(counted)")
            #expect(count("/v1/push", 409), "\(counted)")
            #expect(count("/v1/conflicts", 403), "\(counted)")
            #expect(counted.count == 4, "only the routes, never what was asked: \(counted)")
            #expect(metrics.contains(#"communesync_hub_replica_last_seen_timestamp_seconds{replica="11111",role="commune"}"#))
        }
    }
}
