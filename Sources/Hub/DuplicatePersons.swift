import Foundation
import Replica
import SyncCore
import SyncProtocol

/// A persons record as the search for duplicates sees it (`HubTransaction.personsSharingCitizenID`).
public struct PersonRecord: Sendable, Equatable {
    public let id: String
    public let citizenID: String
    public let fullName: String?
    public let birthDate: String?
    public let communeID: String?
    /// The record it was merged into by a reviewer; nil (or blank) while it stands on its own.
    public let mergedInto: String?
    /// The replica whose write of the citizen id stands: who recorded this person so.
    public let origin: ReplicaID?

    public init(
        id: String, citizenID: String, fullName: String?, birthDate: String?, communeID: String?, mergedInto: String?, origin: ReplicaID?
    ) {
        (self.id, self.citizenID, self.fullName, self.birthDate, self.communeID, self.mergedInto, self.origin) =
            (id, citizenID, fullName, birthDate, communeID, mergedInto, origin)
    }

    /// Not merged into another record.
    var standsAlone: Bool { (mergedInto ?? "").trimmingCharacters(in: .whitespaces).isEmpty }
}

/// Collision 7 of DOMAIN.md, the same person created on two sides: two persons records with
/// one citizen id (CCCD), neither merged into another, are a `duplicate` review item on the
/// hub, one per pair, under `persons/LOWER_ID/*duplicate:HIGHER_ID` (so finding the pair again
/// opens nothing twice). A reviewer resolves it by picking the record to keep: the other's
/// assignments, evaluations and trainings are re-pointed to it and the other record is marked
/// `merged_into` = the kept id, `status` = 'merged', all as district writes that reach every
/// replica through the feed. Rows stay in the scope they were in: only `person_id` changes.
///
/// The pure part (which pairs, which key, which sides) is here as functions of values; the
/// hub calls `reviewDuplicatePersons` after every merge of pushed changes and every fold of
/// district edits, and `duplicateMerge` when a reviewer decides.
public enum DuplicatePersons {
    static let citizenIDColumn = "citizen_id"
    static let mergedIntoColumn = "merged_into"
    /// The column of an item: the prefix, then the higher id of the pair.
    static let columnPrefix = "*duplicate:"
    static let rule = "review"
    static let mergedStatus = "merged"
    /// The tables whose `person_id` a merge re-points.
    static let referencing = ["assignments", "evaluations", "trainings"]

    /// Whether `schema`'s persons have the columns this needs (a register of schema 1 has no
    /// merged_into: a hub serving one finds no duplicates).
    static func applies(to schema: RegisterSchema) -> Bool {
        let columns = Set(schema.table(named: "persons")?.columns.map(\.name) ?? [])
        return columns.isSuperset(of: [citizenIDColumn, mergedIntoColumn, "full_name", "birth_date", "commune_id", "status"])
    }

    /// A pair of records, by id, lower first.
    struct Pair: Hashable {
        let low: String
        let high: String

        init(_ one: String, _ other: String) { (low, high) = one < other ? (one, other) : (other, one) }

        /// The item's key: `persons/low/*duplicate:high`.
        var row: String { low }
        var column: String { DuplicatePersons.columnPrefix + high }

        func contains(_ id: String) -> Bool { low == id || high == id }
    }

    /// The pair an item was opened for, or nil if `record` is no duplicate item.
    static func pair(of record: ConflictRecord) -> Pair? {
        guard record.kind == .duplicate, record.table == "persons", record.column.hasPrefix(columnPrefix) else { return nil }
        return Pair(record.row, String(record.column.dropFirst(columnPrefix.count)))
    }

    /// Rows whose citizen id or merge mark `changes` wrote, or that they deleted: where a
    /// duplicate may have appeared or gone.
    static func touchedPersons(_ changes: some Sequence<Change>) -> Set<String> {
        Set(changes.filter { change in
            guard change.table == "persons" else { return false }
            guard let column = change.column else { return true }
            return column == citizenIDColumn || column == mergedIntoColumn
        }.map(\.row))
    }

    /// The pairs that should have an item: records of one citizen id, neither merged, at
    /// least one of them `touched`. `people` are the records sharing a citizen id with them.
    static func pairs(among people: [PersonRecord], touching touched: Set<String>) -> Set<Pair> {
        let standing = people.filter { $0.standsAlone && !$0.citizenID.trimmingCharacters(in: .whitespaces).isEmpty }
        var pairs: Set<Pair> = []
        for group in Dictionary(grouping: standing, by: \.citizenID).values {
            for (index, one) in group.enumerated() {
                for other in group.dropFirst(index + 1) where one.id != other.id && (touched.contains(one.id) || touched.contains(other.id)) {
                    pairs.insert(Pair(one.id, other.id))
                }
            }
        }
        return pairs
    }

    /// What reviewers see of each record, lower id first.
    static func sides(_ people: [PersonRecord]) -> [ConflictView.Side] {
        people.sorted { $0.id < $1.id }.map { person in
            var side = ConflictView.Side()
            side.person = person.id
            side.fullName = person.fullName
            side.birthDate = person.birthDate
            side.commune = person.communeID
            side.citizenID = person.citizenID
            side.origin = person.origin?.rawValue
            return side
        }
    }

    static func json(_ sides: [ConflictView.Side]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(sides), as: UTF8.self)
    }
}

extension HubStore {
    /// Opens a `duplicate` item for every pair of records that `changes` (just merged, in the
    /// caller's transaction) made share a citizen id, and closes the items of pairs they undid
    /// (a citizen id corrected, a record merged or deleted). Costs nothing for changes that
    /// touch no citizen id, and a fixed number of statements otherwise, plus one per pair found.
    func reviewDuplicatePersons(after changes: some Sequence<Change>, in store: any HubTransaction) async throws {
        let touched = DuplicatePersons.touchedPersons(changes)
        guard !touched.isEmpty, DuplicatePersons.applies(to: schema) else { return }
        let (people, standing) = try await store.duplicateCandidates(touching: touched)
        let wanted = DuplicatePersons.pairs(among: people, touching: touched)
        for item in standing {
            guard let pair = DuplicatePersons.pair(of: item), touched.contains(pair.low) || touched.contains(pair.high), !wanted.contains(pair)
            else { continue }
            try await store.closeReviewItem(table: item.table, row: item.row, column: item.column)
        }
        let byID = Dictionary(people.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for pair in wanted.sorted(by: { ($0.low, $0.high) < ($1.low, $1.high) }) {
            let sides = DuplicatePersons.sides([pair.low, pair.high].compactMap { byID[$0] })
            try await store.openReviewItem(
                table: "persons", row: pair.row, column: pair.column, kind: .duplicate, rule: DuplicatePersons.rule,
                sidesJSON: try DuplicatePersons.json(sides))
        }
    }

    /// The district writes of a reviewer's merge of duplicate item `record`, keeping record
    /// `pick`: the other record's assignments, evaluations and trainings re-pointed to it, and
    /// the other record marked merged into it. Refuses (400) a pick that is not one of the two,
    /// and (409) a pair that is no longer two standing records.
    func duplicateMerge(_ record: ConflictRecord, keeping pick: String?, in store: any HubTransaction) async throws -> [RowValues] {
        guard let pair = DuplicatePersons.pair(of: record) else {
            throw HubError(status: 500, code: "damaged_conflict", message: "review item \(record.id) names no pair of persons records")
        }
        guard let pick, pair.contains(pick) else {
            throw HubError.badRequest("pick the persons.id of the record to keep (\(pair.low) or \(pair.high)); the other is merged into it")
        }
        let other = pick == pair.low ? pair.high : pair.low
        let people = try await store.personsSharingCitizenID(with: [pick, other])
        guard let kept = people.first(where: { $0.id == pick }), let merged = people.first(where: { $0.id == other }),
            kept.citizenID == merged.citizenID, kept.standsAlone, merged.standsAlone
        else {
            throw HubError(
                status: 409, code: "conflict_changed",
                message: "\(pair.low) and \(pair.high) are no longer two records with one citizen id that stand on their own "
                    + "(one was deleted, merged or given another citizen id since): list the items again with 'syncctl review list'")
        }
        var writes: [RowValues] = []
        for table in DuplicatePersons.referencing {
            for row in try await store.rowIDs(table: table, where: "person_id", equals: other) {
                writes.append(RowValues(table: table, row: row, values: ["person_id": .text(pick)]))
            }
        }
        writes.append(RowValues(table: "persons", row: other, values: [
            DuplicatePersons.mergedIntoColumn: .text(pick), "status": .text(DuplicatePersons.mergedStatus),
        ]))
        return writes
    }
}
