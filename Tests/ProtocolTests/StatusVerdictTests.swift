import SyncClient
import Testing

/// The verdict behind `syncctl status`'s exit code, case by case.
@Suite struct StatusVerdictTests {
    func judge(daemon: Bool = true, hub: Bool = true, error: String? = nil, age: Double? = nil, skew: Double? = 0.5,
               disk: Int64? = 10 << 30, review: Int = 0) -> (StatusReport.State, String?) {
        StatusReport.judge(daemonRunning: daemon, hubReachable: hub, lastError: error, oldestUnackedAge: age, skew: skew,
                           freeDisk: disk, awaitingReview: review)
    }

    @Test func allWellIsHealthy() { #expect(judge().0 == .healthy && judge().1 == nil) }
    @Test func noDaemonIsDown() { #expect(judge(daemon: false, hub: false).0 == .down) }
    @Test func noHubIsDegraded() { #expect(judge(hub: false).0 == .degraded) }
    @Test func aFailedRoundIsDegraded() { #expect(judge(error: "401").0 == .degraded) }
    @Test func aSkewedClockIsDegraded() { #expect(judge(skew: -900).1?.contains("timedatectl") == true) }
    @Test func oldUnsentChangesAreDegraded() { #expect(judge(age: 2 * 86_400).0 == .degraded) }
    @Test func aFullDiskIsDegraded() { #expect(judge(disk: 10 << 20).0 == .degraded) }
    @Test func pendingReviewIsHealthyWithANote() { #expect(judge(review: 2) == (.healthy, "2 conflict(s) wait for district review; nothing to do here")) }
}
