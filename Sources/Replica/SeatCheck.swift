import Foundation
import SyncCore

/// The seat rule, evaluated after every merge on every replica: a position must not have
/// more active holders (assignments without an end date) than its capacity.
///
/// Rows carry their own causal history only, so whether two writers "saw each other" across
/// rows cannot be read off the dots. It is read off the data instead: a writer who replaces a
/// holder ends the old assignment, and the seat stays within capacity (no conflict); two
/// holders still active means the seat was filled twice without one ending the other.
/// Recorded as `_sync_conflicts` row (positions, POSITION, *holders): settled under
/// district-wins or later-decision-wins (the hub then ends the losers), open under review.
public struct SeatCheck {
    static let column = ConflictRecord.seatColumn
    /// The tables whose changes can fill a seat, or free one.
    public static let tables: Set<String> = ["positions", "assignments"]
    let replica: Replica

    func run(touching rows: [RowKey], at now: HybridTimestamp) throws {
        var positions = Set(rows.filter { $0.table == "positions" }.map(\.row))
        let assignments = rows.filter { $0.table == "assignments" }.map(\.row)
        for assignment in assignments {
            if let position = try replica.database.scalar("SELECT position_id FROM assignments WHERE id = ?", [.text(assignment)])?.textValue {
                positions.insert(position)
            }
        }
        // A seat an assignment left (or a deleted assignment's seat) may be resolved now.
        let ledger = ConflictLedger(database: replica.database)
        positions.formUnion(try ledger.standing([.seat], naming: Set(assignments)).map(\.row))
        guard !positions.isEmpty else { return }
        let rules = try replica.rules
        let district = try replica.districtReplicas
        for position in positions.sorted() {
            try check(position, rule: rules.seats, district: district, at: now)
        }
    }

    /// One active holder of a seat as the rule sees it; `dot` is the dot (as text) of its
    /// assignment's `position_id`, nil when that write is not folded yet. A write not folded
    /// yet was made where the rule runs, by that store's own replica `writtenHere`: at an
    /// office the office, just written; at the hub district staff's plain SQL (on PostgreSQL,
    /// one committed after the merge folded staff's writes), so the district. Both hub stores
    /// read their holders through this, so they cannot disagree on who such a holder is.
    public static func holder(
        assignment: String, person: String?, decisionNo: String?, decisionDate: String?, startDate: String?, dot: String?,
        writtenHere: ReplicaID
    ) -> SeatCandidate {
        let written = dot.flatMap(Dot.init(text:)) ?? Dot(replica: writtenHere, counter: UInt64.max)
        return SeatCandidate(
            assignment: assignment, person: person ?? "", decisionNo: decisionNo, decisionDate: decisionDate, startDate: startDate,
            origin: written.replica, dot: written)
    }

    private func check(_ position: String, rule: SeatRule, district: Set<ReplicaID>, at now: HybridTimestamp) throws {
        let database = replica.database
        let capacity = Int(try database.scalar("SELECT capacity FROM positions WHERE id = ?", [.text(position)])?.integerValue ?? 1)
        var holders: [SeatCandidate] = []
        try database.forEachRow(
            """
            SELECT a.id, a.person_id, a.decision_no, a.decision_date, a.start_date, f.dot
            FROM assignments a LEFT JOIN _sync_fields f ON f.tbl = 'assignments' AND f.pk = a.id AND f.col = 'position_id'
            WHERE a.position_id = ? AND \(AssignmentTerm.isActive("a"))
            """, [.text(position)]
        ) { row in
            holders.append(Self.holder(
                assignment: row[0].description, person: row[1].textValue, decisionNo: row[2].textValue, decisionDate: row[3].textValue,
                startDate: row[4].textValue, dot: row[5].textValue, writtenHere: replica.id))
        }
        let ledger = ConflictLedger(database: database)
        guard let conflict = SeatConflict.settle(position: position, capacity: capacity, holders: holders, rule: rule, district: district) else {
            try ledger.close(table: "positions", row: position, column: Self.column, at: now)
            return
        }
        try ledger.record(
            table: "positions", row: position, column: Self.column, kind: .seat, rule: rule.rawValue, sides: conflict.candidates,
            chosen: conflict.keepers.map(\.assignment).joined(separator: " "), state: rule == .review ? .open : .settled, at: now)
    }
}
