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
            try replica.write(table: record.table, row: record.row, values: [record.column: value])
            wrote = 1
        case .seat:
            guard let pick = request.pick, record.seatSides.contains(where: { $0.assignment == pick }) else {
                throw HubError.badRequest("pick the assignment that keeps the seat (\(record.seatSides.map(\.assignment).joined(separator: ", ")))")
            }
            for holder in record.seatSides where holder.assignment != pick {
                try endAssignment(holder.assignment, reviewer: caller, reason: request.reason)
                wrote += 1
            }
        case .holding, .quota:
            guard let pick = request.pick, record.holdings.contains(where: { $0.assignment == pick }) else {
                throw HubError.badRequest("pick the assignment to end (\(record.holdings.map(\.assignment).joined(separator: ", ")))")
            }
            try endAssignment(pick, reviewer: caller, reason: request.reason)
            wrote = 1
        }
        try replica.database.run(
            "INSERT INTO _sync_hub_reviews(conflict, reviewer, at, reason, pick, value, wrote) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [.text(request.id), .text(caller.replica.rawValue), .text(Date().formatted(.iso8601)), .text(request.reason),
             request.pick.map(Value.text) ?? .null, request.value ?? .null, .integer(Int64(wrote))])
        let review = try replica.database.scalar("SELECT max(id) FROM _sync_hub_reviews")?.integerValue ?? 0
        try ingestLocalEdits()
        return ResolveResponse(id: request.id, review: review, wrote: wrote)
    }

    /// Ends an assignment (never deletes it) by a district write naming the reviewer's reason.
    private func endAssignment(_ assignment: String, reviewer: Caller, reason: String) throws {
        try replica.write(table: "assignments", row: assignment, values: [
            "end_date": .text(Date().formatted(.iso8601.year().month().day())),
            "end_reason": .text("ended on district review by \(reviewer.replica): \(reason)"),
        ])
    }
}
