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
struct SeatCheck {
    static let column = "*holders"
    let replica: Replica

    func run(touching rows: [RowKey], at now: HybridTimestamp) throws {
        var positions = Set(rows.filter { $0.table == "positions" }.map(\.row))
        for key in rows where key.table == "assignments" {
            if let position = try replica.database.scalar("SELECT position_id FROM assignments WHERE id = ?", [.text(key.row)])?.textValue {
                positions.insert(position)
            }
            // A seat the assignment left (or a deleted assignment's seat) may be resolved now.
            if let old = try replica.database.scalar(
                "SELECT pk FROM _sync_conflicts WHERE tbl = 'positions' AND col = ? AND state <> 'closed' AND sides LIKE ?",
                [.text(Self.column), .text("%\"\(key.row)\"%")])?.textValue {
                positions.insert(old)
            }
        }
        guard !positions.isEmpty else { return }
        let rules = try replica.rules
        let district = try replica.districtReplicas
        for position in positions.sorted() {
            try check(position, rule: rules.seats, district: district, at: now)
        }
    }

    private func check(_ position: String, rule: SeatRule, district: Set<ReplicaID>, at now: HybridTimestamp) throws {
        let database = replica.database
        let capacity = Int(try database.scalar("SELECT capacity FROM positions WHERE id = ?", [.text(position)])?.integerValue ?? 1)
        var holders: [SeatCandidate] = []
        try database.forEachRow(
            """
            SELECT a.id, a.person_id, a.decision_no, a.decision_date, a.start_date, f.dot
            FROM assignments a LEFT JOIN _sync_fields f ON f.tbl = 'assignments' AND f.pk = a.id AND f.col = 'position_id'
            WHERE a.position_id = ? AND (a.end_date IS NULL OR a.end_date = '')
            """, [.text(position)]
        ) { row in
            // A holder not folded yet is this replica's own, just written.
            let dot = row[5].textValue.flatMap(Dot.init(text:)) ?? Dot(replica: replica.id, counter: UInt64.max)
            holders.append(SeatCandidate(
                assignment: row[0].description, person: row[1].textValue ?? "", decisionNo: row[2].textValue,
                decisionDate: row[3].textValue, startDate: row[4].textValue, origin: dot.replica, dot: dot))
        }
        guard let conflict = SeatConflict.settle(position: position, capacity: capacity, holders: holders, rule: rule, district: district) else {
            try database.run(
                "UPDATE _sync_conflicts SET state = 'closed', closed_hlc = ? WHERE tbl = 'positions' AND pk = ? AND col = ? AND state <> 'closed'",
                [.integer(Int64(now.rawValue)), .text(position), .text(Self.column)])
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let sides = String(decoding: try encoder.encode(conflict.candidates), as: UTF8.self)
        try database.run(
            """
            INSERT INTO _sync_conflicts(tbl, pk, col, rule, sides, chosen, state, opened_hlc, closed_hlc)
            VALUES ('positions', ?, ?, ?, ?, ?, ?, ?, NULL)
            ON CONFLICT(tbl, pk, col) DO UPDATE SET rule = excluded.rule, sides = excluded.sides, chosen = excluded.chosen,
                state = excluded.state, closed_hlc = NULL,
                opened_hlc = CASE WHEN _sync_conflicts.state = 'closed' THEN excluded.opened_hlc ELSE _sync_conflicts.opened_hlc END
            """,
            [.text(position), .text(Self.column), .text(rule.rawValue), .text(sides),
             .text(conflict.keepers.map(\.assignment).joined(separator: " ")),
             .text(rule == .review ? "open" : "settled"), .integer(Int64(now.rawValue))])
    }
}
