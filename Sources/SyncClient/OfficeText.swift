import Foundation
import Register
import Replica
import SyncConfig

/// What `syncctl` says to the technician, in one catalogue per language (`Vietnamese`,
/// `English`). A catalogue conforms to this protocol, so a text missing from either language
/// does not compile. Text output only: `--json` keeps its keys, its English `hint` and ISO UTC
/// times, for monitoring.
public protocol OfficeCatalogue: Sendable {
    var language: OfficeLanguage { get }

    // MARK: status
    /// The verdict's name; nil: the status could not be checked at all.
    func state(_ state: StatusReport.State?) -> String
    func label(_ label: StatusLabel) -> String
    func yesNo(_ value: Bool) -> String
    /// A time that has not happened yet (never sent, never received).
    var never: String { get }
    /// A span of time as people say it: "45 s", "12 min", "3 h", "2 days".
    func duration(seconds: Double) -> String
    /// `local` (an instant in this computer's time) and how long ago it was.
    func moment(local: String, ago: String) -> String
    func daemon(running: Bool, upFor: String?) -> String
    func hub(url: String, answers: Bool, trusted: Bool) -> String
    /// Written here and not at the hub yet: rows, and the fields changed in them.
    func unsent(rows: Int, changes: Int, oldest: String?) -> String
    func conflicts(awaitingReview: Int, settledByRule: Int) -> String
    func versions(schema: Int, hubSchema: Int?, rules: String, hubRules: String?) -> String
    func clock(skewSeconds: Double?) -> String
    func space(file: String, free: String) -> String
    func refused(changes: Int, rows: Int) -> String
    /// The last comparison with the hub by content: rows differing, when it last matched (nil: never compared).
    func sameAsHub(differingRows: Int, lastChecked: String?) -> String
    /// When and why the data file was rebuilt from the hub (`cause` nil: a file rebuilt by an older release).
    func rebuilt(at: String, cause: RebuildCause?) -> String
    /// This file was filled from the hub in place of a computer whose last sync was
    /// `lastSync`: what it held unsent then (nil: it did not say), and the oldest's age.
    func previousComputer(lastSync: String, unsent: Int?, oldest: String?) -> String
    func advice(_ advice: StatusAdvice) -> String
    /// Why a sync round failed and what to do, from its kind; `detail` (syncd's English
    /// sentence) is added where the kind alone does not say enough.
    func roundFailed(_ kind: RoundFailure?, detail: String) -> String
    /// Why `syncctl status` could not check, and what to do.
    func cannotCheck(_ why: CannotCheck) -> (error: String, hint: String)

    // MARK: refused
    /// Why the hub refused a row, from its reason code (`out_of_scope`, `too_large`, ...).
    func refusal(code: String) -> String
    func refusedState(_ state: RefusedChange.State) -> String
    /// The fields of a row the hub refused (a deleted row has none).
    func refusedFields(_ fields: [String]) -> String
    /// The hub's own explanation, in its words (English, from the district's server).
    func hubExplained(_ message: String) -> String
    /// How `syncctl refused retry` / `clear` went.
    func refusedHandled(rows: Int, retried: Bool) -> String
    var noRefused: String { get }

    // MARK: init, report
    func created(district: Bool, replica: String, path: String, schema: Int) -> String
    /// `syncctl init --config` on a computer that already has a data file.
    func initRefused(path: String) -> String
    /// A new file filled from the hub for an office the hub had never heard from.
    var noPreviousComputer: String { get }
    /// `syncctl init --config`: the new computer's data file made and filled from the hub.
    func filledNewComputer(path: String, rows: Int) -> String
    func holdersHeading(date: String, units: Int) -> String
    /// A commune-level unit of the holders report, and how many holdings it has that day.
    func holdersUnit(code: String, name: String, until: String?, holdings: Int) -> String
    /// One holding: the title (and seat, and the hamlet it is in), who holds it, primary or
    /// concurrent, since when.
    func holding(title: String, seat: String?, place: String?, person: String, kind: String?, from: String) -> String

    // MARK: review (the district's reviewers)
    var noDecisions: String { get }
    func noItems(state: String) -> String
    func reviewItem(id: String, kind: String, rule: String, state: String, sides: Int) -> String
    func duplicateRecords(citizenID: String, records: [String], more: Int) -> String
    func decision(number: Int64, at: String, reviewer: String, item: String, reverts: Int64?, pick: String?, value: String?,
                  wrote: Int, revertedBy: Int64?) -> String
    func why(_ reason: String) -> String
    func itemHeading(id: String, kind: String, rule: String, state: String) -> String
    func duplicateSide(person: String, name: String, born: String, citizenID: String, keptBy: String, origin: String) -> String
    func seatSide(assignment: String, person: String, decision: String, of: String, origin: String) -> String
    func fieldSide(pick: String, origin: String, at: String, value: String) -> String
    func resolved(item: String, number: Int64, wrote: Int) -> String
    func reverted(number: Int64, item: String, recordedAs: Int64, wrote: Int) -> String

    // MARK: sync
    func sync(_ said: SyncSaid) -> String

    // MARK: log
    func operation(_ operation: String) -> String
    /// Whether the hub has a written row: nil while syncd has not picked the write up yet.
    func atHub(_ atHub: Bool?) -> String
    func table(_ table: String) -> String
    func column(_ column: String) -> String
    var nothingWritten: String { get }

    // MARK: conflicts
    func conflictState(_ state: ConflictState) -> String
    func conflict(_ said: ConflictSaid) -> String
    /// One side of a conflict: a value or a holder, and the office that wrote it (`here`: this one).
    func side(_ what: String, origin: String, here: Bool) -> String
    func outcome(_ said: DecisionSaid) -> String
    func decided(number: Int64, outcome: String, by reviewer: String, at local: String, why: String) -> String
    var noConflicts: String { get }

    // MARK: doctor
    func verdict(_ verdict: DoctorVerdict) -> String
    var fixLabel: String { get }
    /// A check's finding, and how to fix it when something is wrong.
    func doctor(_ said: DoctorSaid) -> (what: String, fix: String?)
}

/// How one of `syncctl doctor`'s checks came out.
public enum DoctorVerdict: CaseIterable, Sendable { case ok, warning, failure }

/// What `syncctl doctor` finds, check by check.
public enum DoctorSaid: Sendable, Equatable {
    case configReads(path: String)
    case configBroken(problem: String)
    case noReplica(path: String)
    case replicaBelongs(path: String, replica: String)
    case replicaOfAnother(path: String, holds: String, configured: String, config: String)
    case integrityPassed
    case integrityFailed(result: String, path: String)
    case diskLow(megabytes: Int64, directory: String)
    case replicaUnreadable(problem: String)
    case writable(directory: Bool, path: String)
    case notWritable(directory: Bool, path: String)
    /// A finding of the permissions model (its own words).
    case permissions(problem: String, fix: String?)
    case credentialInConfig(path: String)
    case permissionsHold
    case credentialSet
    case credentialRootsAndAccepted(file: String)
    case hubRefusedLastRound(why: String)
    case credentialRootsAlone(file: String)
    case credentialMissing(problem: String)
    case hubProblem(String)
    case hubSilent(url: String)
    case hubAnswers(url: String)
    case credentialAccepted
    case versionsDiffer(message: String)
    case credentialRefused(status: Int, message: String)
    case credentialCheckFailed(message: String)
    case clockOff(seconds: Int)
    case clockWithin(seconds: Double)
    case daemonAnswers(socket: String)
    case daemonSilent(socket: String)
}

/// Where a conflict stands: waiting for the district, settled by a rule, decided by the
/// district's reviewers, over; or an assignment the district ended.
public enum ConflictState: CaseIterable, Sendable {
    case open, settled, decided, closed, ended
}

/// A conflict in words, its rows already named (`syncctl conflicts` looks the names up).
public enum ConflictSaid: Sendable, Equatable {
    case field(record: String, column: String, sides: [String])
    case seat(seat: String, holders: [String])
    case titles(person: String, holdings: [String])
    case hamletTitles(unit: String, holdings: [String])
    case quota(unit: String, category: String, holdings: [String])
    case duplicate(person: String)
    case placement(record: String)
    case deletion(record: String)
    case ended(assignment: String, on: String, why: String)
}

/// What the district decided on an item.
public enum DecisionSaid: Sendable, Equatable {
    case undone(decision: Int64)
    case value(String)
    case keepsSeat(String)
    case recordKept(String)
    case deletedEverywhere
    case kept
    case assignmentsEnd([String])
    case placement(String)
    case side(String)
}

/// The labels of the status screen's lines.
public enum StatusLabel: CaseIterable, Sendable {
    case daemon, hub, lastSent, lastReceived, unsent, conflicts, versions, clock, space, refused, sameAsHub, rebuilt
    case hubProblem, lastError, whatToDo
    /// This file replaced a computer that had synced before: what did not reach the hub.
    case previousComputer
}

/// The one thing the technician should do first, as `StatusReport.judge` found it.
public enum StatusAdvice: Sendable, Equatable {
    case startDaemon
    case freeDisk
    /// The hub cannot be used for another reason than the link (its certificate, plain http):
    /// the text says which.
    case hubProblem(String)
    case hubSilent
    case copiesRunning(rebuilds: Int)
    case lastSyncFailed(kind: RoundFailure?, detail: String)
    case refused(rows: Int, example: RefusedRow)
    case districtNotAtHub(changes: Int, example: String)
    case differing(rows: Int, example: String)
    case clockOff(seconds: Int)
    case unsentOld
    case awaitingReview(Int)
    case rulesBehind(mine: String, hub: String)
    /// The hub keeps a later register schema than this office: it keeps syncing meanwhile.
    case upgradePending(mine: Int, hub: Int)
    /// The hub was put back from a copy older than this office keeps what it sent.
    case hubLacksDropped(at: String)
    /// The office has not taken in the hub's changes for longer than the district keeps what
    /// it needs to merge an edit of a record deleted meanwhile (`office_log_days`).
    case awayPastHorizon(days: Int, horizon: Int)

    /// Advice whose cause is the link to the hub (or its consequence: changes waiting):
    /// what an office away for long says instead, with the same thing to do.
    var isAboutTheLink: Bool {
        switch self {
        case .hubSilent, .lastSyncFailed, .unsentOld: return true
        default: return false
        }
    }
}

/// Why `syncctl status` could not check at all.
public enum CannotCheck: Sendable, Equatable {
    case configMissing(path: String)
    case configUnreadable(path: String)
    case configInvalid(path: String, problem: String)
    case replicaUnreadable(path: String, problem: String, daemonRunning: Bool)
}

/// What `syncctl sync` says of a round.
public enum SyncSaid: Sendable, Equatable {
    /// syncd ran the round (its counts: nil from a daemon that does not tell them).
    case daemonRound(hub: String, sent: Int?, received: Int?)
    case daemonRoundFailed(why: String)
    case daemonDidNotFinish
    case round(hub: String, sent: Int, received: Int, new: Int)
    case bootstrapped(rows: Int)
    case rebuilt(kept: Int, fromHub: Int)
    case refusedInRound(changes: Int)
    case failed(why: String)
}

public enum OfficeText {
    /// Words of the tool's insides that mean nothing at a commune office: no text output holds
    /// them (the tests check every catalogue text and the screens themselves).
    public static let jargon = ["dot", "counter", "context", "rebase", "digest", "checkpoint", "stamped", "out_of_scope", "seen {",
                                "_sync", "units.id", "*holders", "*quota", "(s)", "feed"]

    /// Whether `text` holds `word` as a word of its own (not inside a longer one).
    public static func holds(_ text: String, word: String) -> Bool {
        let lowered = text.lowercased()
        return lowered.ranges(of: word).contains { range in
            let before = range.lowerBound == lowered.startIndex ? nil : lowered[lowered.index(before: range.lowerBound)]
            let after = range.upperBound == lowered.endIndex ? nil : lowered[range.upperBound]
            // A word that starts or ends with a letter must not run on into a longer one.
            return !(word.first!.isLetter && before?.isLetter == true) && !(word.last!.isLetter && after?.isLetter == true)
        }
    }

    public static func catalogue(_ language: OfficeLanguage) -> any OfficeCatalogue {
        switch language {
        case .vi: return Vietnamese()
        case .en: return English()
        }
    }

    /// An ISO 8601 instant on this computer's clock and time zone (`TZ`), with how long ago it
    /// was; `never` when there is none.
    public static func moment(_ iso: String?, in catalogue: any OfficeCatalogue, now: Date = Date()) -> String {
        guard let iso else { return catalogue.never }
        guard let instant = try? Date(iso, strategy: .iso8601) else { return iso }
        return catalogue.moment(local: RegisterDate.localTime(iso), ago: catalogue.duration(seconds: max(0, now.timeIntervalSince(instant))))
    }

    /// An instant on this computer's clock: dd/mm/yyyy HH:mm.
    public static func local(_ instant: Date) -> String { RegisterDate.localTime(instant.formatted(.iso8601)) }

    /// The whole-unit part of a span, for "45 s", "12 min", ...
    static func span(_ seconds: Double) -> (count: Int, unit: Int) {
        if seconds < 120 { return (Int(seconds), 0) }
        if seconds < 7_200 { return (Int(seconds / 60), 1) }
        if seconds < 172_800 { return (Int(seconds / 3_600), 2) }
        return (Int(seconds / 86_400), 3)
    }

    public static func megabytes(_ bytes: Int64?, decimalComma: Bool) -> String {
        guard let bytes else { return "-" }
        let text = bytes >= 1 << 30 ? String(format: "%.1f GB", Double(bytes) / Double(1 << 30))
            : String(format: "%.1f MB", Double(bytes) / Double(1 << 20))
        return decimalComma ? text.replacingOccurrences(of: ".", with: ",") : text
    }
}
