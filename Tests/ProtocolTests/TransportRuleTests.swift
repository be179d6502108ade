import Foundation
@testable import HubCore
@testable import HubHTTP
@testable import HubPostgres
@testable import HubSQLite
@testable import ReviewDesk
import SyncClient
import SyncCore
import Testing

/// Which hub addresses get the credential over plain http, and how long a review session lives.
@Suite struct TransportRuleTests {
    @Test func plainHTTPIsForThisComputerOnly() {
        for url in ["http://127.0.0.1:8470", "http://127.8.9.10/", "http://localhost:8470", "http://[::1]:8470", "https://10.0.0.5:8470"] {
            #expect(PlainHTTPRule.refusal(for: url, allowInsecureHTTP: false) == nil, "\(url)")
        }
        for url in ["http://10.0.0.5:8470", "http://hub.damha.example", "http://127.evil.example:8470", "http://[::2]:8470", "http://0.0.0.0:8470"] {
            let refusal = PlainHTTPRule.refusal(for: url, allowInsecureHTTP: false)
            #expect(refusal?.contains("allow_insecure_http = true") == true, "\(url): \(refusal ?? "allowed")")
        }
        #expect(PlainHTTPRule.refusal(for: "http://10.0.0.5:8470", allowInsecureHTTP: true) == nil, "the district may allow it")
    }

    @Test func aCertificateProblemIsNotReportedAsADownLink() {
        let problem = SyncError.untrustedHub(url: "https://hub", problem: .untrusted, detail: "unable to get local issuer certificate")
        #expect(!problem.description.contains("network link") && problem.description.contains("ca_file"))
        let (state, advice) = StatusReport.judge(daemonRunning: true, hubReachable: false, hubProblem: problem.hubProblem, lastError: problem.description,
                                               oldestUnackedAge: nil, skew: nil, freeDisk: nil, awaitingReview: 0)
        #expect(state == .degraded && advice == .hubProblem(problem.description))
        #expect(English().advice(.hubProblem(problem.description)) == problem.description)
        #expect(SyncError.unreachable(url: "https://hub", detail: "timeout").hubProblem == nil)
    }

    @Test func aReviewSessionEndsAfterItsLifetimeOrAtLogout() async throws {
        let sessions = ReviewSessions(lifetime: 3600)
        let reviewer = Caller(replica: try #require(ReplicaID(rawValue: "reviewer-1")), scope: "*", role: .reviewer)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let (id, session) = await sessions.open(for: reviewer, now: start)
        #expect(await sessions.session(id, now: start.addingTimeInterval(3599)) == session)
        #expect(await sessions.session(id, now: start.addingTimeInterval(3601)) == nil, "expired")
        #expect(await sessions.session(id, now: start) == nil, "an expired session is forgotten, not revived")
        let (second, _) = await sessions.open(for: reviewer, now: start)
        await sessions.close(second)
        #expect(await sessions.session(second, now: start) == nil, "logged out")
        #expect(await sessions.session(nil) == nil && !ReviewSessions.same("a", "b") && !ReviewSessions.same("", ""))
    }
}
