import Foundation
import Replica
import SyncConfig

/// `syncctl` in English.
public struct English: OfficeCatalogue {
    public init() {}

    public var language: OfficeLanguage { .en }

    /// "1 change", "3 changes".
    func count(_ count: Int, _ one: String, _ many: String) -> String { "\(count) \(count == 1 ? one : many)" }

    public func state(_ state: StatusReport.State?) -> String {
        switch state {
        case .healthy: return "HEALTHY"
        case .degraded: return "NEEDS ATTENTION"
        case .down: return "DOWN"
        case nil: return "UNKNOWN"
        }
    }

    public func label(_ label: StatusLabel) -> String {
        switch label {
        case .daemon: return "syncd running"
        case .hub: return "district hub"
        case .lastSent: return "last sent"
        case .lastReceived: return "last received"
        case .unsent: return "not yet sent"
        case .conflicts: return "conflicts"
        case .versions: return "register / rules"
        case .clock: return "clock"
        case .space: return "data file / free"
        case .refused: return "refused by hub"
        case .sameAsHub: return "matches the hub"
        case .rebuilt: return "restored from hub"
        case .hubProblem: return "hub problem"
        case .previousComputer: return "previous computer"
        case .lastError: return "last error"
        case .whatToDo: return "what to do"
        }
    }

    public func yesNo(_ value: Bool) -> String { value ? "yes" : "NO" }

    public var never: String { "never" }

    public func duration(seconds: Double) -> String {
        let (amount, unit) = OfficeText.span(seconds)
        switch unit {
        case 0: return "\(amount) s"
        case 1: return "\(amount) min"
        case 2: return "\(amount) h"
        default: return count(amount, "day", "days")
        }
    }

    public func moment(local: String, ago: String) -> String { "\(local) (\(ago) ago)" }

    public func daemon(running: Bool, upFor: String?) -> String {
        running ? "yes" + (upFor.map { " (for \($0))" } ?? "") : "NO"
    }

    public func hub(url: String, answers: Bool, trusted: Bool) -> String {
        "\(url)  answers: " + (trusted ? yesNo(answers) : "NOT TRUSTED")
    }

    public func unsent(rows: Int, changes: Int, oldest: String?) -> String {
        changes == 0 ? "nothing" : count(max(rows, 1), "row", "rows") + ", " + count(changes, "field", "fields") + (oldest.map { ", the oldest \($0) old" } ?? "")
    }

    public func conflicts(awaitingReview: Int, settledByRule: Int) -> String {
        "\(awaitingReview) awaiting district review, \(settledByRule) settled by a rule"
    }

    public func versions(schema: Int, hubSchema: Int?, rules: String, hubRules: String?) -> String {
        var said: [String] = []
        if let hubSchema, hubSchema != schema { said.append("the hub keeps register \(hubSchema)") }
        if let hubRules, hubRules != rules { said.append("the hub has rules \(hubRules)") }
        return "\(schema) / \(rules)" + (said.isEmpty ? "" : " (\(said.joined(separator: ", ")))")
    }

    public func clock(skewSeconds: Double?) -> String {
        guard let skewSeconds else { return "-" }
        if abs(skewSeconds) < 1 { return "same as the hub's" }
        if abs(skewSeconds) >= 120 { return "\(duration(seconds: abs(skewSeconds))) \(skewSeconds > 0 ? "ahead of" : "behind") the hub's" }
        return String(format: "%.1f s %@ the hub's", abs(skewSeconds), skewSeconds > 0 ? "ahead of" : "behind")
    }

    public func space(file: String, free: String) -> String { "\(file) / \(free)" }

    public func refused(changes: Int, rows: Int) -> String {
        rows == 0 ? "nothing" : count(rows, "row", "rows") + ", " + count(changes, "field", "fields") + " (see 'syncctl refused')"
    }

    public func sameAsHub(differingRows: Int, lastChecked: String?) -> String {
        if differingRows > 0 { return "NO: " + count(differingRows, "row differs", "rows differ") }
        return lastChecked.map { "yes, checked \($0)" } ?? "not compared yet (syncd does it when nothing waits to be sent)"
    }

    public func roundFailed(_ kind: RoundFailure?, detail: String) -> String {
        switch kind {
        case .unreachable?: return "the hub did not answer: check the link to the district; changes are kept here and sent when it answers"
        case .untrustedHub?, .insecureHub?: return "the hub could not be used: \(detail)"
        case .credentialRefused?:
            return "the hub did not accept this office's credential: ask the district office for a new one, save it as "
                + "/etc/communesync/credential and restart syncd ('systemctl restart syncd'); changes are kept here meanwhile"
        case .forbidden?: return "the hub refused what syncd asked of it: \(detail)"
        case .versionMismatch?:
            return "this office and the hub run versions of the register that cannot sync together; changes are kept here "
                + "until they do: \(detail)"
        case .clockAhead?:
            return "this computer's clock is ahead of the hub's: turn on time sync ('timedatectl set-ntp true'); "
                + "nothing is lost, and syncd sends it all once the clock is right"
        case .unitEnded?: return "this commune's unit ended in a reorganisation: \(detail)"
        case .tooLarge?: return "a request was too large for the hub: \(detail)"
        case .badReply?: return "the hub's answer could not be read: \(detail)"
        case .diskFull?: return "the disk holding the data file is full: free some space ('syncctl status' shows how much is left); nothing was lost"
        case .other?, nil: return "the last sync failed: \(detail)"
        }
    }

    public func previousComputer(lastSync: String, unsent: Int?, oldest: String?) -> String {
        let before = "the computer this one replaces last synced on \(lastSync); "
        let after = "anything written there after that is not here either"
        switch unsent {
        case 0?: return before + "everything written there by then had reached the hub and is here; " + after
        case let count?:
            return before + "it then held " + self.count(count, "field", "fields") + " not yet sent" + (oldest.map { " (the oldest written \($0) before)" } ?? "")
                + ": they never reached the hub and are not here, nor is anything written there after that. Type them again, or, "
                + "if its disk can still be read, ask the district office to help recover its data file"
        case nil: return before + "the hub does not know whether anything written there was still unsent then; " + after
        }
    }

    public func rebuilt(at: String, cause: RebuildCause?) -> String {
        let why = switch cause {
        case .restored?: "this file was older than what the hub held of it (put back from a backup?)"
        case .copied?: "another computer runs a copy of this file"
        case .clock?: "what was written while this computer's clock ran ahead got the corrected time"
        case nil: "the file did not match the hub"
        }
        return "\(at): \(why); every change not yet sent was kept and sent again"
    }

    public func advice(_ advice: StatusAdvice) -> String {
        switch advice {
        case .startDaemon:
            return "syncd is not running: start it with 'systemctl start syncd'; 'journalctl -u syncd' tells why it stopped"
        case .freeDisk:
            return "less than 200 MB free on the disk of the office's data file: free disk space, or writes will start to fail"
        case .hubProblem(let problem):
            return problem
        case .hubSilent:
            return "the hub does not answer: check the link to the district; changes are kept here and sent when it answers"
        case .copiesRunning(let rebuilds):
            return "this replica was rebuilt from the hub \(rebuilds) times in the last 24 hours: another computer "
                + "is most likely running a copy of this replica file (same replica id and credential). Keep one: stop syncd on the "
                + "other computer ('systemctl disable --now syncd' there) and remove its copy; what was typed on either is kept at the hub"
        case .lastSyncFailed(let kind, let why):
            return roundFailed(kind, detail: why)
        case .refused(let rows, let example):
            let row = rows == 1 ? example.argument : "ROW"
            return "the hub refused changes to " + count(rows, "row", "rows") + " made here (\(table(example.table)) \(example.row): "
                + "\(refusal(code: example.code))); they are kept here and not sent again. 'syncctl refused' says why; fix the row "
                + "and run 'syncctl refused retry \(row)', or drop the change with 'syncctl refused clear \(row)'"
        case .districtNotAtHub(let changes, let example):
            return "the hub was put back from an older copy and lacks " + count(changes, "change", "changes") + " of the district held "
                + "here (\(example)) that it cannot take back: this office differs from the hub. Tell the district "
                + "office: put back the hub's district.key beside its database, or have district staff enter these rows again"
        case .differing(let rows, let example):
            return count(rows, "row here differs", "rows here differ") + " from the hub's copy and merging did not repair "
                + (rows == 1 ? "it" : "them") + " (\(example)): run 'syncctl doctor' and report it to the district office"
        case .clockOff(let seconds):
            return "this computer's clock is \(duration(seconds: Double(abs(seconds)))) \(seconds > 0 ? "ahead of" : "behind") the hub's, "
                + "so the hub holds back what is written here until it is right: turn on time sync ('timedatectl set-ntp true'); "
                + "nothing is lost, and syncd sends it all once the clock is right"
        case .unsentOld:
            return "changes written over a day ago are not at the hub yet: run 'syncctl sync' and read its answer"
        case .awaitingReview(let count):
            return self.count(count, "conflict waits", "conflicts wait") + " for district review; nothing to do here"
        case .rulesBehind(let mine, let hub):
            return "this office holds conflict rules \(mine) but the hub has \(hub): run 'syncctl sync'"
        case .hubLacksDropped(let at):
            return "the district's hub was put back from a copy older than this office keeps what it has sent (noticed \(at)): "
                + "changes sent long before are in this office's register but could not be sent again; tell the district office, "
                + "which can put back a newer copy of the hub"
        case .awayPastHorizon(let days, let horizon):
            return "this office has not received the hub's changes for \(days) days, longer than the district keeps them (\(horizon) days): "
                + "restore the link to the hub (network, then 'syncctl sync'); once it syncs, changes made here to records deleted meanwhile "
                + "are refused and listed by 'syncctl refused', and nothing else is lost"
        case .upgradePending(let mine, let hub):
            return "the district's hub was upgraded (register \(hub), this office \(mine)): this office keeps syncing, and what "
                + "it cannot show yet is kept and shown after the upgrade; ask the district when syncd here is upgraded"
        }
    }

    public func cannotCheck(_ why: CannotCheck) -> (error: String, hint: String) {
        switch why {
        case .configMissing(let path):
            return ("there is no configuration file \(path)",
                    "give the office's file with --config, or set the office up first (README: 'Install a commune office')")
        case .configUnreadable(let path):
            return ("this user may not read the configuration file \(path)",
                    "run as root or as a member of communesync-writers ('sudo syncctl status')")
        case .configInvalid(let path, let problem):
            return ("the configuration file \(path) is wrong: \(problem)",
                    "fix it: Config/commune.toml explains every setting, and 'syncctl doctor' checks it")
        case .replicaUnreadable(let path, let problem, let daemonRunning):
            return ("cannot read the office's data file \(path): \(problem)",
                    daemonRunning
                        ? "syncd runs but this user cannot read its data file: run as root or a member of communesync-writers"
                        : "syncd is not running and the data file cannot be read: 'syncctl doctor' checks the file and its permissions")
        }
    }

    public func sync(_ said: SyncSaid) -> String {
        switch said {
        case .daemonRound(let hub, let sent, let received):
            guard let sent, let received else { return "syncd synced with \(hub); 'syncctl status' shows what is at the hub" }
            return "synced with \(hub): sent " + count(sent, "change", "changes") + ", received " + count(received, "change", "changes")
        case .daemonRoundFailed(let why):
            return "sync failed: \(why); 'journalctl -u syncd' has the details"
        case .daemonDidNotFinish:
            return "sync failed: syncd's round did not finish in time; 'journalctl -u syncd' has the details"
        case .round(let hub, let sent, let received, let new):
            return "synced with \(hub): sent " + count(sent, "change", "changes") + ", received " + count(received, "change", "changes")
                + (received > 0 ? " (\(new) new here)" : "")
        case .bootstrapped(let rows):
            return "  this office's data was filled from the hub: " + count(rows, "row", "rows")
        case .rebuilt(let kept, let fromHub):
            return "  this office's data file was behind the hub (restored or copied) and was restored from it: "
                + count(kept, "change", "changes") + " not yet sent were kept and sent again, " + count(fromHub, "row", "rows") + " came from the hub"
        case .refusedInRound(let changes):
            return "  the hub refused " + count(changes, "change", "changes") + "; the others arrived. See 'syncctl refused' for why and what to do"
        case .failed(let why):
            return "sync failed: \(why)"
        }
    }

    public func operation(_ operation: String) -> String {
        switch operation {
        case "insert": return "added"
        case "update": return "changed"
        case "delete": return "deleted"
        default: return operation
        }
    }

    public func atHub(_ atHub: Bool?) -> String {
        switch atHub {
        case true?: return "at the hub"
        case false?: return "not yet sent"
        case nil: return "syncd has not picked it up yet"
        }
    }

    public func table(_ table: String) -> String { table }

    public func column(_ column: String) -> String { column }

    public var nothingWritten: String { "nothing written here" }

    public func created(district: Bool, replica: String, path: String, schema: Int) -> String {
        "created the \(district ? "district hub's" : "office's") data file for \(replica) at \(path) (register version \(schema)); "
            + (district ? "synchub uses it" : "syncd fills it from the hub at its first round")
    }

    public func initRefused(path: String) -> String {
        "this computer already has the office's data file \(path): nothing was changed. 'syncctl status' says how it stands; "
            + "to start again from the hub, stop syncd and move that file (and its -wal and -shm companions) away first"
    }

    public func filledNewComputer(path: String, rows: Int) -> String {
        "made the office's data file \(path) and filled it from the hub: " + count(rows, "row", "rows")
            + "; start syncd now ('systemctl start syncd'), and let the office's users write again"
    }

    public var noPreviousComputer: String { "the hub had heard from no computer of this office before: nothing was lost" }

    public func holdersHeading(date: String, units: Int) -> String { "On \(date): " + count(units, "commune-level unit", "commune-level units") }

    public func holdersUnit(code: String, name: String, until: String?, holdings: Int) -> String {
        "\(code) \(name)" + (until.map { " (in force until \($0))" } ?? "") + ": " + count(holdings, "holding", "holdings")
    }

    public func holding(title: String, seat: String?, place: String?, person: String, kind: String?, from: String) -> String {
        "  \(title)" + (seat.map { " seat \($0)" } ?? "") + (place.map { ", in \($0)" } ?? "") + ": \(person)"
            + " (\(kind == "concurrent" ? "concurrent" : "primary"), since \(from))"
    }

    public var noDecisions: String { "no decisions yet" }

    public func noItems(state: String) -> String { "no \(state) conflicts" }

    public func reviewItem(id: String, kind: String, rule: String, state: String, sides: Int) -> String {
        "\(id)  \(kind)  rule \(rule)  \(state)  " + count(sides, "side", "sides")
    }

    public func duplicateRecords(citizenID: String, records: [String], more: Int) -> String {
        "    citizen ID \(citizenID): \(records.joined(separator: " / "))" + (more > 0 ? " / ... and \(more) more" : "")
    }

    public func decision(number: Int64, at: String, reviewer: String, item: String, reverts: Int64?, pick: String?, value: String?,
                         wrote: Int, revertedBy: Int64?) -> String {
        "#\(number)  \(at)  \(reviewer)  \(item)" + (reverts.map { "  undoes #\($0)" } ?? "") + (pick.map { "  kept \($0)" } ?? "")
            + (value.map { "  value \($0)" } ?? "") + "  " + count(wrote, "value written", "values written")
            + (revertedBy.map { "  (undone by #\($0))" } ?? "")
    }

    public func why(_ reason: String) -> String { "    why: \(reason)" }

    public func itemHeading(id: String, kind: String, rule: String, state: String) -> String { "\(id): \(kind) conflict, rule \(rule), \(state)" }

    public func duplicateSide(person: String, name: String, born: String, citizenID: String, keptBy: String, origin: String) -> String {
        "  record \(person)  \(name)  born \(born)  citizen ID \(citizenID)  kept by \(keptBy)  written at \(origin)"
    }

    public func seatSide(assignment: String, person: String, decision: String, of: String, origin: String) -> String {
        "  assignment \(assignment)  person \(person)  decision \(decision) of \(of)  written at \(origin)"
    }

    public func fieldSide(pick: String, origin: String, at: String, value: String) -> String {
        "  \(pick)  written at \(origin) \(at)  value: \(value)"
    }

    public func resolved(item: String, number: Int64, wrote: Int) -> String {
        "decided \(item) (decision #\(number), " + count(wrote, "value written", "values written") + "); it reaches every commune at its next sync"
    }

    public func reverted(number: Int64, item: String, recordedAs: Int64, wrote: Int) -> String {
        "undid decision #\(number) on \(item) (recorded as #\(recordedAs), " + count(wrote, "value written", "values written") + ")"
    }

    public func refusal(code: String) -> String {
        switch code {
        case "out_of_scope": return "it names another commune, not this one"
        case "moved_away": return "the record now belongs to another office"
        case "unknown_table", "unknown_column": return "the hub's register has no such field (the hub and this office run different versions)"
        case "reference_table": return "this list is kept by the district; an office cannot change it"
        case "too_large": return "a value is too large"
        case "forgotten_row": return "the record was deleted while this office was away, long enough ago that the change cannot be merged; enter it again if it is still needed"
        default: return "refused (\(code))"
        }
    }

    public func refusedState(_ state: RefusedChange.State) -> String {
        switch state {
        case .open: return "refused"
        case .retried: return "sent again"
        case .clearing: return "dropping"
        case .cleared: return "dropped"
        }
    }

    public func refusedFields(_ fields: [String]) -> String {
        fields.isEmpty ? "the row's deletion"
            : count(fields.count, "field", "fields") + ": " + fields.prefix(5).map(column).joined(separator: ", ") + (fields.count > 5 ? " and \(fields.count - 5) more" : "")
    }

    public func hubExplained(_ message: String) -> String { "the hub says: \(message)" }

    public func refusedHandled(rows: Int, retried: Bool) -> String {
        retried ? count(rows, "row", "rows") + " will be sent again at the next sync ('syncctl sync' to send now)"
            : count(rows, "row goes", "rows go") + " back to the hub's version at the next sync ('syncctl sync' to do it now)"
    }

    public var noRefused: String { "the hub has refused nothing written here" }

    public func conflictState(_ state: ConflictState) -> String {
        switch state {
        case .open: return "open"
        case .settled: return "settled"
        case .decided: return "decided"
        case .closed: return "closed"
        case .ended: return "ended"
        }
    }

    public func conflict(_ said: ConflictSaid) -> String {
        switch said {
        case .field(let record, let column, let sides):
            return "\(record): \(column) written differently: " + sides.joined(separator: " / ")
        case .seat(let seat, let holders):
            return "\(seat) has \(count(holders.count, "holder", "holders")): " + holders.joined(separator: ", ")
        case .titles(let person, let holdings):
            return "\(person) holds titles together that the rules do not allow: " + holdings.joined(separator: ", ")
        case .hamletTitles(let unit, let holdings):
            return "\(unit): more hamlet titles held together than the rules allow: " + holdings.joined(separator: ", ")
        case .quota(let unit, let category, let holdings):
            return "\(unit) is over its quota of \(category.replacingOccurrences(of: "_", with: " ")): " + holdings.joined(separator: ", ")
        case .duplicate(let person):
            return "\(person) may be the same person as a record of another office: the district reviews it"
        case .placement(let record):
            return "where \(record) belongs after the reorganisation: the district reviews it"
        case .deletion(let record):
            return "\(record) was deleted by the office it was moved away from: the district decides whether it goes"
        case .ended(let assignment, let on, let why):
            return "\(assignment) as of \(on): \(why)"
        }
    }

    public func side(_ what: String, origin: String, here: Bool) -> String {
        "\(what) (written " + (here ? "here)" : "at \(origin))")
    }

    public func outcome(_ said: DecisionSaid) -> String {
        switch said {
        case .undone(let decision): return "decision #\(decision) undone: the values before it written back"
        case .value(let value): return "kept the value \(value)"
        case .keepsSeat(let holder): return "\(holder) keeps the seat; the other holders end"
        case .recordKept(let record): return "the record \(record) is kept; the others are merged into it"
        case .deletedEverywhere: return "the record is deleted everywhere"
        case .kept: return "the record is kept"
        case .assignmentsEnd(let ended): return "these end: " + ended.joined(separator: ", ")
        case .placement(let unit): return "placed in \(unit)"
        case .side(let side): return "kept \(side)"
        }
    }

    public func decided(number: Int64, outcome: String, by reviewer: String, at local: String, why: String) -> String {
        "decision #\(number): \(outcome); decided by \(reviewer) on \(local); why: \(why)"
    }

    public var noConflicts: String { "no conflicts" }
}

extension English {
    public func verdict(_ verdict: DoctorVerdict) -> String {
        switch verdict {
        case .ok: return "ok"
        case .warning: return "WARN"
        case .failure: return "FAIL"
        }
    }

    public var fixLabel: String { "fix:" }

    public func doctor(_ said: DoctorSaid) -> (what: String, fix: String?) {
        switch said {
        case .configReads(let path): return ("configuration \(path) reads", nil)
        case .configBroken(let problem): return ("configuration: \(problem)", "compare with Config/commune.toml, where every setting is explained")
        case .noReplica(let path): return ("no data file at \(path) yet", "start syncd: it creates the file and fills it from the hub")
        case .replicaBelongs(let path, let replica): return ("data file \(path) belongs to \(replica)", nil)
        case .replicaOfAnother(let path, let holds, let configured, let config):
            return ("\(path) is the data file of \(holds), but commune.toml says \(configured)", "fix 'replica' or 'database' in \(config)")
        case .integrityPassed: return ("integrity check passed", nil)
        case .integrityFailed(let result, let path):
            return ("integrity check: \(result)", "stop syncd, move \(path) aside (keep it) and start syncd: it rebuilds the file from the hub")
        case .diskLow(let megabytes, let directory): return ("only \(megabytes) MB free in \(directory)", "free disk space before writes start to fail")
        case .replicaUnreadable(let problem): return ("data file: \(problem)", nil)
        case .writable(let directory, let path): return ("\(directory ? "directory" : "data file") \(path) is readable and writable by this user", nil)
        case .notWritable(let directory, let path):
            return ("\(directory ? "directory" : "data file") \(path) is not writable by this user",
                    "add this user to the office writers group (usermod -aG communesync-writers NAME, then log in again)")
        case .permissions(let problem, let fix): return (problem, fix)
        case .credentialInConfig(let path):
            return ("\(path) holds the credential itself and others than root can read it",
                    "move it into credential_file (root's alone, chmod 600) and remove 'credential' from \(path)")
        case .permissionsHold: return ("permissions: credential root's alone, register the writers', nothing for others", nil)
        case .credentialSet: return ("credential is set", nil)
        case .credentialRootsAndAccepted(let file): return ("credential \(file) is root's alone; the hub accepted syncd's copy at its last round", nil)
        case .hubRefusedLastRound(let why):
            return ("the hub refused syncd's last round: \(why)", "run 'syncctl doctor' as root to check the credential with the hub")
        case .credentialRootsAlone(let file): return ("credential \(file) is root's alone (run doctor as root to try it at the hub)", nil)
        case .credentialMissing(let problem):
            return ("credential: \(problem)", "ask the district office for the commune's credential and save it as credential_file")
        case .hubProblem(let problem): return (problem, nil)
        case .hubSilent(let url): return ("the hub at \(url) does not answer", "check the network link and hub.url; changes are kept here and sent when it answers")
        case .hubAnswers(let url): return ("the hub at \(url) answers", nil)
        case .credentialAccepted: return ("the hub accepts this commune's credential and versions", nil)
        case .versionsDiffer(let message): return ("versions differ: \(message)", "upgrade the older side")
        case .credentialRefused(let status, let message):
            return ("the hub refused the credential (\(status)): \(message)", "ask the district office for a new credential")
        case .credentialCheckFailed(let message): return ("checking the credential failed: \(message)", nil)
        case .clockOff(let seconds):
            return ("this clock is \(duration(seconds: Double(abs(seconds)))) \(seconds > 0 ? "ahead of" : "behind") the hub's", "turn on time sync: 'timedatectl set-ntp true'")
        case .clockWithin(let seconds): return (String(format: "clock within %.1f s of the hub's", seconds), nil)
        case .daemonAnswers(let socket): return ("syncd answers on \(socket)", nil)
        case .daemonSilent(let socket): return ("syncd does not answer on \(socket)", "'systemctl start syncd'; 'journalctl -u syncd' says why it stopped")
        }
    }
}
