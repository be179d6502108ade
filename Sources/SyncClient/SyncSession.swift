import Foundation
import MergeEngine
import Register
import Replica
import SyncCore
import SyncProtocol

/// Why a sync round failed, and whether trying again later can help.
public enum SyncError: Error, CustomStringConvertible, Equatable {
    /// No answer (no connection, timeout): back off and retry.
    case unreachable(url: String, detail: String)
    /// An answer that could not be trusted: the hub's certificate (or the CA bundle to check
    /// it) is the problem, not the link. Retried, since the district may renew the certificate.
    case untrustedHub(url: String, problem: HubCertificateProblem, detail: String)
    /// Not sent at all: plain http to a hub on another computer (`PlainHTTPRule`).
    case insecureHub(String)
    /// The hub answered and refused: retrying the same request will not help.
    case refused(status: Int, code: String, message: String)
    /// The hub answered something this client cannot read.
    case badReply(String)
    /// This replica cannot be bootstrapped as it stands.
    case cannotBootstrap(String)

    public var description: String {
        switch self {
        case .unreachable(let url, let detail):
            return "the hub at \(url) did not answer (\(detail)): changes stay queued here and are sent when it does; "
                + "check the network link, or run 'syncctl doctor'"
        case .untrustedHub(let url, let problem, let detail):
            return problem.explanation(url: url, detail: detail)
        case .insecureHub(let refusal):
            return refusal
        case .refused(let status, let code, let message):
            return "the hub refused the request (\(status) \(code)): \(message)"
        case .badReply(let detail):
            return "the hub's reply could not be read (\(detail)): check that hub.url points at a CommuneSync hub of the same release"
        case .cannotBootstrap(let detail):
            return detail
        }
    }

    /// What `syncctl status` shows about the hub when the link is not the problem: the
    /// certificate, or a refused plain-http address. nil for every other error.
    public var hubProblem: String? {
        switch self {
        case .untrustedHub, .insecureHub: return description
        default: return nil
        }
    }

    /// What went wrong below HTTP, said by what to do about it.
    init(_ failure: CurlSession.Failure, url: String) {
        switch failure.kind {
        case .link: self = .unreachable(url: url, detail: failure.message)
        case .certificate(let problem): self = .untrustedHub(url: url, problem: problem, detail: failure.message)
        case .plainHTTP: self = .insecureHub(failure.message)
        }
    }

    /// Worth retrying after a pause: the link, not the request, was the problem.
    public var isTransient: Bool {
        switch self {
        case .unreachable, .untrustedHub: return true
        case .refused(let status, _, _): return status >= 500
        default: return false
        }
    }
}

/// What one round did.
public struct RoundReport: Sendable, Equatable {
    public var snapshotRows = 0
    public var pushed = 0
    public var acknowledged: UInt64 = 0
    public var pulled = 0
    /// Rows the district moved into or out of this commune (merger, split, rotation).
    public var moved = 0
    public var applied = 0
    public var checkpoint: Int64 = 0
    public var requests = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    /// Local clock minus the hub's when it last answered a pull, in seconds.
    public var clockSkewSeconds: Double?
    /// Changes the hub refused in this round (kept in the replica, see `syncctl refused`).
    public var refused = 0
    /// Set when the round found this replica's file behind the hub and rebuilt it.
    public var rebase: RebaseReport?
    /// Set when the round compared the replica with the hub by content.
    public var digest: DigestCheck?
    /// The hub's incarnation as its last pull said (`RecoveryStatus`).
    public var hubIncarnation: UInt64?
    /// District changes given back to a hub put back from an older copy, and taken.
    public var districtReturned = 0
    /// Set when this round filled a new file in place of a computer that had synced before.
    public var previousComputer: PreviousComputer?
    /// Rows of this office's log dropped at the end of the round (`Replica.compactLog`).
    public var logRowsDropped = 0

    public init() {}
}

/// A commune replica's sync with its hub over libcurl: snapshot when the replica is new,
/// then push its own changes and pull the hub's, a batch at a time. Every step records its
/// progress in the replica (`push_acked`, `pull_checkpoint`) in the transaction that applies
/// it, so an interrupted round resumes where it stopped and nothing is applied twice.
public final class SyncSession {
    let replica: Replica
    let baseURL: String
    let credential: String
    let batchChanges: Int
    private let curl: CurlSession
    var report = RoundReport()
    /// This computer's clock (a test sets another).
    public var clock: @Sendable () -> Date = { Date() }

    /// What the last round (or the last push or pull on its own) did.
    public var lastReport: RoundReport { report }
    /// Why the last round failed (told to the hub with the next pull), nil after one that worked.
    var lastFailure: String?
    /// The clock offset measured at the last pull that answered.
    /// Local clock minus the hub's at the last pull, in seconds (kept when a round fails).
    public private(set) var lastClockOffset: Double?

    public init(
        replica: Replica, hubURL: String, credential: String, caFile: String? = nil, allowInsecureHTTP: Bool = false,
        connectTimeoutSeconds: Double = 10, requestTimeoutSeconds: Double = 60, batchChanges: Int = 2_000
    ) throws {
        self.replica = replica
        baseURL = hubURL.hasSuffix("/") ? String(hubURL.dropLast()) : hubURL
        // Refused here, at start, rather than on every round: syncd then stops with the reason.
        if let refusal = PlainHTTPRule.refusal(for: baseURL, allowInsecureHTTP: allowInsecureHTTP) { throw SyncError.insecureHub(refusal) }
        self.credential = credential
        self.batchChanges = batchChanges
        curl = try CurlSession(
            connectTimeoutSeconds: connectTimeoutSeconds, requestTimeoutSeconds: requestTimeoutSeconds, caFile: caFile,
            allowInsecureHTTP: allowInsecureHTTP)
    }

    /// One round: bootstrap if needed, put back rows whose refused changes the office
    /// dropped, push, pull, and every `digestInterval` seconds (when nothing waits to be sent)
    /// compare the replica with the hub by content.
    public func round(digestInterval: Double? = nil) throws -> RoundReport {
        report = RoundReport()
        do {
            if try replica.meta("pull_checkpoint") == nil { try bootstrap() }
            try resetClearedRows()
            do {
                try push()
            } catch SyncError.refused(409, "clock_ahead", let message) {
                // The office's own changes wait for the clock; the district's still arrive, and
                // the pull measures by how much the clock is off, for status to say.
                try pull()
                throw SyncError.refused(status: 409, code: "clock_ahead", message: message)
            }
            do {
                try pull()
            } catch SyncError.refused(let status, let code, let message) where code == "unit_ended" {
                throw SyncError.refused(status: status, code: code, message: message + (try handOver()))
            }
            if let incarnation = report.hubIncarnation, try isNewIncarnation(incarnation) { try giveBackDistrictChanges() }
            if let digestInterval, try isDigestDue(interval: digestInterval) { _ = try checkDigest() }
            if let days = try replica.meta("office_log_days")?.integerValue, days > 0 {
                report.logRowsDropped = try replica.compactLog(keepingDays: Int(days), now: clock())
            }
        } catch {
            lastFailure = "\(error)"
            throw error
        }
        lastFailure = nil
        return report
    }

    /// The facts told with the last pulls, and when they were read: read again at most
    /// every 30 s (the hub keeps them no more often), or when a round failed or came right.
    private var toldFacts: (facts: OfficeFacts, at: Date)?

    /// What this office tells the hub about itself with a pull (`OfficeFacts`).
    func officeFacts() -> OfficeFacts? {
        if let told = toldFacts, clock().timeIntervalSince(told.at) < 30, told.facts.lastError == lastFailure {
            return told.facts
        }
        guard let health = try? ReplicaHealth.read(path: replica.database.path) else { return nil }
        let facts = OfficeFacts(
            version: Release.version, unsent: health.unackedChanges,
            oldestUnsentS: health.oldestUnackedWrittenAt.map { Int(max(0, clock().timeIntervalSince($0))) },
            refusedRows: health.refusedRows, clockOffsetS: lastClockOffset, freeDiskBytes: health.freeDiskBytes,
            rulesVersion: Int(health.rulesVersion), lastError: lastFailure, schema: replica.schema.version)
        toldFacts = (facts, clock())
        return facts
    }

    /// Sends every folded change the hub has not settled, oldest first. Refused changes are
    /// recorded in the replica and not sent again; a hub that holds other changes under this
    /// replica's dots makes it rebase first (`Replica.rebase`).
    public func push() throws {
        try replica.fold()
        var acknowledged = UInt64(try replica.meta("push_acked")?.integerValue ?? 0)
        var rebased = false
        var rewound = false
        while true {
            let batch = try replica.capturedChanges(after: acknowledged, limit: batchChanges)
            guard let last = batch.last else { break }
            let recorded = acknowledged
            let reply: PushResponse
            do {
                reply = try exchange(PushResponse.self, "POST", "/v1/push", body: PushRequest(changes: ChangeGroup.group(batch), after: recorded))
            } catch SyncError.refused(409, "hub_behind", _) where !rewound {
                // The hub was put back from an older copy: send again, from what it holds.
                rewound = true
                let held = try exchange(OwnChangesResponse.self, "GET", "/v1/own?after=\(recorded)&limit=1").acknowledged
                acknowledged = min(acknowledged, held)
                try replica.setMeta("push_acked", .integer(Int64(acknowledged)))
                continue
            } catch SyncError.refused(409, "replica_diverged", let message) where !rebased {
                // Once per push: a second divergence right after a rebase is a second copy at work.
                try rebase(reason: "the hub holds other changes under this replica's numbers: \(message)", cause: .copied)
                rebased = true
                acknowledged = UInt64(try replica.meta("push_acked")?.integerValue ?? 0)
                continue
            } catch SyncError.refused(409, "clock_ahead", let message) where !rebased {
                // Stamped while this computer's clock ran ahead. Once the clock is right, the
                // unsent writes are stamped again; while it is still wrong, the refusal stands
                // (status shows it) and nothing is sent.
                let now = HybridTimestamp(wallMillis: UInt64(max(0, clock().timeIntervalSince1970 * 1000)))
                guard try replica.hasUnsentStamps(after: now) else {
                    throw SyncError.refused(status: 409, code: "clock_ahead", message: message)
                }
                try rebase(reason: "this computer's clock had run ahead; unsent changes were stamped again from the corrected clock", cause: .clock,
                           restampAfter: now)
                rebased = true
                acknowledged = UInt64(try replica.meta("push_acked")?.integerValue ?? 0)
                continue
            }
            guard reply.acknowledged >= last.dot.counter else {
                throw SyncError.badReply("the hub acknowledged up to \(reply.acknowledged) after a batch ending at \(last.dot.counter)")
            }
            // What this batch settled; anything the hub holds beyond it is checked below.
            let at = Date().formatted(.iso8601)
            try replica.acknowledgePush(through: last.dot.counter, refused: reply.refused.map {
                RefusedChange(counter: $0.counter, table: $0.table, row: $0.row, column: $0.column, code: $0.code, message: $0.message, at: at)
            })
            acknowledged = last.dot.counter
            report.pushed += batch.count
            report.refused += reply.refused.count
            if let before = reply.heldBefore, before > recorded {
                // The hub held changes of ours this file had not seen acknowledged.
                let theirs = try ownChanges(after: recorded).filter { $0.dot.counter <= before }
                if try !replica.holdsIdentically(theirs) {
                    try rebase(reason: "the hub holds changes of \(replica.id) up to \(before) that this file never made or made "
                        + "otherwise: it was restored from an older copy or copied from another computer")
                    return try push()
                }
            }
            if reply.acknowledged > acknowledged {
                try checkAcknowledged(reply.acknowledged)
                return
            }
        }
        report.acknowledged = acknowledged
    }

    /// Compares what the hub says it settled of this replica (`held`) with what the file
    /// recorded as acknowledged. Below it: the hub lost changes (restored from a backup), so
    /// they are sent again. Above it: the hub holds changes of this replica the file has not
    /// seen acknowledged. If the file holds each of them change for change, an answer was lost
    /// on the way; otherwise the file is older than the hub's copy (restored or copied) and
    /// rebases.
    func checkAcknowledged(_ held: UInt64) throws {
        let acked = UInt64(try replica.meta("push_acked")?.integerValue ?? 0)
        if held < acked {
            // The hub was put back from a copy: what it lacks is sent again from the log, unless
            // the log no longer has it (dropped after office_log_days, so the copy is older than
            // that): said, not passed over in silence.
            try replica.noteHubBehindCompactedLog(held: held, at: clock())
            try replica.setMeta("push_acked", .integer(Int64(held)))
            return try push()
        }
        guard held > acked else { return }
        let own = try ownChanges(after: acked)
        if try held <= replica.counterCeiling, try replica.holdsIdentically(own) {
            return try replica.acknowledgePush(through: held, refused: [])
        }
        try rebase(reason: "the hub holds changes of \(replica.id) up to \(held) that this file never made or made otherwise: "
            + "it was restored from an older copy or copied from another computer", own: own)
        guard held <= (try replica.counterCeiling) else {
            throw SyncError.badReply("the hub holds changes of \(replica.id) up to \(held) even after a rebuild")
        }
        try push()
    }

    /// This replica's own changes the hub holds above counter `after`.
    func ownChanges(after start: UInt64) throws -> [Change] {
        var own: [Change] = []
        var after = start
        while true {
            let page = try exchange(OwnChangesResponse.self, "GET", "/v1/own?after=\(after)&limit=\(batchChanges)")
            own += try Self.decode(page.changes)
            guard page.more, page.next > after else { return own }
            after = page.next
        }
    }

    /// Rebuilds the replica on the hub's state, keeping every unsent write (`Replica.rebase`).
    public func rebase(
        reason: String, cause: RebuildCause = .restored, own known: [Change]? = nil, restampAfter bound: HybridTimestamp? = nil
    ) throws {
        // The whole snapshot first: the rebuild itself is one transaction.
        var rows: [(table: String, row: String, state: RowState)] = []
        var cursor: String?
        var checkpoint: Int64?
        var held: UInt64 = 0
        repeat {
            let (page, states) = try snapshotPage(cursor: cursor, checkpoint: checkpoint)
            rows += states
            (cursor, checkpoint, held) = (page.cursor, page.checkpoint, page.acknowledged)
        } while cursor != nil
        let own = try known ?? ownChanges(after: UInt64(try replica.meta("push_acked")?.integerValue ?? 0))
        held = max(held, own.map(\.dot.counter).max() ?? 0)
        report.rebase = try replica.rebase(
            onto: rows, checkpoint: checkpoint ?? 0, heldByHub: held, hubHolds: own, reason: reason, cause: cause, restampAfter: bound)
        report.snapshotRows += rows.count
    }

    /// Puts back, as the hub holds them, the rows whose refused changes the office dropped
    /// (`syncctl refused clear`).
    func resetClearedRows() throws {
        var byTable: [String: [String]] = [:]
        for (table, row) in try replica.rowsBeingCleared() { byTable[table, default: []].append(row) }
        for (table, rows) in byTable {
            let reply = try exchange(RowsResponse.self, "POST", "/v1/rows", body: RowsRequest(table: table, ids: rows))
            var states: [String: RowState] = [:]
            for row in reply.rows { states[row.row] = row.state }
            try replica.resetRows(rows.map { (table, $0, states[$0]) })
        }
    }

    /// The unit of this office ended and the hub said so on a read, which comes after a push
    /// of everything folded: once nothing written here waits to be sent, the register rows
    /// this office kept are dropped from its file (the successor's office keeps them; they
    /// are not deleted anywhere else). Returns what to add to the hub's message.
    func handOver() throws -> String {
        if let done = try replica.meta("handed_over_rows")?.integerValue {
            return "; the \(done) records this office kept were removed from this computer on "
                + "\(try replica.meta("handed_over_at")?.textValue ?? "?") (the successor's office keeps them)"
        }
        try replica.fold()
        let acked = try replica.meta("push_acked")?.integerValue ?? 0
        let waiting = try replica.database.scalar(
            "SELECT count(*) FROM _sync_log WHERE seq > ? AND op NOT IN ('reserve', 'void') AND NOT (op = 'update' AND vals IS '[]')",
            [.integer(acked / Int64(DotBlock.size))])?.integerValue ?? 0
        guard waiting == 0 else { return "; \(waiting) changes typed here still wait to be sent" }
        var rows: [RowKey] = []
        for table in replica.schema.tables where table.owner != .district && table.columns.contains(where: { $0.name == RowScope.column }) {
            rows += try replica.database.query("SELECT id FROM \(table.name)").compactMap { $0.first?.textValue }
                .map { RowKey(table: table.name, row: $0) }
        }
        _ = try replica.apply([], leaving: rows) {
            try self.replica.setMeta("handed_over_rows", .integer(Int64(rows.count)))
            try self.replica.setMeta("handed_over_at", .text(Date().formatted(.iso8601)))
        }
        report.moved += rows.count
        return "; everything typed here had reached the hub, so the \(rows.count) records this office kept were removed from "
            + "this computer (the successor's office keeps them)"
    }

    /// Applies the hub's feed after the stored checkpoint; the checkpoint moves in the same
    /// transaction as the changes it covers.
    public func pull() throws {
        var checkpoint = try replica.meta("pull_checkpoint")?.integerValue ?? 0
        while true {
            let held = try replica.rules.version
            let decided = try replica.decidedThrough
            let facts = officeFacts().map { ["\(OfficeFacts.header): \($0.headerValue)"] } ?? []
            let numbered = try replica.numberedForHub
            let reply = try exchange(
                PullResponse.self, "GET", "/v1/pull?after=\(checkpoint)&limit=\(batchChanges)&rules=\(held)&decided=\(decided)&numbered=\(numbered)",
                extraHeaders: facts)
            let changes = try Self.decode(reply.changes)
            let next = reply.next
            if reply.acknowledged != UInt64(try replica.meta("push_acked")?.integerValue ?? 0) {
                // Rebuilt from the hub's state, or what the hub lost sent again: pull on.
                try checkAcknowledged(reply.acknowledged)
                return try pull()
            }
            report.clockSkewSeconds = Date().timeIntervalSince1970 - Double(reply.time) / 1000
            lastClockOffset = report.clockSkewSeconds
            let arriving = try fetchWhole(reply.arrived ?? [])
            let leaving = (reply.departed ?? []).map { RowKey(table: $0.table, row: $0.row) }
            let district = changes.filter { $0.dot.replica.rawValue == reply.hub }
            let applied = try replica.apply(changes, arriving: arriving, leaving: leaving) {
                try self.replica.keepDistrictChanges(district, seals: reply.seals ?? [:])
                try self.replica.setMeta("pull_checkpoint", .integer(next))
                try self.replica.setMeta("pull_at", .text(Date().formatted(.iso8601)))
                try self.replica.setMeta("district_replica", .text(reply.hub))
                try self.replica.setMeta("hub_rules_version", .text(String(reply.rulesVersion)))
                if let schema = reply.schema { try self.replica.setMeta("hub_schema_version", .integer(Int64(schema))) }
                if let days = reply.officeLogDays { try self.replica.setMeta("office_log_days", .integer(Int64(days))) }
                if let rules = reply.rules { try self.replica.adopt(rules) }
                if let through = reply.decidedThrough {
                    try self.replica.keepDecisions((reply.decisions ?? []).map {
                        KeptDecision(id: $0.id, conflict: $0.conflict, reviewer: $0.reviewer, at: $0.at, reason: $0.reason, pick: $0.pick,
                                     value: $0.value, reverts: $0.reverts)
                    }, through: through)
                }
            }
            report.pulled += changes.count
            report.hubIncarnation = reply.incarnation ?? report.hubIncarnation
            report.moved += arriving.count + leaving.count
            report.applied += applied.applied
            checkpoint = next
            guard reply.more else { break }
        }
        report.checkpoint = checkpoint
    }

    /// The hub's merge state of rows the district moved into this commune, a few hundred ids
    /// a request.
    func fetchWhole(_ rows: [RowRef]) throws -> [(table: String, row: String, state: RowState)] {
        var states: [(table: String, row: String, state: RowState)] = []
        for (table, refs) in Dictionary(grouping: rows, by: \.table).sorted(by: { $0.key < $1.key }) {
            for start in stride(from: 0, to: refs.count, by: 256) {
                let ids = refs[start..<min(start + 256, refs.count)].map(\.row)
                let reply = try exchange(RowsResponse.self, "POST", "/v1/rows", body: RowsRequest(table: table, ids: ids))
                for row in reply.rows {
                    guard row.table == table, let state = row.state else {
                        throw SyncError.badReply("malformed row \(row.table)/\(row.row) moved into this commune")
                    }
                    states.append((table, row.row, state))
                }
            }
        }
        return states
    }

    /// Installs the hub's current state of this commune's scope, page by page; the cursor is
    /// stored with each page so an interrupted bootstrap continues where it stopped.
    func bootstrap() throws {
        var cursor = try replica.meta("snapshot_cursor")?.textValue
        var checkpoint = try replica.meta("snapshot_checkpoint")?.integerValue
        while true {
            let (page, rows) = try snapshotPage(cursor: cursor, checkpoint: checkpoint)
            if cursor == nil, let previous = page.previous, try replica.meta("push_acked") == nil, !(try replica.hasLocalWrites) {
                // This file replaces a computer that synced before: keep what the hub last heard
                // from it, for 'syncctl init', 'sync' and 'status' to say what was lost.
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                try replica.setMeta("previous_computer", .text(String(decoding: try encoder.encode(previous), as: UTF8.self)))
                try replica.setMeta("filled_from_hub_at", .text(clock().formatted(.iso8601)))
                report.previousComputer = previous
            }
            if page.acknowledged > 0, try replica.meta("push_acked") == nil, try replica.hasLocalWrites {
                // A file that never synced, yet the hub holds changes of it: a copy taken before
                // the first sync and put back. Its writes are kept and renumbered.
                return try rebase(reason: "the hub holds changes of \(replica.id) up to \(page.acknowledged), which this file "
                    + "never sent: it was restored from a copy taken before its first sync, or copied from another computer")
            }
            try replica.install(rows) {
                try self.replica.setMeta("snapshot_checkpoint", .integer(page.checkpoint))
                if let next = page.cursor {
                    try self.replica.setMeta("snapshot_cursor", .text(next))
                } else {
                    // Done: continue by pull from where the snapshot began.
                    try self.replica.reserveCounters(through: page.acknowledged)
                    try self.replica.setMeta("push_acked", .integer(Int64(page.acknowledged)))
                    try self.replica.setMeta("pull_checkpoint", .integer(page.checkpoint))
                }
            }
            report.snapshotRows += rows.count
            guard let next = page.cursor else { return }
            cursor = next
            checkpoint = page.checkpoint
        }
    }

    /// One page of the hub's snapshot of this replica's scope, with its rows' states read.
    private func snapshotPage(cursor: String?, checkpoint: Int64?) throws -> (SnapshotPage, [(table: String, row: String, state: RowState)]) {
        var path = "/v1/snapshot?limit=500"
        if let cursor { path += "&cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor)" }
        if let checkpoint { path += "&checkpoint=\(checkpoint)" }
        let page = try exchange(SnapshotPage.self, "GET", path)
        return (page, try page.rows.map { row in
            guard let state = row.state else { throw SyncError.badReply("malformed snapshot row \(row.table)/\(row.row)") }
            return (row.table, row.row, state)
        })
    }

    /// The changes of groups from the hub.
    static func decode(_ groups: [ChangeGroup]) throws -> [Change] {
        try groups.flatMap { group in
            guard let changes = group.changes() else { throw SyncError.badReply("malformed change group from \(group.o)") }
            return changes
        }
    }

    /// One request with the credential and versions; a JSON reply or a typed error.
    func exchange<Reply: Decodable>(_ reply: Reply.Type, _ method: String, _ path: String, extraHeaders: [String] = []) throws -> Reply {
        try exchange(reply, method, path, body: Optional<PushRequest>.none, extraHeaders: extraHeaders)
    }

    func exchange<Reply: Decodable, Body: Encodable>(
        _ reply: Reply.Type, _ method: String, _ path: String, body: Body?, extraHeaders: [String] = []
    ) throws -> Reply {
        var headers = [
            "Authorization: Bearer \(credential)",
            "\(WireVersion.protocolHeader): \(WireVersion.protocolVersion)",
            "\(WireVersion.schemaHeader): \(replica.schema.version)",
        ] + extraHeaders
        var payload: [UInt8]?
        if let body {
            // A push, the body sent most and largest, is written straight to bytes (`JSONWriter`).
            payload = Gzip.compress(try (body as? any WireJSONEncodable)?.wireJSON() ?? Array(try JSONEncoder().encode(body)))
            headers += ["Content-Type: application/json", "Content-Encoding: gzip"]
        }
        let answer: CurlSession.Reply
        do {
            answer = try curl.send(method, baseURL + path, headers: headers, body: payload)
        } catch let failure as CurlSession.Failure {
            throw SyncError(failure, url: baseURL)
        }
        report.requests += 1
        report.bytesSent += payload?.count ?? 0
        report.bytesReceived += answer.body.count
        guard answer.status == 200 else {
            if let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(answer.body)) {
                throw SyncError.refused(status: answer.status, code: error.error, message: error.message)
            }
            throw SyncError.refused(status: answer.status, code: "http_\(answer.status)", message: String(decoding: answer.body.prefix(300), as: UTF8.self))
        }
        do {
            // Pulls and snapshot pages, the replies read most and largest: read straight from the bytes.
            if let wire = Reply.self as? any WireJSONDecodable.Type { return try wire.init(wireJSON: answer.body) as! Reply }
            return try JSONDecoder().decode(Reply.self, from: Data(answer.body))
        } catch {
            throw SyncError.badReply("\(error)")
        }
    }
}
