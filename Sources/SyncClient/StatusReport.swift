import Foundation
import MergeEngine
import Register
import Replica
import SyncProtocol

/// `syncctl status`: is this office's data safe at the hub? Built from the replica file (always
/// readable), the daemon (if it answers) and, when the daemon does not, a probe of the hub.
/// The JSON keys are a stable interface for monitoring.
public struct StatusReport: Encodable, Sendable {
    public enum State: String, Encodable, Sendable {
        case healthy, degraded, down

        /// Exit code for monitoring: 0 healthy, 1 degraded, 2 down.
        public var exitCode: Int32 {
            switch self {
            case .healthy: return 0
            case .degraded: return 1
            case .down: return 2
            }
        }
    }

    public var replica: String
    public var communeName: String?
    public var hubURL: String
    public var hubReachable: Bool
    public var lastPushAckAt: String?
    public var lastPullAt: String?
    public var unackedChanges: Int
    /// The rows they are in.
    public var unackedRows: Int
    public var oldestUnackedAgeSeconds: Double?
    public var openConflicts: Int
    public var awaitingReview: Int
    public var schemaVersion: Int
    public var rulesVersion: String
    public var hubRulesVersion: String?
    /// The register schema the hub keeps, when it said (a later one than `schemaVersion`: this
    /// office's upgrade is pending).
    public var hubSchemaVersion: Int?
    public var daemonRunning: Bool
    public var daemonUptimeSeconds: Double?
    public var clockSkewSeconds: Double?
    public var replicaBytes: Int64
    public var diskFreeBytes: Int64?
    public var lastError: String?
    public var lastErrorKind: RoundFailure?
    /// Why the hub could not be used although the link may be up: its certificate is not
    /// trusted, or plain http to it was refused.
    public var hubProblem: String?
    /// Changes the hub refused, not yet sent again or dropped (`syncctl refused`).
    public var refusedChanges: Int
    /// The rows those changes are of.
    public var refusedRows: Int
    /// When a comparison with the hub by content last matched; rows still differing after the last one.
    public var lastDigestMatchAt: String?
    public var digestDifferingRows: Int
    /// District changes held here that the hub (put back from an older copy) could not take back.
    public var districtNotAtHub: Int
    /// When this file was last rebuilt from the hub, and why (a restored or copied file).
    public var rebasedAt: String?
    public var rebaseReason: String?
    /// Why, for the text screen (nil from a file rebuilt by an older release).
    public var rebaseCause: RebuildCause?
    /// When this file was filled from the hub in place of a computer that had synced before,
    /// and what the hub last heard from that one.
    public var filledFromHubAt: String?
    public var previousComputer: PreviousComputer?
    /// Rebuilds within the last day: several mean two computers run copies of this replica.
    public var recentRebuilds: Int
    public var state: State
    /// What to do about the worst problem, if any.
    public var advice: StatusAdvice?
    /// The same in English, as `--json` carries it for monitoring.
    public var hint: String? { advice.map(English().advice) }

    /// Thresholds past which the office is told something needs doing.
    public static let maxUnackedAgeSeconds: Double = 24 * 3600
    public static let maxClockSkewSeconds: Double = 300
    public static let minFreeDiskBytes: Int64 = 200 * 1024 * 1024

    public init(
        health: ReplicaHealth, hubURL: String, daemon: DaemonStatus?, hubReachable: Bool, probedSkew: Double?,
        probedProblem: String? = nil, now: Date = Date()
    ) {
        replica = health.replica
        communeName = health.unitName
        self.hubURL = hubURL
        self.hubReachable = hubReachable
        lastPushAckAt = health.lastPushAckAt
        lastPullAt = health.lastPullAt
        unackedChanges = health.unackedChanges
        unackedRows = health.unackedRows
        oldestUnackedAgeSeconds = health.oldestUnackedWrittenAt.map { max(0, now.timeIntervalSince($0)) }
        openConflicts = health.openConflicts
        awaitingReview = health.awaitingReview
        schemaVersion = health.schemaVersion
        rulesVersion = health.rulesVersion
        hubRulesVersion = health.hubRulesVersion
        hubSchemaVersion = health.hubSchemaVersion
        daemonRunning = daemon != nil
        daemonUptimeSeconds = daemon.map { max(0, now.timeIntervalSince($0.startedAt)) }
        clockSkewSeconds = daemon?.clockSkewSeconds ?? probedSkew
        replicaBytes = health.fileBytes
        diskFreeBytes = health.freeDiskBytes
        lastError = daemon?.lastError
        lastErrorKind = daemon?.lastErrorKind
        hubProblem = daemon.map { $0.hubProblem } ?? probedProblem
        refusedChanges = health.refusedChanges
        refusedRows = health.refusedRows
        lastDigestMatchAt = health.digestMatchedAt
        digestDifferingRows = health.digestDifferingRows
        districtNotAtHub = health.districtUnreturned
        rebasedAt = health.rebasedAt
        rebaseReason = health.rebaseReason
        rebaseCause = health.rebaseCause
        filledFromHubAt = health.filledFromHubAt
        previousComputer = health.previousComputer.flatMap { try? JSONDecoder().decode(PreviousComputer.self, from: Data($0.utf8)) }
        recentRebuilds = health.recentRebuilds
        (state, advice) = StatusReport.judge(
            daemonRunning: daemonRunning, hubReachable: hubReachable, hubProblem: hubProblem, lastError: lastError,
            lastErrorKind: lastErrorKind, oldestUnackedAge: oldestUnackedAgeSeconds, skew: clockSkewSeconds, freeDisk: diskFreeBytes,
            awaitingReview: awaitingReview, refusedRows: refusedRows, refusedExample: health.refusedExample,
            digestDiffering: digestDifferingRows, digestExample: health.digestDifferingExample, recentRebuilds: recentRebuilds,
            districtNotAtHub: districtNotAtHub, districtExample: health.districtUnreturnedExample)
        if state == .healthy, let hubRules = hubRulesVersion, hubRules != rulesVersion {
            (state, advice) = (.degraded, .rulesBehind(mine: rulesVersion, hub: hubRules))
        }
        // Said for a month after it was noticed (the district has been told by then; the
        // office's register still holds every value).
        if state != .down, let at = health.hubLacksDroppedAt, let noticed = try? Date(at, strategy: .iso8601),
            now.timeIntervalSince(noticed) < 30 * 86_400
        {
            (state, advice) = (.degraded, .hubLacksDropped(at: at))
        }
        // Away longer than the district's horizon: the link is still what to mend, and what
        // comes of it is said (edits of records deleted meanwhile will be refused).
        if state != .down, let horizon = health.officeLogDays, horizon > 0, let last = health.lastPullAt,
            let pulled = try? Date(last, strategy: .iso8601), now.timeIntervalSince(pulled) > Double(horizon) * 86_400,
            advice?.isAboutTheLink ?? true
        {
            (state, advice) = (.degraded, .awayPastHorizon(days: Int(now.timeIntervalSince(pulled) / 86_400), horizon: horizon))
        }
        if state == .healthy, let hubSchema = hubSchemaVersion, hubSchema > schemaVersion {
            (state, advice) = (.degraded, .upgradePending(mine: schemaVersion, hub: hubSchema))
        }
    }

    /// The verdict and the one thing to do first. Pure, so every branch is tested.
    public static func judge(
        daemonRunning: Bool, hubReachable: Bool, hubProblem: String? = nil, lastError: String?, lastErrorKind: RoundFailure? = nil,
        oldestUnackedAge: Double?, skew: Double?,
        freeDisk: Int64?, awaitingReview: Int, refusedRows: Int = 0, refusedExample: RefusedRow? = nil,
        digestDiffering: Int = 0, digestExample: String? = nil, recentRebuilds: Int = 0, districtNotAtHub: Int = 0,
        districtExample: String? = nil
    ) -> (State, StatusAdvice?) {
        if !daemonRunning { return (.down, .startDaemon) }
        if let freeDisk, freeDisk < minFreeDiskBytes { return (.degraded, .freeDisk) }
        // Not the link: telling the technician to check cables would send them the wrong way.
        if let hubProblem { return (.degraded, .hubProblem(hubProblem)) }
        if !hubReachable { return (.degraded, .hubSilent) }
        // The cause of the failures that come with it: named first, with what to do.
        if recentRebuilds >= RebuildHistory.copiesThreshold { return (.degraded, .copiesRunning(rebuilds: recentRebuilds)) }
        // A clock far off is the cause of the refusals that come with it.
        if let skew, abs(skew) > maxClockSkewSeconds { return (.degraded, .clockOff(seconds: Int(skew))) }
        if let lastError { return (.degraded, .lastSyncFailed(kind: lastErrorKind, detail: lastError)) }
        if refusedRows > 0 { return (.degraded, .refused(rows: refusedRows, example: refusedExample ?? RefusedRow(table: "?", row: "?", code: "?"))) }
        if districtNotAtHub > 0 { return (.degraded, .districtNotAtHub(changes: districtNotAtHub, example: districtExample ?? "?")) }
        if digestDiffering > 0 { return (.degraded, .differing(rows: digestDiffering, example: digestExample ?? "?")) }
        if let age = oldestUnackedAge, age > maxUnackedAgeSeconds { return (.degraded, .unsentOld) }
        if awaitingReview > 0 { return (.healthy, .awaitingReview(awaitingReview)) }
        return (.healthy, nil)
    }

    enum Keys: String, CodingKey {
        case replica, state, hint
        case communeName = "commune_name", hubURL = "hub_url", hubReachable = "hub_reachable"
        case lastPushAckAt = "last_push_ack_at", lastPullAt = "last_pull_at", unackedChanges = "unacked_changes", unackedRows = "unacked_rows"
        case oldestUnackedAgeSeconds = "oldest_unacked_age_s", openConflicts = "open_conflicts"
        case awaitingReview = "awaiting_review", schemaVersion = "schema_version", rulesVersion = "rules_version"
        case hubRulesVersion = "hub_rules_version", hubSchemaVersion = "hub_schema_version"
        case daemonRunning = "daemon_running", daemonUptimeSeconds = "daemon_uptime_s", clockSkewSeconds = "clock_skew_s"
        case replicaBytes = "replica_bytes", diskFreeBytes = "disk_free_bytes", lastError = "last_error", hubProblem = "hub_problem"
        case refusedChanges = "refused_changes", refusedRows = "refused_rows", lastDigestMatchAt = "last_digest_match_at"
        case digestDifferingRows = "digest_differing_rows", rebasedAt = "rebased_at", rebaseReason = "rebase_reason"
        case filledFromHubAt = "filled_from_hub_at", previousComputer = "previous_computer"
        case recentRebuilds = "rebuilds_24h"
        case districtNotAtHub = "district_changes_not_at_hub"
    }

    /// Every key is always present; unknown values are null.
    public func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: Keys.self)
        try keys.encode(replica, forKey: .replica)
        try keys.encode(communeName, forKey: .communeName)
        try keys.encode(hubURL, forKey: .hubURL)
        try keys.encode(hubReachable, forKey: .hubReachable)
        try keys.encode(lastPushAckAt, forKey: .lastPushAckAt)
        try keys.encode(lastPullAt, forKey: .lastPullAt)
        try keys.encode(unackedChanges, forKey: .unackedChanges)
        try keys.encode(unackedRows, forKey: .unackedRows)
        try keys.encode(oldestUnackedAgeSeconds, forKey: .oldestUnackedAgeSeconds)
        try keys.encode(openConflicts, forKey: .openConflicts)
        try keys.encode(awaitingReview, forKey: .awaitingReview)
        try keys.encode(schemaVersion, forKey: .schemaVersion)
        // Versions are numbers, like schema_version (the replica keeps them as text).
        try keys.encode(Int(rulesVersion), forKey: .rulesVersion)
        try keys.encode(hubRulesVersion.flatMap { Int($0) }, forKey: .hubRulesVersion)
        try keys.encode(hubSchemaVersion, forKey: .hubSchemaVersion)
        try keys.encode(daemonRunning, forKey: .daemonRunning)
        try keys.encode(daemonUptimeSeconds, forKey: .daemonUptimeSeconds)
        try keys.encode(clockSkewSeconds, forKey: .clockSkewSeconds)
        try keys.encode(replicaBytes, forKey: .replicaBytes)
        try keys.encode(diskFreeBytes, forKey: .diskFreeBytes)
        try keys.encode(lastError, forKey: .lastError)
        try keys.encode(hubProblem, forKey: .hubProblem)
        try keys.encode(refusedChanges, forKey: .refusedChanges)
        try keys.encode(refusedRows, forKey: .refusedRows)
        try keys.encode(lastDigestMatchAt, forKey: .lastDigestMatchAt)
        try keys.encode(digestDifferingRows, forKey: .digestDifferingRows)
        try keys.encode(rebasedAt, forKey: .rebasedAt)
        try keys.encode(rebaseReason, forKey: .rebaseReason)
        try keys.encodeIfPresent(filledFromHubAt, forKey: .filledFromHubAt)
        try keys.encodeIfPresent(previousComputer, forKey: .previousComputer)
        try keys.encode(recentRebuilds, forKey: .recentRebuilds)
        try keys.encode(districtNotAtHub, forKey: .districtNotAtHub)
        try keys.encode(state, forKey: .state)
        try keys.encode(hint, forKey: .hint)
    }
}

/// Asking the hub's /health directly (when the daemon cannot be asked).
public enum HubProbe {
    /// Whether the hub accepts `credential` for the sync API (a one-row snapshot page: reads
    /// nothing into the replica). nil status when the hub did not answer.
    public static func checkCredential(
        _ url: String, credential: String, schema: Int, caFile: String? = nil, allowInsecureHTTP: Bool = false
    ) -> (status: Int?, message: String) {
        guard let session = try? CurlSession(connectTimeoutSeconds: 5, requestTimeoutSeconds: 10, caFile: caFile, allowInsecureHTTP: allowInsecureHTTP) else {
            return (nil, "libcurl could not start")
        }
        let headers = ["Authorization: Bearer \(credential)", "\(WireVersion.protocolHeader): \(WireVersion.protocolVersion)",
                       "\(WireVersion.schemaHeader): \(schema)"]
        do {
            let reply = try session.send("GET", (url.hasSuffix("/") ? String(url.dropLast()) : url) + "/v1/snapshot?limit=1", headers: headers)
            let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(reply.body))
            return (reply.status, error?.message ?? "")
        } catch {
            return (nil, "\(error)")
        }
    }

    /// Whether the hub answers within `timeoutSeconds`, the clock skew it implies, and, when
    /// it cannot be used for another reason than the link (its certificate, plain http to
    /// another computer), what to tell the technician.
    public static func check(
        _ url: String, timeoutSeconds: Double = 5, caFile: String? = nil, allowInsecureHTTP: Bool = false
    ) -> (reachable: Bool, skew: Double?, problem: String?) {
        let reply: CurlSession.Reply
        do {
            let session = try CurlSession(
                connectTimeoutSeconds: timeoutSeconds, requestTimeoutSeconds: timeoutSeconds, caFile: caFile, allowInsecureHTTP: allowInsecureHTTP)
            reply = try session.send("GET", (url.hasSuffix("/") ? String(url.dropLast()) : url) + "/health", headers: [])
        } catch let failure as CurlSession.Failure {
            return (false, nil, SyncError(failure, url: url).hubProblem)
        } catch {
            return (false, nil, nil)
        }
        guard reply.status == 200 else { return (false, nil, nil) }
        let body = try? JSONDecoder().decode([String: String].self, from: Data(reply.body))
        let skew = body?["time"].flatMap(Double.init).map { Date().timeIntervalSince1970 - $0 / 1000 }
        return (true, skew, nil)
    }
}
