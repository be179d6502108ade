import SyncCore
import Testing

@Suite struct SeatRuleTests {
    func holder(_ id: String, origin: ReplicaID, counter: UInt64, decided: String) -> SeatCandidate {
        SeatCandidate(assignment: id, person: "person-\(id)", decisionNo: "\(id)/QĐ", decisionDate: decided, startDate: decided,
                      origin: origin, dot: Dot(replica: origin, counter: counter))
    }

    @Test func aSeatWithinCapacityIsNoConflict() {
        #expect(SeatConflict.settle(position: "s", capacity: 1, holders: [holder("a", origin: "06913", counter: 64, decided: "2024-01-01")],
                                    rule: .districtWins, district: ["200"]) == nil)
    }

    @Test func theDistrictsDecisionKeepsTheSeat() {
        let commune = holder("a", origin: "06913", counter: 64, decided: "2024-05-01")
        let district = holder("b", origin: "200", counter: 900, decided: "2024-01-01")
        let settled = SeatConflict.settle(position: "s", capacity: 1, holders: [commune, district], rule: .districtWins, district: ["200"])
        #expect(settled?.keepers == [district] && settled?.losers == [commune])
    }

    @Test func theLaterDecisionKeepsTheSeat() {
        let earlier = holder("a", origin: "200", counter: 900, decided: "2024-01-01")
        let later = holder("b", origin: "06913", counter: 64, decided: "2024-05-01")
        let settled = SeatConflict.settle(position: "s", capacity: 1, holders: [earlier, later], rule: .laterDecisionWins, district: ["200"])
        #expect(settled?.keepers == [later] && settled?.losers == [earlier])
    }

    @Test func reviewEndsNobody() {
        let settled = SeatConflict.settle(position: "s", capacity: 1,
                                          holders: [holder("a", origin: "06913", counter: 64, decided: "2024-01-01"),
                                                    holder("b", origin: "200", counter: 9, decided: "2024-01-01")],
                                          rule: .review, district: ["200"])
        #expect(settled?.losers.isEmpty == true && settled?.candidates.count == 2)
    }

    @Test func theVerdictDoesNotDependOnTheOrderHoldersAreListed() {
        let holders = [holder("a", origin: "06913", counter: 64, decided: "2024-01-01"), holder("b", origin: "06916", counter: 64, decided: "2024-01-01"),
                       holder("c", origin: "200", counter: 3, decided: "2023-01-01")]
        for rule in SeatRule.allCases {
            let first = SeatConflict.settle(position: "s", capacity: 2, holders: holders, rule: rule, district: ["200"])
            let second = SeatConflict.settle(position: "s", capacity: 2, holders: holders.reversed(), rule: rule, district: ["200"])
            #expect(first == second)
        }
    }
}
