import Foundation
import MergeEngine
import Register
import SyncCore
import SyncProtocol

/// What a decision that ends assignments (a seat, holding or quota item) would do, worked out
/// before anything is written, for the reviewer to confirm on the desk: which assignments end
/// on which day, whether the item is then settled, and which other open items it touches.
/// A pick that would not settle its item is refused here with the reason, as `resolve` does.
public struct DecisionPreview: Sendable, Equatable {
    public struct Ending: Sendable, Equatable {
        public let assignment: String
        public let person: String
        public let title: String?
        public let endDate: String
    }
    public let item: String
    public let ends: [Ending]
    /// Other open items naming an assignment that ends: they may close with it.
    public let touches: [String]
}

extension HubStore {
    /// The preview of `request`, or nil when its item's kind ends no assignment (a field value,
    /// a duplicate, a deletion: nothing to show beyond the pick).
    public func preview(_ request: ResolveRequest, by caller: Caller) async throws -> DecisionPreview? {
        try require(.reviewer, caller)
        try await ingestLocalEdits()
        let today = RegisterDate.today()
        return try await storage.read { store -> DecisionPreview? in
            guard let record = try await store.conflict(id: request.id), record.state != .closed else {
                throw HubError(status: 404, code: "not_found", message: "no open conflict \(request.id): it may have been resolved already")
            }
            var ends: [DecisionPreview.Ending] = []
            var names: [String: String] = [:]
            for person in Set(record.seatSides.map(\.person) + record.holdings.map(\.person)) where !person.isEmpty {
                names[person] = try await store.personName(person)
            }
            func name(_ person: String) -> String { names[person] ?? person }
            switch record.kind {
            case .seat:
                guard let pick = request.pick, let keeper = record.seatSides.first(where: { $0.assignment == pick }) else {
                    throw HubError.badRequest("pick the assignment that keeps the seat (\(record.seatSides.map(\.assignment).joined(separator: ", ")))")
                }
                for holder in record.seatSides where holder.assignment != pick {
                    ends.append(.init(assignment: holder.assignment, person: name(holder.person), title: nil,
                                      endDate: AssignmentTerm.endDate(start: holder.startDate, givingWayTo: keeper.startDate, decidedOn: today)))
                }
            case .holding, .quota:
                let picks = try await Self.settlingPicks(request.pick, of: record, names: names, in: store)
                for holding in record.holdings where picks.contains(holding.assignment) {
                    let start = try await store.values(table: "assignments", row: holding.assignment, columns: ["start_date"])["start_date"]?.textValue
                    ends.append(.init(assignment: holding.assignment, person: name(holding.person), title: holding.title,
                                      endDate: AssignmentTerm.endDate(start: start, givingWayTo: nil, decidedOn: today)))
                }
            default:
                return nil
            }
            let ending = Set(ends.map(\.assignment))
            let touches = try await store.conflicts(state: .open, after: "", limit: Self.conflictPageLimit).filter { other in
                other.id != record.id && (other.holdings.contains { ending.contains($0.assignment) } || other.seatSides.contains { ending.contains($0.assignment) })
            }.map(\.id)
            return DecisionPreview(item: record.id, ends: ends, touches: touches)
        }
    }
}
