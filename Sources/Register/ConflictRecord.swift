import Foundation
import SyncCore

/// A conflict as recorded in `_sync_conflicts`: a field holding concurrent writes, or a seat
/// with more active holders than its capacity.
public struct ConflictRecord: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Waits for district review.
        case open
        /// A rule chose; both sides are kept until a write supersedes them (or, for a seat,
        /// until the hub ends the losing assignment).
        case settled
        /// Nothing left to decide.
        case closed
    }

    /// What a record is about. New kinds are appended; `_sync_conflicts` checks its kind
    /// against this list (`RegisterSchema.conflictKindCheck`), and files holding an older list
    /// are rebuilt when opened.
    public enum Kind: String, Sendable, CaseIterable {
        /// Concurrent writes of one column.
        case field
        /// A position with more active holders than its capacity.
        case seat
        /// A person's concurrent titles outside the holding rules.
        case holding
        /// A unit's head-count over its quota.
        case quota
        /// Two persons records with the same citizen id: maybe one person created twice (the
        /// hub opens it; a reviewer merges one record into the other).
        case duplicate
        /// A person's or a seat's place in the units after a reorganisation (the hub opens it).
        case placement
        /// A record's delete sent by the office the district moved it away from: not applied,
        /// district staff decide whether the record goes (the hub opens it).
        case deletion
    }

    public let table: String
    public let row: String
    /// The column, or for a conflict found by a domain rule a name of its own (`*holders` for
    /// a seat, `*titles`, ...).
    public let column: String
    public let rule: String
    /// The sides as JSON: field writes (`[{dot, hlc, value}]`) or seat candidates.
    public let sidesJSON: String
    /// The chosen write's dot, the kept assignments' ids, or (holding, quota) what is wrong.
    public let chosen: String
    public let state: State

    /// The column a seat conflict is recorded under.
    public static let seatColumn = "*holders"
    /// The columns of the items the hub opens itself: a former office's delete, a place after
    /// a reorganisation, one person recorded twice.
    public static let deletionColumn = "*deleted_by_former_office"
    public static let placementColumn = "*placement"
    public static let duplicateColumn = "*duplicate"

    public let kind: Kind
    /// The stamp (hybrid timestamp) of the item's latest opening, where read.
    public var openedHLC: UInt64? = nil

    public init(
        table: String, row: String, column: String, kind: Kind, rule: String, sidesJSON: String, chosen: String, state: State
    ) {
        self.table = table
        self.row = row
        self.column = column
        self.kind = kind
        self.rule = rule
        self.sidesJSON = sidesJSON
        self.chosen = chosen
        self.state = state
    }

    /// The kind of a conflict recorded before kinds had a column of their own: read from the
    /// column name it was recorded under. Only the migration of such records uses it.
    package static func legacyKind(of column: String) -> Kind {
        if column == seatColumn { return .seat }
        if column == HoldingCheck.titlesColumn || column == HoldingCheck.hamletColumn { return .holding }
        if column.hasPrefix(HoldingCheck.quotaPrefix) { return .quota }
        return .field
    }

    /// What a record is about, typed. The ledger keys a record by `table/row/column`, with a
    /// column of its own for items a rule found (`*holders`, `*titles`, `*quota:X`, ...); that
    /// key is the id reviewers and the API see, and this is what it means.
    public enum Subject: Sendable, Equatable {
        /// Concurrent writes of one column of one row.
        case field(table: String, row: String, column: String)
        /// More active holders than a position's capacity.
        case seat(position: String)
        /// A person's concurrent titles outside the holding rules.
        case titles(person: String)
        /// A hamlet's seats of hamlet titles over the limit.
        case hamletTitles(unit: String)
        /// A unit's head-count of one quota category over its quota.
        case quota(unit: String, category: String)
        /// One person maybe recorded twice (the record kept under one of the two).
        case duplicate(person: String)
        /// A record's place in the units after a reorganisation.
        case placement(table: String, row: String)
        /// A record's delete sent by the office it was moved away from.
        case deletion(table: String, row: String)
    }

    public var subject: Subject {
        switch kind {
        case .field: return .field(table: table, row: row, column: column)
        case .seat: return .seat(position: row)
        case .holding where column == HoldingCheck.hamletColumn: return .hamletTitles(unit: row)
        case .holding: return .titles(person: row)
        case .quota: return .quota(unit: row, category: String(column.dropFirst(HoldingCheck.quotaPrefix.count)))
        case .duplicate: return .duplicate(person: row)
        case .placement: return .placement(table: table, row: row)
        case .deletion: return .deletion(table: table, row: row)
        }
    }

    /// What the rule (or, for items it could not settle, the hub) put on the record, typed:
    /// `chosen` holds it as text whose reading depends on the kind.
    public enum Decision: Sendable, Equatable {
        /// A field: the dot of the write the rule chose.
        case write(dot: String)
        /// A seat: the assignments kept (the others give way).
        case keep(assignments: [String])
        /// Every other kind: what is wrong, in words (a quota's also says its limit).
        case problem(String)
    }

    public var decision: Decision {
        switch kind {
        case .field: return .write(dot: chosen)
        case .seat: return .keep(assignments: chosen.split(separator: " ").map(String.init))
        case .holding, .quota, .duplicate, .placement, .deletion: return .problem(chosen)
        }
    }

    /// The register rows the record names, as `table/row`: its own row, and the persons and
    /// assignments its sides list (a seat's holders, a person's or a quota's holdings, the two
    /// records of a duplicate). What a report asks to know which figures an item touches.
    public var namedRows: Set<String> {
        var rows: Set<String> = ["\(table)/\(row)"]
        // A bare array of sides, or (a duplicate listing fewer records than it names)
        // `{"count": N, "sides": [...]}`.
        let read = try? JSONSerialization.jsonObject(with: Data(sidesJSON.utf8))
        let sides = read as? [[String: Any]] ?? (read as? [String: Any])?["sides"] as? [[String: Any]] ?? []
        for side in sides {
            if let person = side["person"] as? String { rows.insert("persons/\(person)") }
            if let assignment = side["assignment"] as? String { rows.insert("assignments/\(assignment)") }
        }
        return rows
    }

    /// A stable id: `table/row/column`.
    public var id: String { "\(table)/\(row)/\(column)" }

    /// The sides of a field conflict.
    public var fieldSides: [FieldWrite] {
        (try? JSONDecoder().decode([FieldWrite].self, from: Data(sidesJSON.utf8))) ?? []
    }

    /// The holdings behind a holding or quota conflict.
    public var holdings: [Holding] {
        (try? JSONDecoder().decode([Holding].self, from: Data(sidesJSON.utf8))) ?? []
    }

    /// The holders of a seat conflict.
    public var seatSides: [SeatCandidate] {
        (try? JSONDecoder().decode([SeatCandidate].self, from: Data(sidesJSON.utf8))) ?? []
    }
}
