import Foundation
import Replica
import SyncCore
import SyncProtocol

/// The district's review desk: conflicts as reviewers see them, and their decisions. A
/// decision is a district write whose context covers every side (it is made on the hub's
/// replica, which holds them all), so it closes the conflict on every replica it reaches;
/// who decided, when and why is kept in `_sync_hub_reviews`.
extension HubStore {
    public func conflicts(state: String?, for caller: Caller) throws -> [ConflictView] {
        try require(.reviewer, caller)
        try ingestLocalEdits()
        let wanted = state.flatMap(ConflictRecord.State.init(rawValue:))
        if let state, state != "all", wanted == nil {
            throw HubError.badRequest("state must be open, settled, closed or all, not '\(state)'")
        }
        return try replica.conflicts(state: wanted).map(Self.view)
    }

    static func view(_ record: ConflictRecord) -> ConflictView {
        let sides: [ConflictView.Side]
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
        }
        return ConflictView(id: record.id, kind: record.kind.rawValue, table: record.table, row: record.row, column: record.column,
                            rule: record.rule, sides: sides, chosen: record.chosen, state: record.state.rawValue)
    }

    public func resolve(_ request: ResolveRequest, by caller: Caller) throws -> ResolveResponse {
        try require(.reviewer, caller)
        try ingestLocalEdits()
        guard let record = try replica.conflicts().first(where: { $0.id == request.id }), record.state != .closed else {
            throw HubError(status: 404, code: "not_found", message: "no open conflict \(request.id): it may have been resolved already; list them with 'syncctl review list'")
        }
        guard !request.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw HubError.badRequest("say why (reason): it is kept with the decision")
        }
        var wrote = 0
        var previous: [PriorValues] = []
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
            previous.append(try prior(record.table, record.row, [record.column]))
            try replica.write(table: record.table, row: record.row, values: [record.column: value])
            wrote = 1
        case .seat:
            guard let pick = request.pick, record.seatSides.contains(where: { $0.assignment == pick }) else {
                throw HubError.badRequest("pick the assignment that keeps the seat (\(record.seatSides.map(\.assignment).joined(separator: ", ")))")
            }
            for holder in record.seatSides where holder.assignment != pick {
                previous.append(try prior("assignments", holder.assignment, ["end_date", "end_reason"]))
                try endAssignment(holder.assignment, reviewer: caller, reason: request.reason)
                wrote += 1
            }
        case .holding, .quota:
            guard let pick = request.pick, record.holdings.contains(where: { $0.assignment == pick }) else {
                throw HubError.badRequest("pick the assignment to end (\(record.holdings.map(\.assignment).joined(separator: ", ")))")
            }
            previous.append(try prior("assignments", pick, ["end_date", "end_reason"]))
            try endAssignment(pick, reviewer: caller, reason: request.reason)
            wrote = 1
        }
        let review = try recordDecision(conflict: request.id, reviewer: caller, reason: request.reason, pick: request.pick,
                                        value: request.value, wrote: wrote, previous: previous, reverts: nil)
        try ingestLocalEdits()
        return ResolveResponse(id: request.id, review: review, wrote: wrote)
    }

    /// Undoes a decision: writes back the values it overwrote, as a new district write (so it
    /// reaches every replica), recorded as a decision of its own.
    public func revert(_ request: RevertRequest, by caller: Caller) throws -> ResolveResponse {
        try require(.reviewer, caller)
        guard let row = try replica.database.query(
            "SELECT conflict, previous, reverted_by, reverts FROM _sync_hub_reviews WHERE id = ?", [.integer(request.review)]).first,
            let conflict = row[0].textValue, let text = row[1].textValue
        else { throw HubError(status: 404, code: "not_found", message: "no decision #\(request.review) at this hub") }
        guard row[2] == .null else {
            throw HubError.badRequest("decision #\(request.review) was already reverted (by #\(row[2])): nothing to undo twice")
        }
        guard row[3] == .null else { throw HubError.badRequest("#\(request.review) is itself a revert: decide the conflict again instead") }
        guard !request.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw HubError.badRequest("say why (reason): it is kept with the revert")
        }
        let previous = try JSONDecoder().decode([PriorValues].self, from: Data(text.utf8))
        var undone: [PriorValues] = []
        for values in previous {
            undone.append(try prior(values.table, values.row, Array(values.values.keys)))
            try replica.write(table: values.table, row: values.row, values: values.values)
        }
        let review = try recordDecision(conflict: conflict, reviewer: caller, reason: request.reason, pick: nil, value: nil,
                                        wrote: previous.count, previous: undone, reverts: request.review)
        try replica.database.run("UPDATE _sync_hub_reviews SET reverted_by = ? WHERE id = ?", [.integer(review), .integer(request.review)])
        try ingestLocalEdits()
        return ResolveResponse(id: conflict, review: review, wrote: previous.count)
    }

    private func prior(_ table: String, _ row: String, _ columns: [String]) throws -> PriorValues {
        let values = try replica.database.query("SELECT \(columns.joined(separator: ", ")) FROM \(table) WHERE id = ?", [.text(row)]).first
        return PriorValues(table: table, row: row, values: Dictionary(uniqueKeysWithValues: zip(columns, values ?? columns.map { _ in .null })))
    }

    private func recordDecision(
        conflict: String, reviewer: Caller, reason: String, pick: String?, value: Value?, wrote: Int, previous: [PriorValues], reverts: Int64?
    ) throws -> Int64 {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try replica.database.run(
            "INSERT INTO _sync_hub_reviews(conflict, reviewer, at, reason, pick, value, wrote, previous, reverts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [.text(conflict), .text(reviewer.replica.rawValue), .text(Date().formatted(.iso8601)), .text(reason),
             pick.map(Value.text) ?? .null, value ?? .null, .integer(Int64(wrote)),
             .text(String(decoding: try encoder.encode(previous), as: UTF8.self)), reverts.map(Value.integer) ?? .null])
        return try replica.database.scalar("SELECT max(id) FROM _sync_hub_reviews")?.integerValue ?? 0
    }

    /// Ends an assignment (never deletes it) by a district write naming the reviewer's reason.
    private func endAssignment(_ assignment: String, reviewer: Caller, reason: String) throws {
        try replica.write(table: "assignments", row: assignment, values: [
            "end_date": .text(Date().formatted(.iso8601.year().month().day())),
            "end_reason": .text("ended on district review by \(reviewer.replica): \(reason)"),
        ])
    }
}

/// The values a decision overwrote in one row, kept so that the decision can be reverted.
struct PriorValues: Codable {
    let table: String
    let row: String
    let values: [String: Value]
}
