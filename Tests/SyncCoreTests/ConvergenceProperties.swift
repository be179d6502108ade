import PropertyBased
import SyncCore
import TestSupport
import Testing

/// The foundation of the project: the merge is a function of the *set* of changes.
/// Each case is one random history drawn from a seed; PropertyBased prints the failing seed
/// and a `.fixedSeed(...)` trait to replay it, and the messages below name the history seed.
@Suite struct ConvergenceProperties {
    static let policies: [MergePolicy] = FieldRule.allCases.flatMap { rule in
        DeleteRule.allCases.map { MergePolicy(districtReplicas: [RandomHistory.district], defaultRule: rule, deleteRule: $0) }
    }
    static let mixedPolicy = MergePolicy(
        districtReplicas: [RandomHistory.district], defaultRule: .lastWriterWins,
        columnRules: ["persons": ["phone": .districtWins, "degree": .review],
                      "assignments": ["name": .communeWins]])

    @Test func anyOrderAnyDuplicationGivesTheSameState() async {
        await propertyCheck(count: 1_000, input: Gen.uint64()) { seed in
            let history = RandomHistory(seed: seed)
            var random = SeededGenerator(seed: seed ^ 0xC0FF_EE00)
            let everything = history.allChanges

            // Fresh replicas receive everything in random orders with random duplication ...
            var fresh = (0..<3).map { SimulatedReplica(id: ReplicaID(rawValue: "9000\($0)")!) }
            for index in fresh.indices {
                for change in RandomHistory.scrambled(everything, using: &random) {
                    fresh[index].receive(change)
                }
            }
            // ... and the replicas that made the history finish their exchange.
            var finished = history.replicas
            for index in finished.indices {
                for change in RandomHistory.scrambled(everything, using: &random) {
                    finished[index].receive(change)
                }
            }
            let reference = fresh[0].rows
            for replica in fresh + finished {
                #expect(replica.rows == reference, "history seed \(seed): \(replica.id) diverged")
            }
            for policy in Self.policies + [Self.mixedPolicy] {
                let shown = fresh[0].resolved(policy)
                for replica in fresh.dropFirst() + finished {
                    #expect(replica.resolved(policy) == shown,
                            "history seed \(seed): \(replica.id) resolves differently under \(policy.defaultRule)")
                }
            }
        }
    }

    /// The merged state is not only the same everywhere but the right one: for every field,
    /// the surviving writes are exactly those no other write's context covers.
    @Test func survivingWritesAreTheMaximalWrites() async {
        await propertyCheck(count: 1_000, input: Gen.uint64()) { seed in
            let history = RandomHistory(seed: seed)
            var random = SeededGenerator(seed: seed ^ 0x5EED)
            let everything = history.allChanges
            var replica = SimulatedReplica(id: "90000")
            for change in RandomHistory.scrambled(everything, using: &random) { replica.receive(change) }

            for (key, state) in replica.rows {
                let ofRow = everything.filter { $0.table == key.table && $0.row == key.row }
                for column in RandomHistory.columns {
                    let writes = ofRow.filter { $0.column == column }
                    let maximal = writes.filter { write in
                        !writes.contains { $0.dot != write.dot && $0.context.covers(write.dot) }
                    }.map(\.dot).sorted()
                    let surviving = (state.fields[column]?.writes ?? []).map(\.dot)
                    #expect(surviving == maximal, "history seed \(seed): \(key.table)/\(key.row).\(column)")
                }
                let deletes = ofRow.filter { $0.operation == .delete }
                let live = state.fields.values.contains { field in
                    field.writes.contains { write in !deletes.contains { $0.context.covers(write.dot) } }
                }
                #expect(state.isLive == live, "history seed \(seed): liveness of \(key.table)/\(key.row)")
            }
        }
    }
}

/// Installing a snapshot merges states instead of replaying changes: it must land on the same
/// state as receiving the changes.
@Suite struct StateMergeProperties {
    @Test func mergingTwoReplicasStatesEqualsReceivingBothHistories() async {
        await propertyCheck(count: 1_000, input: Gen.uint64()) { seed in
            let history = RandomHistory(seed: seed)
            let left = history.replicas[0]
            let right = history.replicas[history.replicas.count - 1]
            var merged = left.rows
            for (key, state) in right.rows { merged[key, default: RowState()].merge(state) }
            var received = SimulatedReplica(id: "90000")
            for change in left.known + right.known { received.receive(change) }
            #expect(merged == received.rows, "history seed \(seed)")
        }
    }
}
