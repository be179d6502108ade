import Foundation
import SyncCore
import Register
import SyncProtocol

/// One office as the district sees it at a glance: its credential, when it last pulled, what
/// it said of itself then (`OfficeFacts`), and what looks wrong.
public struct OfficeView: Sendable, Equatable {
    public let replica: ReplicaID
    /// The units.id of its commune, and the commune's name and code where known.
    public let scope: String
    public var commune: String?
    /// Its unit ended: the last day its credential is accepted.
    public var acceptedUntil: String?
    /// When it last pulled, ISO 8601 UTC; nil: never since the hub kept facts.
    public var seenAt: String?
    public var facts: OfficeFacts?
    /// The highest counter of its changes the hub has settled, and the feed position its
    /// latest pull said it had taken in (`ReplicaProgress`).
    public var settled: UInt64 = 0
    public var pulledThrough: Int64?
    /// What looks wrong, worst first, in the district's words; empty when nothing does.
    public var trouble: [String] = []
}

extension HubStore {
    /// How stale, how long unsent, how far off, how little disk, before an office is listed
    /// as in trouble.
    public static let officeUnseenDays = 7.0
    public static let officeUnsentHours = 24.0
    public static let officeClockOffsetSeconds = 60.0
    public static let officeLowDiskBytes: Int64 = 1 << 30

    /// How long what offices said of themselves waits in memory before it is written, all
    /// of it in one transaction: a district's offices pulling at once cost one write, not one
    /// each. The desk's list of offices writes what waits first; `synchub offices`, which
    /// reads the store from another process, sees it this much later.
    public static let officeFactsDelay: Duration = .seconds(2)

    /// Keeps what the hub saw of `caller`'s pull: how far it had pulled (`pulledThrough`,
    /// the pull's `after`) and what it said of itself (the `X-CommuneSync-Office` header), for
    /// `ReplicaProgress`. Kept when the office tells something new or has pulled further,
    /// else at most twice a minute per office; what is kept waits and is written with every
    /// other office's (`officeFactsDelay`), so a busy district's pulls stay reads. A header
    /// that is absent or unreadable is left out: it never stops a pull.
    public func noteOffice(_ caller: Caller, header: String?, pulledThrough: Int64, numbered: UInt64? = nil, at now: Date = Date()) async {
        guard caller.role == .commune else { return }
        let facts = header.flatMap(OfficeFacts.parse)
        // A pair (pulled, numbered) kept is true for good, so keeping an older one is safe.
        if let last = officeNoted[caller.replica], now.timeIntervalSince(last.at) < 30, last.pulled == pulledThrough,
            Self.sameAtAGlance(last.facts, facts) { return }
        officeNoted[caller.replica] = (now, facts, pulledThrough)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = facts.flatMap { try? encoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) }
        officesWaiting[caller.replica] = OfficeSeen(replica: caller.replica, seenAt: now.formatted(.iso8601),
                                                    pulledThrough: pulledThrough, numbered: numbered, facts: json)
        scheduleOfficeFacts()
    }

    private func scheduleOfficeFacts() {
        guard officesWriter == nil, !officesWaiting.isEmpty else { return }
        officesWriter = Task {
            try? await Task.sleep(for: Self.officeFactsDelay)
            await self.writeOfficeFacts()
        }
    }

    /// Writes what offices said of themselves that waits in memory, in one transaction. On
    /// failure (the disk full, the database away) it waits for the next try.
    public func writeOfficeFacts() async {
        officesWriter = nil
        guard !officesWaiting.isEmpty else { return }
        let waiting = officesWaiting
        officesWaiting = [:]
        do {
            try await storage.write { try await $0.saveOfficesSeen(Array(waiting.values)) }
        } catch {
            for (replica, facts) in waiting where officesWaiting[replica] == nil { officesWaiting[replica] = facts }
            scheduleOfficeFacts()
        }
    }

    /// Whether two reports of one office would show the same at a glance (ages, clock and
    /// disk move a little with every pull).
    static func sameAtAGlance(_ a: OfficeFacts?, _ b: OfficeFacts?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.version == b.version && a.unsent == b.unsent && a.refusedRows == b.refusedRows && a.rulesVersion == b.rulesVersion
            && a.lastError == b.lastError && a.schema == b.schema && a.clockOffsetS.map { Int($0 / 10) } == b.clockOffsetS.map { Int($0 / 10) }
            && a.freeDiskBytes.map { $0 >> 27 } == b.freeDiskBytes.map { $0 >> 27 }
    }

    /// Every replica the hub knows, with how far it has come (what waits in memory written first).
    public func progress() async throws -> [ReplicaProgress] {
        await writeOfficeFacts()
        return try await storage.read { try await $0.progress() }
    }

    /// Every office holding a commune credential, with its latest facts, those in trouble first.
    public func offices(now: Date = Date()) async throws -> [OfficeView] {
        await writeOfficeFacts()
        let (issued, progress, names) = try await storage.read { store in
            let issued = try await store.credentials().filter { $0.role == .commune }
            let progress = try await store.progress()
            var names: [String: String] = [:]
            for scope in Set(issued.map(\.scope)) {
                let unit = try await store.values(table: "units", row: scope, columns: ["name", "code"])
                if let name = unit["name"]?.textValue { names[scope] = "\(name) (\(unit["code"]?.textValue ?? "?"))" }
            }
            return (issued, progress, names)
        }
        let seen = Dictionary(progress.map { ($0.replica, $0) }, uniquingKeysWith: { $1 })
        var offices = issued.map { credential -> OfficeView in
            var office = OfficeView(replica: credential.replica, scope: credential.scope, commune: names[credential.scope],
                                    acceptedUntil: credential.acceptedUntil)
            office.seenAt = seen[credential.replica]?.seenAt
            office.facts = seen[credential.replica]?.facts
            office.settled = seen[credential.replica]?.settled ?? 0
            office.pulledThrough = seen[credential.replica]?.pulledThrough
            office.trouble = Self.trouble(of: office, now: now, schema: schema.version, horizonDays: officeLogDays)
            return office
        }
        offices.sort { ($0.trouble.isEmpty ? 1 : 0, $0.replica.rawValue) < ($1.trouble.isEmpty ? 1 : 0, $1.replica.rawValue) }
        return offices
    }

    static func trouble(of office: OfficeView, now: Date, schema: Int = RegisterSchema.current.version, horizonDays: Int = 0) -> [String] {
        var trouble: [String] = []
        if let until = office.acceptedUntil { trouble.append("unit ended: credential accepted until \(until)") }
        guard let seenAt = office.seenAt, let seen = try? Date(seenAt, strategy: .iso8601) else {
            return trouble + ["never synced since the hub began keeping offices' facts"]
        }
        let days = now.timeIntervalSince(seen) / 86_400
        if horizonDays > 0, days >= Double(horizonDays) {
            trouble.append("not seen for \(Int(days)) days, beyond the \(horizonDays)-day horizon (office_log_days): rows deleted meanwhile "
                + "may be forgotten, and a change it made to one before it left will be refused, not applied")
        } else if days >= officeUnseenDays {
            trouble.append("not seen for \(Int(days)) days")
        }
        guard let facts = office.facts else { return trouble }
        if let oldest = facts.oldestUnsentS, facts.unsent > 0, Double(oldest) >= officeUnsentHours * 3600 {
            trouble.append("\(facts.unsent) change(s) unsent for \(oldest / 3600) h")
        }
        if facts.refusedRows > 0 { trouble.append("\(facts.refusedRows) row(s) refused by the hub") }
        if let offset = facts.clockOffsetS, abs(offset) >= officeClockOffsetSeconds { trouble.append("clock off by \(Int(offset)) s") }
        if let free = facts.freeDiskBytes, free < officeLowDiskBytes { trouble.append("disk low: \(free / (1 << 20)) MiB free") }
        if let error = facts.lastError { trouble.append("last round failed: \(error)") }
        // During a rolling upgrade: which offices still run another release than this hub.
        if facts.version != Release.version {
            trouble.append("runs release \(facts.version), this hub \(Release.version): an upgrade is pending")
        }
        if let theirs = facts.schema, theirs < schema {
            trouble.append("keeps register schema \(theirs), this hub \(schema): served meanwhile, newer fields kept for it until it is upgraded")
        }
        return trouble
    }
}
