import Register
import Testing

/// What a ledger record is about and what was decided, read from the key and text the ledger
/// keeps (`table/row/column`, `chosen`), for every kind.
@Suite struct ConflictRecordTests {
    static func record(_ table: String, _ row: String, _ column: String, _ kind: ConflictRecord.Kind, chosen: String) -> ConflictRecord {
        ConflictRecord(table: table, row: row, column: column, kind: kind, rule: "review", sidesJSON: "[]", chosen: chosen, state: .open)
    }

    @Test func everyKindReadsAsItsSubjectAndDecision() {
        let cases: [(ConflictRecord, ConflictRecord.Subject, ConflictRecord.Decision)] = [
            (Self.record("persons", "p1", "degree", .field, chosen: "06913:5"),
             .field(table: "persons", row: "p1", column: "degree"), .write(dot: "06913:5")),
            (Self.record("positions", "s1", ConflictRecord.seatColumn, .seat, chosen: "a1 a3"),
             .seat(position: "s1"), .keep(assignments: ["a1", "a3"])),
            (Self.record("persons", "p1", HoldingCheck.titlesColumn, .holding, chosen: "three titles"),
             .titles(person: "p1"), .problem("three titles")),
            (Self.record("units", "h1", HoldingCheck.hamletColumn, .holding, chosen: "two heads"),
             .hamletTitles(unit: "h1"), .problem("two heads")),
            (Self.record("units", "u1", HoldingCheck.quotaPrefix + "nonspecialised_commune", .quota, chosen: "5 people for 4 places"),
             .quota(unit: "u1", category: "nonspecialised_commune"), .problem("5 people for 4 places")),
            (Self.record("persons", "p2", ConflictRecord.duplicateColumn, .duplicate, chosen: "same citizen id"),
             .duplicate(person: "p2"), .problem("same citizen id")),
            (Self.record("positions", "s2", ConflictRecord.placementColumn, .placement, chosen: "unit ended"),
             .placement(table: "positions", row: "s2"), .problem("unit ended")),
            (Self.record("persons", "p3", ConflictRecord.deletionColumn, .deletion, chosen: "deleted by 06910"),
             .deletion(table: "persons", row: "p3"), .problem("deleted by 06910")),
        ]
        #expect(Set(cases.map(\.0.kind)) == Set(ConflictRecord.Kind.allCases), "every kind is covered")
        for (record, subject, decision) in cases {
            #expect(record.subject == subject, "\(record.id)")
            #expect(record.decision == decision, "\(record.id)")
        }
        // A seat whose rule kept no one yet (under review) keeps nobody.
        #expect(Self.record("positions", "s3", ConflictRecord.seatColumn, .seat, chosen: "").decision == .keep(assignments: []))
    }
}
