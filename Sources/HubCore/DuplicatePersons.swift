import Foundation
import MergeEngine
import Register
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

/// Collision 7 of DOMAIN.md, the same person created on two sides: persons records sharing
/// one citizen id (CCCD), none merged into another, are one `duplicate` review item on the
/// hub per citizen id, under `persons/CITIZEN_ID/*duplicate`, naming every record that
/// shares it (the first `listedRecords` of them as sides, with the count of all). However
/// many records a push adds to one citizen id, it opens one item and the work grows with
/// the push, not with the pairs among the records. A reviewer resolves it by picking the
/// record to keep: the others' assignments, evaluations and trainings are re-pointed to it
/// and the others are marked `merged_into` = the kept id, `status` = 'merged', all as
/// district writes that reach every replica through the feed. Rows stay in the scope they
/// were in: only `person_id` changes.
///
/// Items opened by earlier versions name one pair (`persons/LOW/*duplicate:HIGH`); they
/// stay decidable as before, and close like the others when their pair no longer stands.
///
/// The pure part (which citizen ids, which sides) is here as functions of values; the hub
/// calls `reviewDuplicatePersons` after every merge of pushed changes and every fold of
/// district edits, and `duplicateMerge` when a reviewer decides.
public enum DuplicatePersons {
    package static let citizenIDColumn = "citizen_id"
    static let mergedIntoColumn = "merged_into"
    /// The column of an item: one per citizen id, which is its row.
    package static let column = "*duplicate"
    /// The column prefix of an item of an earlier version: the prefix, then the higher id of the pair.
    package static let pairPrefix = "*duplicate:"
    static let rule = "review"
    static let mergedStatus = "merged"
    /// The tables whose `person_id` a merge re-points.
    static let referencing = ["assignments", "evaluations", "trainings"]
    /// At most this many records are listed as an item's sides (lowest ids first); the item
    /// says how many share the citizen id in all (`ConflictView.count`).
    static let listedRecords = 20

    /// Whether `schema`'s persons have the columns this needs (a register of schema 1 has no
    /// merged_into: a hub serving one finds no duplicates).
    package static func applies(to schema: RegisterSchema) -> Bool {
        let columns = Set(schema.table(named: "persons")?.columns.map(\.name) ?? [])
        return columns.isSuperset(of: [citizenIDColumn, mergedIntoColumn, "full_name", "birth_date", "commune_id", "status"])
    }

    /// What an item is about: every record sharing a citizen id, or (an item of an earlier
    /// version) one pair of records by id.
    enum Subject: Equatable {
        case citizenID(String)
        case pair(low: String, high: String)
    }

    /// The subject of `record`, or nil if it is no duplicate item.
    static func subject(of record: ConflictRecord) -> Subject? {
        guard record.kind == .duplicate, record.table == "persons" else { return nil }
        if record.column == column { return .citizenID(record.row) }
        guard record.column.hasPrefix(pairPrefix) else { return nil }
        return .pair(low: record.row, high: String(record.column.dropFirst(pairPrefix.count)))
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

    /// The records that should be an item, by citizen id: two or more records of one
    /// non-blank citizen id, none merged. One pass over `people` (the records sharing a
    /// citizen id with what a push touched), so the work is linear in them.
    static func groups(among people: [PersonRecord]) -> [String: [PersonRecord]] {
        Dictionary(grouping: people.filter { $0.standsAlone && !$0.citizenID.trimmingCharacters(in: .whitespaces).isEmpty },
                   by: \.citizenID)
            .filter { Set($0.value.map(\.id)).count > 1 }
    }

    /// What reviewers see of each record, lower id first, at most `listedRecords` of them.
    static func sides(_ people: [PersonRecord]) -> [ConflictView.Side] {
        people.sorted { $0.id < $1.id }.prefix(listedRecords).map { person in
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

    /// The sides as kept with the item: `{"count": N, "sides": [...]}` when not every record
    /// is listed, the bare array otherwise (what `ConflictView` reads back, `sidesAndCount`).
    static func json(_ sides: [ConflictView.Side], count: Int) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard count > sides.count else { return String(decoding: try encoder.encode(sides), as: UTF8.self) }
        return String(decoding: try encoder.encode(Listed(count: count, sides: sides)), as: UTF8.self)
    }

    /// The sides an item keeps, and how many records it names in all when it lists fewer.
    static func sidesAndCount(_ json: String) -> (sides: [ConflictView.Side], count: Int?) {
        let data = Data(json.utf8)
        if let listed = try? JSONDecoder().decode(Listed.self, from: data) { return (listed.sides, listed.count) }
        return ((try? JSONDecoder().decode([ConflictView.Side].self, from: data)) ?? [], nil)
    }

    private struct Listed: Codable {
        let count: Int
        let sides: [ConflictView.Side]
    }
}

extension HubStore {
    /// Opens (or brings up to date) one `duplicate` item for every citizen id that `changes`
    /// (just merged, in the caller's transaction) left shared by two or more standing
    /// records, and closes the items of citizen ids no longer shared (a citizen id
    /// corrected, a record merged or deleted). Costs nothing for changes that touch no
    /// citizen id; otherwise one read of the records sharing the touched citizen ids, one
    /// write per citizen id found shared, and one statement closing what no longer stands.
    func reviewDuplicatePersons(
        after changes: some Sequence<Change>, formerly: Set<String> = [], in store: any HubTransaction
    ) async throws {
        let touched = DuplicatePersons.touchedPersons(changes)
        guard !touched.isEmpty, DuplicatePersons.applies(to: schema) else { return }
        var people = try await store.personsSharingCitizenID(with: touched)
        // A record that left a citizen id leaves its item naming the others: list them again.
        for citizenID in formerly.subtracting(people.map(\.citizenID)).sorted() {
            people += try await store.persons(citizenID: citizenID)
        }
        for (citizenID, records) in DuplicatePersons.groups(among: people).sorted(by: { $0.key < $1.key }) {
            try await store.openReviewItem(
                table: "persons", row: citizenID, column: DuplicatePersons.column, kind: .duplicate, rule: DuplicatePersons.rule,
                sidesJSON: try DuplicatePersons.json(DuplicatePersons.sides(records), count: records.count))
        }
        try await store.closeStaleDuplicateItems()
    }

    /// The citizen ids the persons that `changes` touch hold before they are merged: read
    /// before the merge, so that `reviewDuplicatePersons` brings up to date the item of a
    /// citizen id a record leaves.
    func citizenIDsBefore(_ changes: some Sequence<Change>, in store: any HubTransaction) async throws -> Set<String> {
        let touched = DuplicatePersons.touchedPersons(changes)
        guard !touched.isEmpty, DuplicatePersons.applies(to: schema) else { return [] }
        // Their own citizen ids only (by primary key): the records sharing them are read once,
        // after the merge.
        return try await store.citizenIDs(of: touched)
    }

    /// The district writes of a reviewer's merge of duplicate item `record`, keeping record
    /// `pick`: every other standing record of the item has its assignments, evaluations and
    /// trainings re-pointed to it and is marked merged into it. Refuses (400) a pick that is
    /// not one of the item's records, and (409) an item whose records no longer share one
    /// citizen id standing on their own.
    func duplicateMerge(_ record: ConflictRecord, keeping pick: String?, in store: any HubTransaction) async throws -> [RowValues] {
        guard let subject = DuplicatePersons.subject(of: record) else {
            throw HubError(status: 500, code: "damaged_conflict", message: "review item \(record.id) names no persons records")
        }
        let people: [PersonRecord]
        switch subject {
        case .citizenID(let citizenID):
            people = try await store.persons(citizenID: citizenID).filter(\.standsAlone)
        case .pair(let low, let high):
            let both = try await store.personsSharingCitizenID(with: [low, high]).filter { $0.id == low || $0.id == high }
            people = both.count == 2 && both[0].citizenID == both[1].citizenID ? both.filter(\.standsAlone) : []
        }
        let ids = people.map(\.id).sorted()
        guard ids.count > 1 else {
            throw HubError(
                status: 409, code: "conflict_changed",
                message: "the records of this item no longer share one citizen id standing on their own (one was deleted, "
                    + "merged or given another citizen id since): list the items again with 'syncctl review list'")
        }
        guard let pick, ids.contains(pick) else {
            let shown = ids.count <= 5 ? ids.joined(separator: " or ") : ids.prefix(5).joined(separator: ", ") + ", ... (\(ids.count) in all)"
            throw HubError.badRequest("pick the persons.id of the record to keep (\(shown)); the others are merged into it")
        }
        var writes: [RowValues] = []
        for other in ids where other != pick {
            for table in DuplicatePersons.referencing {
                for row in try await store.rowIDs(table: table, where: "person_id", equals: other) {
                    writes.append(RowValues(table: table, row: row, values: ["person_id": .text(pick)]))
                }
            }
            writes.append(RowValues(table: "persons", row: other, values: [
                DuplicatePersons.mergedIntoColumn: .text(pick), "status": .text(DuplicatePersons.mergedStatus),
            ]))
        }
        return writes
    }
}
