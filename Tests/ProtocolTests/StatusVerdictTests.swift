import Foundation
import Replica
import SyncClient
import Testing

/// The verdict behind `syncctl status`'s exit code, case by case.
@Suite struct StatusVerdictTests {
    func judge(daemon: Bool = true, hub: Bool = true, error: String? = nil, age: Double? = nil, skew: Double? = 0.5,
               disk: Int64? = 10 << 30, review: Int = 0) -> (StatusReport.State, StatusAdvice?) {
        StatusReport.judge(daemonRunning: daemon, hubReachable: hub, lastError: error, oldestUnackedAge: age, skew: skew,
                           freeDisk: disk, awaitingReview: review)
    }

    @Test func allWellIsHealthy() { #expect(judge().0 == .healthy && judge().1 == nil) }
    @Test func noDaemonIsDown() { #expect(judge(daemon: false, hub: false).0 == .down) }
    @Test func noHubIsDegraded() { #expect(judge(hub: false).0 == .degraded) }
    @Test func aFailedRoundIsDegraded() { #expect(judge(error: "401").0 == .degraded) }
    @Test func aSkewedClockIsDegraded() {
        #expect(judge(skew: -900) == (.degraded, .clockOff(seconds: -900)))
        #expect(English().advice(.clockOff(seconds: -900)).contains("15 min behind the hub's, so the hub holds back what is written here until it is right: turn on time sync ('timedatectl set-ntp true')"))
        #expect(Vietnamese().advice(.clockOff(seconds: -900)).contains("chậm hơn máy chủ 15 phút"))
    }
    @Test func oldUnsentChangesAreDegraded() { #expect(judge(age: 2 * 86_400).0 == .degraded) }
    @Test func aFullDiskIsDegraded() { #expect(judge(disk: 10 << 20).0 == .degraded) }
    @Test func pendingReviewIsHealthyWithANote() {
        #expect(judge(review: 2) == (.healthy, .awaitingReview(2)))
        #expect(English().advice(.awaitingReview(2)) == "2 conflicts wait for district review; nothing to do here")
        #expect(English().advice(.awaitingReview(1)) == "1 conflict waits for district review; nothing to do here")
    }
}

/// A hub put back from a copy older than the office keeps what it sent: said on status for a
/// month after it was noticed, then no longer.
@Suite struct HubLacksDroppedStatusTests {
    @Test func saidForAMonthThenNoLonger() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lacks-dropped-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("office.db").path
        let replica = try Replica.create(at: path, id: "22499", role: .commune)
        let noticed = Date(timeIntervalSince1970: 1_780_000_000)
        try replica.noteHubBehindCompactedLog(held: 0, at: noticed)  // nothing dropped yet: nothing to say
        #expect(try ReplicaHealth.read(path: path).hubLacksDroppedAt == nil)
        try replica.setMeta("log_compacted_through", .integer(640))
        try replica.noteHubBehindCompactedLog(held: 64, at: noticed)
        func report(at now: Date) throws -> StatusReport {
            StatusReport(health: try ReplicaHealth.read(path: path), hubURL: "http://hub", daemon: DaemonStatus(startedAt: now),
                         hubReachable: true, probedSkew: nil, now: now)
        }
        let soon = try report(at: noticed.addingTimeInterval(86_400))
        #expect(soon.state == .degraded && soon.advice == .hubLacksDropped(at: noticed.formatted(.iso8601)))
        let later = try report(at: noticed.addingTimeInterval(31 * 86_400))
        #expect(later.advice != .hubLacksDropped(at: noticed.formatted(.iso8601)))
    }
}

/// An office that has not taken in the hub's changes for longer than the district's horizon
/// is told so, with the link still the thing to mend; within it, not.
@Suite struct AwayPastHorizonStatusTests {
    @Test func saidOnceTheLastPullIsOlderThanTheHorizon() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("away-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("office.db").path
        let replica = try Replica.create(at: path, id: "22499", role: .commune)
        let pulled = Date(timeIntervalSince1970: 1_780_000_000)
        try replica.setMeta("pull_at", .text(pulled.formatted(.iso8601)))
        try replica.setMeta("office_log_days", .integer(90))
        func report(at now: Date) throws -> StatusReport {
            StatusReport(health: try ReplicaHealth.read(path: path), hubURL: "http://hub", daemon: DaemonStatus(startedAt: now),
                         hubReachable: false, probedSkew: nil, now: now)
        }
        #expect(try report(at: pulled.addingTimeInterval(30 * 86_400)).advice == .hubSilent)
        let away = try report(at: pulled.addingTimeInterval(91 * 86_400))
        #expect(away.state == .degraded && away.advice == .awayPastHorizon(days: 91, horizon: 90))
        #expect(English().advice(.awayPastHorizon(days: 91, horizon: 90)).contains("for 91 days, longer than the district keeps them (90 days)"))
        #expect(Vietnamese().advice(.awayPastHorizon(days: 91, horizon: 90)).contains("trong 91 ngày"))
        try replica.setMeta("office_log_days", .integer(0))
        #expect(try report(at: pulled.addingTimeInterval(400 * 86_400)).advice == .hubSilent, "0: no horizon")
    }
}
