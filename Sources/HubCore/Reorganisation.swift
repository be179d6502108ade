import Foundation
import MergeEngine
import Register
import SyncCore
import SyncProtocol

/// One line of a reorganisation: an old commune-level unit and one of its successors
/// (`commune_mapping_2025.csv`: a "whole" unit has one, a split unit several, one of them the
/// default).
public struct Succession: Sendable, Equatable {
    public let oldCode: String
    public let newCode: String
    public let newName: String
    /// units.kind of the successor: commune, ward (or township).
    public let newKind: String
    public let isDefault: Bool

    public init(oldCode: String, newCode: String, newName: String, newKind: String, isDefault: Bool) {
        self.oldCode = oldCode
        self.newCode = newCode
        self.newName = newName
        self.newKind = newKind
        self.isDefault = isDefault
    }
}

/// What a reorganisation did, for the district staff who ran it.
public struct ReorganisationReport: Sendable, Equatable {
    public struct UnitLine: Sendable, Equatable {
        public let id: String
        public let code: String
        public let name: String
    }

    /// Units ended, with the successor that received their records by default.
    public var ended: [(unit: UnitLine, successor: UnitLine)] = []
    /// Successor units created (a new unit, even under an old unit's reused code).
    public var created: [UnitLine] = []
    /// Successors that existed before and go on (same code and name): they keep their history.
    public var kept: [UnitLine] = []
    /// Records moved, per table (hamlets and residential groups under `units`).
    public var moved: [String: Int] = [:]
    /// Split units whose records went to the default successor and wait for review.
    public var splitsToReview: [String] = []
    /// Old codes of the mapping that name no commune in force at this hub (other districts).
    public var notHere = 0

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.created == rhs.created && lhs.kept == rhs.kept && lhs.moved == rhs.moved && lhs.splitsToReview == rhs.splitsToReview
            && lhs.ended.map(\.unit) == rhs.ended.map(\.unit) && lhs.ended.map(\.successor) == rhs.ended.map(\.successor)
    }
}

/// A commune-level unit that has ended (merged into another, or split), as an office of it
/// is told when it asks for the register.
public struct EndedUnit: Sendable, Equatable {
    public let code: String
    public let name: String
    /// Its last day in force (`effective_to`).
    public let lastDay: String
    /// units.id of its main successor.
    public let successorID: String?
    public let successorCode: String?
    public let successorName: String?

    /// What the office of the ended unit is told, and what to do.
    func refusal(replica: ReplicaID) -> String {
        let successor = successorCode.map { "\(successorName ?? "?") (\($0))" } ?? "its successor"
        let from = RegisterDate.day(after: lastDay) ?? "after \(lastDay)"
        return "\(name) (\(code)) was in force until \(lastDay); from \(from) its records belong to \(successor), and this computer's register "
            + "(replica \(replica)) is no longer kept up to date. Changes typed here before this was known are still taken by "
            + "the hub and reach \(successor) (or the district's review). Technician: let 'syncctl status' show 0 unsent changes, "
            + "then stop syncd here ('systemctl disable --now syncd'); the office of \(successor) syncs with its own credential "
            + "('synchub credential issue --replica \(successorCode ?? "CODE")' at the district)"
    }
}

extension HubStore {
    static let communeKinds: Set<String> = ["commune", "ward", "township"]

    /// The unit `unit` if it has ended: its `effective_to`, its last day in force, is past.
    nonisolated(nonsending) func endedUnit(_ unit: String, in store: any HubTransaction) async throws -> EndedUnit? {
        let values = try await store.values(table: "units", row: unit, columns: ["code", "name", "effective_to", "successor_id"])
        guard case .text(let endedOn)? = values["effective_to"], endedOn < RegisterDate.today() else { return nil }
        var successor: [String: Value] = [:]
        if case .text(let id)? = values["successor_id"] {
            successor = try await store.values(table: "units", row: id, columns: ["code", "name"])
        }
        return EndedUnit(
            code: values["code"]?.textValue ?? "?", name: values["name"]?.textValue ?? "?", lastDay: endedOn,
            successorID: values["successor_id"]?.textValue,
            successorCode: successor["code"]?.textValue, successorName: successor["name"]?.textValue)
    }

    /// Opens a review item for a split unit: its records went to the default successor
    /// unless the district placed them, and district staff check whether some belong to
    /// another successor. One side per successor, with what it received.
    func openPlacementReview(
        old: (id: String, code: String, name: String), successors: [(id: String, code: String, name: String, isDefault: Bool)],
        moved: [String: [String: Int]], on date: String, in store: any HubTransaction
    ) async throws {
        let sides = successors.map { successor in
            var side = ConflictView.Side()
            side.commune = successor.id
            let received = (moved[successor.id] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
            side.value = .text("\(successor.name) (\(successor.code))\(successor.isDefault ? ", the default successor" : ""): received "
                + (received.isEmpty ? "nothing" : received.joined(separator: ", ")))
            return side
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        _ = try await store.openReviewItem(
            table: "units", row: old.id, column: Self.placementColumn, kind: .placement,
            rule: "split of \(old.name) (\(old.code)) on \(date): records went to the default successor unless placed; check "
                + "whether some belong to another ('synchub units move-person' moves a person and their records)",
            sidesJSON: String(decoding: try encoder.encode(sides), as: UTF8.self))
    }

    /// The column of a split unit's placement item (on its `units` row).
    static let placementColumn = ConflictRecord.placementColumn

    /// An office of an ended unit may still deliver what it typed (push), but is no longer
    /// served the register: 410 with the successor's name and what to do. Whether the unit
    /// ended is read with the credential, so a request of an office in force costs nothing.
    nonisolated(nonsending) func refuseIfEnded(_ caller: Caller, in store: any HubTransaction) async throws {
        guard let lastDay = caller.scopeLastDay, lastDay < RegisterDate.today(),
            let ended = try await endedUnit(caller.scope, in: store)
        else { return }
        throw HubError(status: 410, code: "unit_ended", message: ended.refusal(replica: caller.replica))
    }

    /// The rows that moved into or out of the caller's commune in feed positions
    /// `after+1...through`: those now in it, and those now elsewhere.
    nonisolated(nonsending) func moves(of caller: Caller, after: Int64, through: Int64, in store: any HubTransaction) async throws -> ([RowRef], [RowRef]) {
        guard through > after else { return ([], []) }
        var last: [RowKey: RowMove] = [:]
        for (_, move) in try await store.moves(touching: caller.scope, after: after, through: through) { last[move.key] = move }
        var arrived: [RowRef] = []
        var departed: [RowRef] = []
        for (key, move) in last.sorted(by: { ($0.key.table, $0.key.row) < ($1.key.table, $1.key.row) }) {
            guard let table = schema.table(named: key.table) else { continue }
            if move.to == caller.scope {
                if let state = try await store.rowState(table: key.table, row: key.row),
                    RowScope(table: table, state: state).includes(caller.scope)
                {
                    arrived.append(RowRef(table: key.table, row: key.row))
                }
            } else {
                departed.append(RowRef(table: key.table, row: key.row))
            }
        }
        return (arrived, departed)
    }

    /// Moves every record kept by `unit` (persons, positions, assignments, evaluations,
    /// trainings) to the commune `target` names for it, by district writes of `commune_id`;
    /// `also` adds columns to write with a row (ending an assignment). Deleted rows stay
    /// where they were. Returns how many rows moved, per table (`moveRecordsByTarget`: per
    /// commune they went to, then per table).
    func moveRecords(
        of unit: String, in store: any HubTransaction,
        to target: (String, String, RowState) async throws -> String?,
        also: (String, String, RowState) async throws -> [String: Value] = { _, _, _ in [:] }
    ) async throws -> [String: Int] {
        var total: [String: Int] = [:]
        for counts in try await moveRecordsByTarget(of: unit, in: store, to: target, also: also).values {
            total.merge(counts, uniquingKeysWith: +)
        }
        return total
    }

    func moveRecordsByTarget(
        of unit: String, in store: any HubTransaction,
        to target: (String, String, RowState) async throws -> String?,
        also: (String, String, RowState) async throws -> [String: Value] = { _, _, _ in [:] }
    ) async throws -> [String: [String: Int]] {
        var moved: [String: [String: Int]] = [:]
        for table in schema.tables where table.owner == .shared {
            var after = ""
            while true {
                let page = try await store.rowStates(table: table.name, after: after, scope: unit, limit: 500)
                // Deleted rows keep their scope in the merge state, but have no row to move.
                let present = try await store.presentRows(table: table.name, ids: page.map(\.0))
                var writes: [(id: String, values: [String: Value])] = []
                for (row, state) in page where present.contains(row) {
                    guard let destination = try await target(table.name, row, state), destination != unit else { continue }
                    var values = try await also(table.name, row, state)
                    values[RowScope.column] = .text(destination)
                    writes.append((row, values))
                    moved[destination, default: [:]][table.name, default: 0] += 1
                }
                try await store.districtWrites(table: table.name, rows: writes)
                guard let last = page.last, page.count == 500 else { break }
                after = last.0
            }
        }
        return moved
    }

    /// A field's value as merged (its first surviving write).
    static func field(_ state: RowState, _ column: String) -> String? {
        state.fields[column]?.writes.first?.value.textValue
    }

    // MARK: Mergers and splits

    /// Ends the old units of `successions` that this hub holds, creates their successors
    /// (or keeps one that goes on under the same code and name), and moves every record of
    /// an ended unit to its successor by district writes, which reach every office: records
    /// of a split unit go to its default successor unless `placing` names another for a
    /// hamlet (by units.id or code) or a person (by persons.id). One transaction: all of it
    /// or nothing.
    public func reorganise(_ successions: [Succession], on date: String, placing: [String: String] = [:]) async throws -> ReorganisationReport {
        guard RegisterDate.isDate(date) else { throw HubError.badRequest("'\(date)' is not a date: give it as YYYY-MM-DD") }
        let lastDay = RegisterDate.day(after: date, by: -1)!
        // Units and seats district staff typed since the hub last served are the register too.
        try await ingestLocalEdits()
        return try await storage.write { store in
            var report = ReorganisationReport()
            let units = try await unitTable(in: store)
            let inForce = units.filter { $0.value.effectiveTo == nil && Self.communeKinds.contains($0.value.kind ?? "") }
            func unit(code: String) -> (id: String, record: UnitRecord)? {
                inForce.first { $0.value.code == code }.map { ($0.key, $0.value) }
            }
            var byOld: [String: [Succession]] = [:]
            for succession in successions {
                if unit(code: succession.oldCode) != nil { byOld[succession.oldCode, default: []].append(succession) } else { report.notHere += 1 }
            }
            guard !byOld.isEmpty else {
                throw HubError.badRequest("none of the old units named is a commune in force at this hub: check the codes, or whether it was done before")
            }
            let ending = Set(byOld.keys.compactMap { unit(code: $0)?.id })
            // Successors: a unit in force with the same code and name goes on; any other
            // successor is a new unit, also when it takes over the code of a unit that ends.
            var successorIDs: [String: String] = [:]
            for succession in byOld.values.joined().sorted(by: { $0.newCode < $1.newCode }) where successorIDs[succession.newCode] == nil {
                if let existing = unit(code: succession.newCode) {
                    // No name given (one merger at a time, into a unit in force): that unit.
                    if existing.record.name == succession.newName || succession.newName.isEmpty {
                        successorIDs[succession.newCode] = existing.id
                        report.kept.append(.init(id: existing.id, code: succession.newCode, name: existing.record.name ?? "?"))
                        continue
                    }
                    guard ending.contains(existing.id) else {
                        throw HubError.badRequest(
                            "code \(succession.newCode) is held by \(existing.record.name ?? "?"), which stays in force: "
                                + "it cannot also name \(succession.newName); end that unit in the same reorganisation")
                    }
                }
                guard !succession.newName.isEmpty else {
                    throw HubError.badRequest("no commune with code \(succession.newCode) is in force here: give the new unit's name (--name)")
                }
                let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
                let parent = unit(code: succession.oldCode)?.record.parent
                var values: [String: Value] = [
                    "code": .text(succession.newCode), "name": .text(succession.newName), "kind": .text(succession.newKind),
                    "effective_from": .text(date),
                ]
                if let parent { values["parent_id"] = .text(parent) }
                try await store.districtInsert(table: "units", row: id, values: values)
                successorIDs[succession.newCode] = id
                report.created.append(.init(id: id, code: succession.newCode, name: succession.newName))
            }
            // A place must name a hamlet of an ending commune, or a person: a typo is refused.
            let hamletKeys = Set(units.filter { $0.value.parent.map(ending.contains) == true }.flatMap { [$0.key, $0.value.code ?? ""] })
            let people = try await store.presentRows(table: "persons", ids: placing.keys.filter { !hamletKeys.contains($0) })
            if let unknown = placing.keys.sorted().first(where: { !hamletKeys.contains($0) && !people.contains($0) }) {
                throw HubError.badRequest(
                    "--place \(unknown)=...: no hamlet of the communes that end has this code or units.id, and no person this persons.id; nothing was changed")
            }
            for (oldCode, lines) in byOld.sorted(by: { $0.key < $1.key }) {
                let old = unit(code: oldCode)!
                let main = lines.first(where: \.isDefault) ?? lines[0]
                let defaultTarget = successorIDs[main.newCode]!
                if defaultTarget == old.id { continue }  // it goes on, with its records
                // Where the district placed a hamlet or a person of a split unit, by units.id.
                var placed: [String: String] = [:]
                for (key, code) in placing {
                    guard let target = successorIDs[code] ?? unit(code: code)?.id else {
                        throw HubError.badRequest("--place \(key)=\(code): no successor or commune in force has code \(code)")
                    }
                    if let hamlet = units.first(where: { ($0.key == key || $0.value.code == key) && $0.value.parent == old.id }) {
                        placed[hamlet.key] = target
                    } else {
                        placed[key] = target
                    }
                }
                // effective_to is the last day in force; the successors start on `date`.
                try await store.districtWrite(table: "units", row: old.id, values: [
                    "effective_to": .text(lastDay), "successor_id": .text(defaultTarget),
                ])
                for (hamlet, record) in units.sorted(by: { $0.key < $1.key }) where record.parent == old.id && record.effectiveTo == nil {
                    try await store.districtWrite(table: "units", row: hamlet, values: ["parent_id": .text(placed[hamlet] ?? defaultTarget)])
                    report.moved["units", default: 0] += 1
                    // Where the hamlet was until now, kept as an ended row naming it as successor
                    // (a former place, `UnitLineage`): a report of an earlier day finds it under the
                    // commune it was in then, and only there.
                    let placedBefore = units.values.filter { $0.successor == hamlet && $0.kind == record.kind }.compactMap(\.effectiveTo).max()
                    var formerPlace: [String: Value] = [
                        "kind": .text(record.kind ?? "hamlet"), "parent_id": .text(old.id), "effective_to": .text(lastDay),
                        "successor_id": .text(hamlet),
                    ]
                    if let code = record.code { formerPlace["code"] = .text(code) }
                    if let name = record.name { formerPlace["name"] = .text(name) }
                    if let from = placedBefore.flatMap({ RegisterDate.day(after: $0, by: 1) }) ?? record.effectiveFrom {
                        formerPlace["effective_from"] = .text(from)
                    }
                    try await store.districtInsert(table: "units", row: "\(hamlet)@\(lastDay)", values: formerPlace)
                }
                // A seat follows its hamlet; a person follows where the district placed them,
                // else the hamlet of a seat they hold; their records follow them.
                let personPlaces = placed.isEmpty ? [:] : try await hamletPlaces(of: old.id, placed: placed, in: store)
                func personTarget(_ person: String?) -> String {
                    person.flatMap { placed[$0] ?? personPlaces[$0] } ?? defaultTarget
                }
                let movedTo = try await moveRecordsByTarget(of: old.id, in: store) { table, row, state in
                    switch table {
                    case "persons": return personTarget(row)
                    case "positions": return Self.field(state, "unit_id").flatMap { placed[$0] } ?? defaultTarget
                    default: return personTarget(Self.field(state, "person_id"))
                    }
                }
                for (table, count) in movedTo.values.joined() { report.moved[table, default: 0] += count }
                let successor = ReorganisationReport.UnitLine(
                    id: defaultTarget, code: main.newCode, name: main.newName.isEmpty ? units[defaultTarget]?.name ?? "?" : main.newName)
                report.ended.append((.init(id: old.id, code: oldCode, name: old.record.name ?? "?"), successor))
                if lines.count > 1 {
                    report.splitsToReview.append(oldCode)
                    try await openPlacementReview(
                        old: (old.id, oldCode, old.record.name ?? "?"),
                        successors: lines.map { (successorIDs[$0.newCode]!, $0.newCode, $0.newName, $0.isDefault) }, moved: movedTo,
                        on: date, in: store)
                }
            }
            try await feedDistrictEdits(in: store)
            return report
        }
    }

    /// Where the people of `unit` go by the seats they hold: the successor of a placed
    /// hamlet whose seat they hold (an active assignment), by persons.id.
    func hamletPlaces(of unit: String, placed: [String: String], in store: any HubTransaction) async throws -> [String: String] {
        var seatPlace: [String: String] = [:]
        var people: [String: String] = [:]
        for table in ["positions", "assignments"] {
            var after = ""
            while true {
                let page = try await store.rowStates(table: table, after: after, scope: unit, limit: 500)
                for (row, state) in page {
                    if table == "positions" {
                        if let hamlet = Self.field(state, "unit_id"), let target = placed[hamlet] { seatPlace[row] = target }
                    } else if let seat = Self.field(state, "position_id"), let target = seatPlace[seat],
                        let person = Self.field(state, "person_id"), try await store.isActiveAssignment(row)
                    {
                        people[person] = target
                    }
                }
                guard let last = page.last, page.count == 500 else { break }
                after = last.0
            }
        }
        return people
    }

    /// A unit as the reorganisation reads it.
    struct UnitRecord {
        let code: String?
        let name: String?
        let kind: String?
        let parent: String?
        let effectiveFrom: String?
        let effectiveTo: String?
        let successor: String?
    }

    /// Every unit the hub holds, by units.id.
    func unitTable(in store: any HubTransaction) async throws -> [String: UnitRecord] {
        var units: [String: UnitRecord] = [:]
        var after = ""
        while true {
            let page = try await store.rowStates(table: "units", after: after, scope: nil, limit: 1000)
            for (id, _) in page {
                let present = try await store.values(
                    table: "units", row: id, columns: ["code", "name", "kind", "parent_id", "effective_from", "effective_to", "successor_id"])
                guard case .text? = present["code"] ?? .null else { continue }  // deleted
                units[id] = UnitRecord(
                    code: present["code"]?.textValue, name: present["name"]?.textValue, kind: present["kind"]?.textValue,
                    parent: present["parent_id"]?.textValue, effectiveFrom: present["effective_from"]?.textValue,
                    effectiveTo: present["effective_to"]?.textValue, successor: present["successor_id"]?.textValue)
            }
            guard let last = page.last, page.count == 1000 else { break }
            after = last.0
        }
        return units
    }

    /// Rows district staff add to the register (units, titles, quotas, ...), as their SQL
    /// would, in one transaction: a tool's way to load reference data.
    public func insertDistrictRows(_ table: String, _ rows: [(id: String, values: [String: Value])]) async throws {
        try await storage.write { store in
            for row in rows { try await store.districtInsert(table: table, row: row.id, values: row.values) }
            try await feedDistrictEdits(in: store)
        }
    }

    // MARK: Rotation

    /// `rotate(person:to:on:)` to the commune in force with official code `code`.
    public func rotate(person: String, toCode code: String, on date: String) async throws -> [String: Int] {
        guard let unit = try await storage.read({ try await $0.communeUnit(code: code) }) else {
            throw HubError.badRequest("no commune with code \(code) is in force in the hub's units table")
        }
        return try await rotate(person: person, to: unit, on: date)
    }

    /// Moves a person to the commune `unit` (units.id): the person's record and history
    /// (assignments, evaluations, trainings) go to its office; assignments still active in
    /// the old commune end on `date`. Edits the old office made before it learned of the move
    /// are still taken from it and reach the new one (`RowMove`).
    public func rotate(person: String, to unit: String, on date: String) async throws -> [String: Int] {
        guard RegisterDate.isDate(date) else { throw HubError.badRequest("'\(date)' is not a date: give it as YYYY-MM-DD") }
        return try await storage.write { store in
            guard case .text(let from)? = try await store.values(table: "persons", row: person, columns: [RowScope.column])[RowScope.column] else {
                throw HubError.badRequest("no person \(person) is in the register")
            }
            let target = try await store.values(table: "units", row: unit, columns: ["code", "name", "kind", "effective_to"])
            guard let code = target["code"]?.textValue, Self.communeKinds.contains(target["kind"]?.textValue ?? ""),
                target["effective_to"]?.textValue == nil
            else { throw HubError.badRequest("\(unit) is not a commune in force") }
            guard from != unit else { throw HubError.badRequest("the person is already kept by \(code)") }
            let reason = "rotated to \(target["name"]?.textValue ?? code) (\(code)) on \(date)"
            let moved = try await moveRecords(of: from, in: store) { table, row, state in
                (table == "persons" ? row : Self.field(state, "person_id")) == person ? unit : nil
            } also: { table, row, _ in
                guard table == "assignments", try await store.isActiveAssignment(row) else { return [:] }
                return AssignmentTerm.ending(on: date, reason: reason)
            }
            try await feedDistrictEdits(in: store)
            return moved
        }
    }
}
