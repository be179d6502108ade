import Foundation
import MergeEngine
import Register
import SyncCore
import SyncProtocol

/// The district's review desk: conflicts as reviewers see them, and their decisions. A
/// decision is a district write whose context covers every side (it is made on the hub's
/// replica, which holds them all), so it closes the conflict on every replica it reaches;
/// who decided, when and why is kept with it, in the same transaction: a decision is never
/// written without the record that lets it be reverted, nor recorded without being written.
extension HubStore {
    /// Most conflicts one page holds, and how many when the caller does not say.
    public static let conflictPageLimit = 1_000
    public static let conflictPageDefault = 500

    /// A page of the conflicts in `state` (open, settled, closed or all), in id order, after
    /// the one whose id is `after`: at most `limit` of them. A district may hold thousands,
    /// so nobody is sent them all at once; a page shorter than `limit` is the last.
    public func conflicts(state: String?, after: String? = nil, limit: Int? = nil, for caller: Caller) async throws -> [ConflictView] {
        try require(.reviewer, caller)
        let wanted = state.flatMap(ConflictRecord.State.init(rawValue:))
        if let state, state != "all", wanted == nil {
            throw HubError.badRequest("state must be open, settled, closed or all, not '\(state)'")
        }
        let limit = limit ?? Self.conflictPageDefault
        guard (1...Self.conflictPageLimit).contains(limit) else {
            throw HubError.badRequest("limit must be 1 to \(Self.conflictPageLimit), not \(limit); page on with after=ID of the last one")
        }
        try await ingestLocalEdits()
        return try await storage.read { try await $0.conflicts(state: wanted, after: after ?? "", limit: limit) }.map(Self.view)
    }

    /// One item by its id (`table/row/column`), in any state; nil when there is none.
    public func reviewItem(_ id: String, for caller: Caller) async throws -> ConflictView? {
        try require(.reviewer, caller)
        try await ingestLocalEdits()
        return try await storage.read { try await $0.conflict(id: id) }.map(Self.view)
    }

    static func view(_ record: ConflictRecord) -> ConflictView {
        let sides: [ConflictView.Side]
        var count: Int?
        switch record.kind {
        case .field:
            sides = record.fieldSides.map { write in
                var side = ConflictView.Side()
                side.dot = write.dot.description
                side.origin = write.dot.replica.rawValue
                side.hlc = write.timestamp.rawValue
                side.value = write.value
                return side
            }
        case .holding, .quota:
            sides = record.holdings.map { holding in
                var side = ConflictView.Side()
                side.assignment = holding.assignment
                side.person = holding.person
                side.title = holding.title
                side.decisionNo = holding.decisionNo
                return side
            }
        case .seat:
            sides = record.seatSides.map { holder in
                var side = ConflictView.Side()
                side.dot = holder.dot.description
                side.origin = holder.origin.rawValue
                side.assignment = holder.assignment
                side.person = holder.person
                side.decisionNo = holder.decisionNo
                side.decisionDate = holder.decisionDate
                return side
            }
        case .duplicate, .placement, .deletion:
            // Opened by the hub itself, with its sides as reviewers see them (`openReviewItem`).
            (sides, count) = DuplicatePersons.sidesAndCount(record.sidesJSON)
        }
        var view = ConflictView(id: record.id, kind: record.kind.rawValue, table: record.table, row: record.row, column: record.column,
                                rule: record.rule, sides: sides, chosen: record.chosen, state: record.state.rawValue, count: count)
        view.opened = record.openedHLC.flatMap { $0 > 0 ? Date(timeIntervalSince1970: Double($0 >> 16) / 1000).formatted(.iso8601) : nil }
        return view
    }

    /// Most decisions one page holds, and how many when the caller does not say.
    public static let decisionPageLimit = 500
    public static let decisionPageDefault = 100

    /// The district's decisions newest first, those numbered below `before` when given: the
    /// history a reviewer reads (who, when, why) and reverts from.
    public func decisions(before: Int64? = nil, limit: Int? = nil, for caller: Caller) async throws -> [DecisionView] {
        try require(.reviewer, caller)
        let limit = limit ?? Self.decisionPageDefault
        guard (1...Self.decisionPageLimit).contains(limit) else {
            throw HubError.badRequest("limit must be 1 to \(Self.decisionPageLimit), not \(limit); page on with before=NUMBER of the last one")
        }
        return try await storage.read { try await $0.reviews(before: before, limit: limit) }.map(Self.decisionView)
    }

    static func decisionView(_ record: ReviewRecord) -> DecisionView {
        DecisionView(id: record.id ?? 0, conflict: record.conflict, reviewer: record.reviewer.rawValue, at: record.at, reason: record.reason,
                     pick: record.pick, value: record.value, wrote: record.wrote, reverts: record.reverts, revertedBy: record.revertedBy)
    }

    public func resolve(_ request: ResolveRequest, by caller: Caller) async throws -> ResolveResponse {
        try require(.reviewer, caller)
        try await ingestLocalEdits()
        let (review, wrote) = try await storage.write { store in
            guard let record = try await store.conflict(id: request.id), record.state != .closed
            else {
                throw HubError(status: 404, code: "not_found", message: "no open conflict \(request.id): it may have been resolved already; list them with 'syncctl review list'")
            }
            guard !request.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw HubError.badRequest("say why (reason): it is kept with the decision")
            }
            var writes: [RowValues] = []
            var deleting = false
            switch record.kind {
            case .field:
                let value: Value
                if let merged = request.value {
                    value = merged
                } else if let pick = request.pick, let side = record.fieldSides.first(where: { $0.dot.description == pick }) {
                    value = side.value
                } else {
                    throw HubError.badRequest("pick one of the sides by its dot (\(record.fieldSides.map(\.dot.description).joined(separator: ", "))) or give a merged value")
                }
                writes.append(RowValues(table: record.table, row: record.row, values: [record.column: value]))
            case .seat:
                guard let pick = request.pick, record.seatSides.contains(where: { $0.assignment == pick }) else {
                    throw HubError.badRequest("pick the assignment that keeps the seat (\(record.seatSides.map(\.assignment).joined(separator: ", ")))")
                }
                // Ended on the day the seat rule would end them for the same keeper (`endSeatLosers`).
                let keeperStart = record.seatSides.first { $0.assignment == pick }?.startDate
                for holder in record.seatSides where holder.assignment != pick {
                    writes.append(Self.ending(holder.assignment, start: holder.startDate, givingWayTo: keeperStart,
                                              reviewer: caller, reason: request.reason))
                }
            case .holding, .quota:
                // One or more assignments to end, separated by commas: a quota over by two
                // people is settled in one decision.
                var names: [String: String] = [:]
                for person in Set(record.holdings.map(\.person)) where !person.isEmpty {
                    names[person] = try await store.personName(person)
                }
                let picks = try await Self.settlingPicks(request.pick, of: record, names: names, in: store)
                for pick in picks.sorted() {
                    let start = try await store.values(table: "assignments", row: pick, columns: ["start_date"])["start_date"]?.textValue
                    writes.append(Self.ending(pick, start: start, givingWayTo: nil, reviewer: caller, reason: request.reason))
                }
            case .duplicate:
                writes = try await duplicateMerge(record, keeping: request.pick, in: store)
            case .deletion:
                // The former office's delete: applied now by the district, or not at all.
                switch request.pick {
                case "delete": deleting = true
                case "keep": break
                default:
                    throw HubError.badRequest(
                        "pick 'keep' (the record stays with the commune that keeps it now) or 'delete' (the district deletes it everywhere)")
                }
            case .placement:
                // A confirmation: what has to move moves with 'synchub units move-person'.
                let successors = ((try? JSONDecoder().decode([ConflictView.Side].self, from: Data(record.sidesJSON.utf8))) ?? [])
                    .compactMap(\.commune)
                guard let pick = request.pick, successors.contains(pick) else {
                    throw HubError.badRequest(
                        "confirm the placement by picking one of the successors (\(successors.joined(separator: ", "))); "
                            + "nothing is written: move what belongs elsewhere with 'synchub units move-person'")
                }
                writes = []
            }
            let review = try await decide(writes, conflict: request.id, reviewer: caller, reason: request.reason, pick: request.pick,
                                          value: request.value, reverts: nil, scopes: try await Self.communes(of: record, in: store), in: store)
            // A delete writes no values to put back: kept with an empty record, it cannot be reverted.
            if deleting { try await store.districtDelete(table: record.table, row: record.row) }
            // Items the hub opened itself close with the decision: no merge or rule closes them.
            if [.duplicate, .placement, .deletion].contains(record.kind) {
                try await store.closeReviewItem(table: record.table, row: record.row, column: record.column)
            }
            return (review, writes.count + (deleting ? 1 : 0))
        }
        try await ingestLocalEdits()
        return ResolveResponse(id: request.id, review: review, wrote: wrote)
    }

    /// Undoes a decision: writes back the values it overwrote, as a new district write (so it
    /// reaches every replica), recorded as a decision of its own.
    public func revert(_ request: RevertRequest, by caller: Caller) async throws -> ResolveResponse {
        try require(.reviewer, caller)
        let (conflict, review, wrote) = try await storage.write { store in
            guard let undone = try await store.review(request.review) else {
                throw HubError(status: 404, code: "not_found", message: "no decision #\(request.review) at this hub")
            }
            if let by = undone.revertedBy {
                throw HubError.badRequest("decision #\(request.review) was already reverted (by #\(by)): nothing to undo twice")
            }
            guard undone.reverts == nil else { throw HubError.badRequest("#\(request.review) is itself a revert: decide the conflict again instead") }
            guard !(undone.pick == "delete" && undone.conflict.hasSuffix("/" + HubStore.deletionColumn)) else {
                throw HubError.badRequest(
                    "decision #\(request.review) deleted a record: a revert cannot bring it back; its commune's office can record it again")
            }
            guard !request.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw HubError.badRequest("say why (reason): it is kept with the revert")
            }
            let previous = try JSONDecoder().decode([RowValues].self, from: Data(undone.previous.utf8))
            var scopes: [String] = []
            if let item = try await store.conflict(id: undone.conflict) { scopes = try await Self.communes(of: item, in: store) }
            let review = try await decide(previous, conflict: undone.conflict, reviewer: caller, reason: request.reason, pick: nil,
                                          value: nil, reverts: request.review, scopes: scopes, in: store)
            try await store.markReverted(request.review, by: review)
            return (undone.conflict, review, previous.count)
        }
        try await ingestLocalEdits()
        return ResolveResponse(id: conflict, review: review, wrote: wrote)
    }

    /// Makes a decision's district writes and keeps its record (with the values they
    /// overwrote), inside the caller's transaction. Returns the decision's number.
    private func decide(
        _ writes: [RowValues], conflict: String, reviewer: Caller, reason: String, pick: String?, value: Value?, reverts: Int64?,
        scopes: [String], in store: any HubTransaction
    ) async throws -> Int64 {
        var previous: [RowValues] = []
        for write in writes {
            let columns = write.values.keys.sorted()
            previous.append(RowValues(table: write.table, row: write.row,
                                        values: try await store.values(table: write.table, row: write.row, columns: columns)))
            try await store.districtWrite(table: write.table, row: write.row, values: write.values)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try await store.recordReview(ReviewRecord(
            conflict: conflict, reviewer: reviewer.replica, at: Date().formatted(.iso8601), reason: reason, pick: pick, value: value,
            wrote: writes.count, previous: String(decoding: try encoder.encode(previous), as: UTF8.self), reverts: reverts, scopes: scopes))
    }

    /// The assignments a pick on a holding or quota item ends (comma-separated ids), once
    /// checked: each one of the item's, and together settling it (`HoldingCheck.unsettled`),
    /// else refused with the reason. The one check behind a decision and its preview.
    nonisolated(nonsending) static func settlingPicks(
        _ pick: String?, of record: ConflictRecord, names: [String: String], in store: any HubTransaction
    ) async throws -> Set<String> {
        let picks = Set((pick ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let offered = Set(record.holdings.map(\.assignment))
        guard !picks.isEmpty, picks.isSubset(of: offered) else {
            throw HubError.badRequest("pick the assignment(s) to end, separated by commas (\(record.holdings.map(\.assignment).joined(separator: ", ")))")
        }
        if let reason = HoldingCheck.unsettled(record, ending: picks, rules: try await store.rules().holding, names: names) {
            throw HubError(status: 409, code: "would_not_settle", message: reason + " Nothing was written.")
        }
        return picks
    }

    /// The communes (units.id) whose records an item names, whose offices are told of its
    /// decision: a unit's item its commune (a hamlet's, the commune above it), a row's item
    /// the commune that keeps the row, a duplicate's the communes keeping its records.
    nonisolated(nonsending) static func communes(of record: ConflictRecord, in store: any HubTransaction) async throws -> [String] {
        var units: Set<String> = []
        if record.table == "units" {
            let unit = try await store.values(table: "units", row: record.row, columns: ["kind", "parent_id"])
            let kind = unit["kind"]?.textValue
            if kind == "hamlet" || kind == "residential_group", let parent = unit["parent_id"]?.textValue {
                units.insert(parent)
            } else {
                units.insert(record.row)
            }
        } else if let keeping = try? await store.values(table: record.table, row: record.row, columns: ["commune_id"])["commune_id"]?.textValue {
            units.insert(keeping)
        }
        if record.kind == .duplicate {
            // Its sides name the unit (units.id) that keeps each record.
            units.formUnion(DuplicatePersons.sidesAndCount(record.sidesJSON).0.compactMap(\.commune))
        }
        if record.kind == .placement {
            // Its sides name the successors by code: their offices keep what was placed.
            for code in DuplicatePersons.sidesAndCount(record.sidesJSON).0.compactMap(\.commune) {
                if let unit = try await store.communeUnit(code: code) { units.insert(unit) }
            }
        }
        return units.sorted()
    }

    /// The district write that ends an assignment (never deletes it) on the day
    /// `AssignmentTerm.endDate` gives, naming the reviewer's reason.
    private static func ending(
        _ assignment: String, start: String?, givingWayTo keeperStart: String?, reviewer: Caller, reason: String
    ) -> RowValues {
        RowValues(table: "assignments", row: assignment, values: AssignmentTerm.ending(
            start: start, givingWayTo: keeperStart, reason: "\(AssignmentTerm.reviewEndedPrefix) (\(reviewer.replica)): \(reason)"))
    }
}

/// Values of some columns of one row: what a decision writes, or what it overwrote (kept
/// with the decision so that it can be reverted).
struct RowValues: Codable {
    let table: String
    let row: String
    let values: [String: Value]
}
