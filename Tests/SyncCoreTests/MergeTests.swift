import SyncCore
import Testing

/// Single scenarios of the merge, each rule and each relation between two writes.
@Suite struct MergeTests {
    static let district: ReplicaID = "200"
    static let commune: ReplicaID = "22499"
    static let otherCommune: ReplicaID = "22502"

    func write(
        _ replica: ReplicaID, _ counter: UInt64, _ column: String, _ value: String,
        seen context: VersionVector = VersionVector(), at millis: UInt64 = 1_000
    ) -> Change {
        Change(
            table: "persons", row: "p1", operation: .set(column: column, value: .text(value)),
            dot: Dot(replica: replica, counter: counter), context: context,
            timestamp: HybridTimestamp(wallMillis: millis))
    }

    func delete(_ replica: ReplicaID, _ counter: UInt64, seen context: VersionVector) -> Change {
        Change(
            table: "persons", row: "p1", operation: .delete, dot: Dot(replica: replica, counter: counter),
            context: context, timestamp: HybridTimestamp(wallMillis: 2_000))
    }

    func shown(_ state: RowState, _ column: String, rule: FieldRule) -> Value? {
        MergePolicy(districtReplicas: [Self.district], defaultRule: rule)
            .resolve(state, table: "persons", row: "p1").values?[column]
    }

    @Test func aChangeDeliveredTwiceIsADuplicate() {
        var state = RowState()
        let change = write(Self.commune, 1, "phone", "0901")
        #expect(state.apply(change) == .applied)
        let before = state
        #expect(state.apply(change) == .duplicate)
        #expect(state == before)
    }

    @Test func aWriteThatSawTheOtherSupersedesIt() {
        var state = RowState()
        state.apply(write(Self.commune, 1, "phone", "0901"))
        let later = write(Self.district, 1, "phone", "0902", seen: VersionVector([Self.commune: 1]))
        #expect(state.apply(later) == .applied)
        #expect(state.fields["phone"]!.writes.map(\.dot) == [later.dot])
        #expect(shown(state, "phone", rule: .communeWins) == .text("0902"))
    }

    @Test func aSupersededWriteArrivingLateIsIgnored() {
        var state = RowState()
        state.apply(write(Self.district, 1, "phone", "0902", seen: VersionVector([Self.commune: 1])))
        #expect(state.apply(write(Self.commune, 1, "phone", "0901")) == .duplicate)
        #expect(shown(state, "phone", rule: .lastWriterWins) == .text("0902"))
    }

    @Test func differentFieldsOfOneRowNeverConflict() {
        var state = RowState()
        #expect(state.apply(write(Self.commune, 1, "phone", "0901")) == .applied)
        #expect(state.apply(write(Self.district, 1, "degree", "BA")) == .applied)
        let resolved = MergePolicy(districtReplicas: [Self.district]).resolve(state, table: "persons", row: "p1")
        #expect(resolved.conflicts.isEmpty)
        #expect(resolved.values == ["phone": .text("0901"), "degree": .text("BA")])
    }

    @Test func lastWriterWinsTakesTheLaterTimestamp() {
        var state = RowState()
        state.apply(write(Self.commune, 1, "phone", "early", at: 1_000))
        #expect(state.apply(write(Self.otherCommune, 1, "phone", "late", at: 1_001)) == .concurrent)
        #expect(shown(state, "phone", rule: .lastWriterWins) == .text("late"))
    }

    @Test func lastWriterWinsBreaksTimestampTiesByReplicaID() {
        var state = RowState()
        state.apply(write(Self.otherCommune, 1, "phone", "from 22502"))
        state.apply(write(Self.commune, 1, "phone", "from 22499"))
        #expect(shown(state, "phone", rule: .lastWriterWins) == .text("from 22502"))
    }

    @Test func districtWinsEvenWithAnEarlierTimestamp() {
        var state = RowState()
        state.apply(write(Self.district, 1, "phone", "district", at: 1_000))
        state.apply(write(Self.commune, 1, "phone", "commune", at: 9_000))
        #expect(shown(state, "phone", rule: .districtWins) == .text("district"))
        #expect(shown(state, "phone", rule: .communeWins) == .text("commune"))
    }

    @Test func communeWinsAmongCommunesFallsBackToLastWriter() {
        var state = RowState()
        state.apply(write(Self.commune, 1, "phone", "first", at: 1_000))
        state.apply(write(Self.otherCommune, 1, "phone", "second", at: 2_000))
        #expect(shown(state, "phone", rule: .communeWins) == .text("second"))
    }

    @Test func reviewKeepsBothValuesAndOpensAnItem() {
        var state = RowState()
        state.apply(write(Self.commune, 1, "degree", "BA", at: 2_000))
        state.apply(write(Self.district, 1, "degree", "MA", at: 1_000))
        let policy = MergePolicy(districtReplicas: [Self.district], columnRules: ["persons": ["degree": .review]])
        let resolved = policy.resolve(state, table: "persons", row: "p1")
        #expect(resolved.values?["degree"] == .text("BA"))
        #expect(resolved.conflicts.count == 1)
        let conflict = resolved.conflicts[0]
        #expect(conflict.needsReview)
        #expect(Set(conflict.sides.map(\.value)) == [.text("BA"), .text("MA")])
        #expect(conflict.chosen == Dot(replica: Self.commune, counter: 1))
    }

    @Test func aResolutionThatSawBothSidesClosesTheConflict() {
        var state = RowState()
        state.apply(write(Self.commune, 1, "degree", "BA"))
        state.apply(write(Self.district, 1, "degree", "MA"))
        let resolution = write(Self.district, 2, "degree", "MA (verified)", seen: state.clock)
        #expect(state.apply(resolution) == .applied)
        let resolved = MergePolicy(districtReplicas: [Self.district], defaultRule: .review)
            .resolve(state, table: "persons", row: "p1")
        #expect(resolved.conflicts.isEmpty)
        #expect(resolved.values?["degree"] == .text("MA (verified)"))
    }

    @Test func aDeleteThatSawEveryWriteRemovesTheRow() {
        var state = RowState()
        state.apply(write(Self.commune, 1, "phone", "0901"))
        state.apply(delete(Self.district, 1, seen: VersionVector([Self.commune: 1])))
        #expect(!state.isLive)
        #expect(state.isDeleted)
        #expect(shown(state, "phone", rule: .lastWriterWins) == nil)
    }

    @Test func anUpdateConcurrentWithADeleteKeepsTheWholeRow() {
        var state = RowState()
        state.apply(write(Self.commune, 1, "name", "Nguyễn Văn An"))
        state.apply(write(Self.commune, 2, "phone", "0901", seen: VersionVector([Self.commune: 1])))
        // The district deletes having seen the name only; the commune edits the phone again.
        state.apply(delete(Self.district, 1, seen: VersionVector([Self.commune: 1])))
        state.apply(write(Self.commune, 3, "phone", "0902", seen: VersionVector([Self.commune: 2])))
        #expect(state.isLive)
        #expect(shown(state, "name", rule: .lastWriterWins) == .text("Nguyễn Văn An"))
        #expect(shown(state, "phone", rule: .lastWriterWins) == .text("0902"))
    }

    @Test func theSameDeleteTwiceIsADuplicate() {
        var state = RowState()
        state.apply(write(Self.commune, 1, "phone", "0901"))
        let tombstone = delete(Self.commune, 2, seen: VersionVector([Self.commune: 1]))
        #expect(state.apply(tombstone) == .applied)
        #expect(state.apply(tombstone) == .duplicate)
    }

    @Test func underDeleteWinsADeleteBeatsAConcurrentUpdate() {
        var state = RowState()
        state.apply(write(Self.commune, 1, "name", "An"))
        state.apply(delete(Self.district, 1, seen: VersionVector([Self.commune: 1])))
        state.apply(write(Self.commune, 2, "phone", "0902", seen: VersionVector([Self.commune: 1])))
        #expect(state.isLive(under: .updateWins))
        #expect(!state.isLive(under: .deleteWins))
        #expect(MergePolicy(districtReplicas: [Self.district], deleteRule: .deleteWins).resolve(state, table: "persons", row: "p1").values == nil)
    }

    @Test func underDeleteWinsAWriteThatSawTheDeleteBringsTheRowBack() {
        var state = RowState()
        state.apply(write(Self.commune, 1, "name", "An"))
        state.apply(delete(Self.district, 1, seen: VersionVector([Self.commune: 1])))
        state.apply(write(Self.commune, 2, "name", "An (again)", seen: VersionVector([Self.commune: 1, Self.district: 1])))
        #expect(state.isLive(under: .deleteWins))
        #expect(MergePolicy(districtReplicas: [], deleteRule: .deleteWins).resolve(state, table: "persons", row: "p1").values?["name"] == .text("An (again)"))
    }
}
