import Foundation
import SyncCore
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

    /// Keeps what `caller` said of itself with a pull (the `X-CommuneSync-Office` header):
    /// when it tells something new, else at most twice a minute per office, so a busy
    /// district's pulls stay reads. A header that is absent or unreadable is ignored: it
    /// never stops a pull.
    public func noteOffice(_ caller: Caller, header: String?, at now: Date = Date()) async {
        guard caller.role == .commune, let header, let facts = OfficeFacts.parse(header) else { return }
        if let last = officeNoted[caller.replica], now.timeIntervalSince(last.at) < 30, Self.sameAtAGlance(last.facts, facts) { return }
        officeNoted[caller.replica] = (now, facts)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let json = try? encoder.encode(facts) else { return }
        officesWaiting[caller.replica] = (now.formatted(.iso8601), String(decoding: json, as: UTF8.self))
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
            try await storage.write { try await $0.saveOfficeFacts(waiting.map { ($0.key, $0.value.seenAt, $0.value.facts) }) }
        } catch {
            for (replica, facts) in waiting where officesWaiting[replica] == nil { officesWaiting[replica] = facts }
            scheduleOfficeFacts()
        }
    }

    /// Whether two reports of one office would show the same at a glance (ages, clock and
    /// disk move a little with every pull).
    static func sameAtAGlance(_ a: OfficeFacts, _ b: OfficeFacts) -> Bool {
        a.version == b.version && a.unsent == b.unsent && a.refusedRows == b.refusedRows && a.rulesVersion == b.rulesVersion
            && a.lastError == b.lastError && a.clockOffsetS.map { Int($0 / 10) } == b.clockOffsetS.map { Int($0 / 10) }
            && a.freeDiskBytes.map { $0 >> 27 } == b.freeDiskBytes.map { $0 >> 27 }
    }

    /// Every office holding a commune credential, with its latest facts, those in trouble first.
    public func offices(now: Date = Date()) async throws -> [OfficeView] {
        await writeOfficeFacts()
        let (issued, kept, names) = try await storage.read { store in
            let issued = try await store.credentials().filter { $0.role == .commune }
            let kept = try await store.officeFacts()
            var names: [String: String] = [:]
            for scope in Set(issued.map(\.scope)) {
                let unit = try await store.values(table: "units", row: scope, columns: ["name", "code"])
                if let name = unit["name"]?.textValue { names[scope] = "\(name) (\(unit["code"]?.textValue ?? "?"))" }
            }
            return (issued, kept, names)
        }
        let facts = Dictionary(kept.map { ($0.replica, ($0.seenAt, $0.facts)) }, uniquingKeysWith: { $1 })
        var offices = issued.map { credential -> OfficeView in
            var office = OfficeView(replica: credential.replica, scope: credential.scope, commune: names[credential.scope],
                                    acceptedUntil: credential.acceptedUntil)
            if let (seenAt, json) = facts[credential.replica] {
                office.seenAt = seenAt
                office.facts = try? JSONDecoder().decode(OfficeFacts.self, from: Data(json.utf8))
            }
            office.trouble = Self.trouble(of: office, now: now)
            return office
        }
        offices.sort { ($0.trouble.isEmpty ? 1 : 0, $0.replica.rawValue) < ($1.trouble.isEmpty ? 1 : 0, $1.replica.rawValue) }
        return offices
    }

    static func trouble(of office: OfficeView, now: Date) -> [String] {
        var trouble: [String] = []
        if let until = office.acceptedUntil { trouble.append("unit ended: credential accepted until \(until)") }
        guard let seenAt = office.seenAt, let seen = try? Date(seenAt, strategy: .iso8601) else {
            return trouble + ["never synced since the hub began keeping offices' facts"]
        }
        let days = now.timeIntervalSince(seen) / 86_400
        if days >= officeUnseenDays { trouble.append("not seen for \(Int(days)) days") }
        guard let facts = office.facts else { return trouble }
        if let oldest = facts.oldestUnsentS, facts.unsent > 0, Double(oldest) >= officeUnsentHours * 3600 {
            trouble.append("\(facts.unsent) change(s) unsent for \(oldest / 3600) h")
        }
        if facts.refusedRows > 0 { trouble.append("\(facts.refusedRows) row(s) refused by the hub") }
        if let offset = facts.clockOffsetS, abs(offset) >= officeClockOffsetSeconds { trouble.append("clock off by \(Int(offset)) s") }
        if let free = facts.freeDiskBytes, free < officeLowDiskBytes { trouble.append("disk low: \(free / (1 << 20)) MiB free") }
        if let error = facts.lastError { trouble.append("last round failed: \(error)") }
        return trouble
    }
}
