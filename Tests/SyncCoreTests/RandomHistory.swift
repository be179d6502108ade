import SyncCore
import TestSupport

/// A random history: 3–6 replicas (one of them the district) write, update and delete
/// overlapping rows and columns and exchange random subsets of what they know, in random
/// order, with duplicates. Everything is drawn from one seed.
struct RandomHistory {
    static let tables = ["persons", "assignments"]
    static let rowIDs = ["a", "b", "c", "d"]
    static let columns = ["name", "phone", "degree"]
    static let district: ReplicaID = "200"

    let seed: UInt64
    private(set) var replicas: [SimulatedReplica]

    init(seed: UInt64) {
        self.seed = seed
        var random = SeededGenerator(seed: seed)
        let communeCount = Int.random(in: 2...5, using: &random)
        var replicas = [SimulatedReplica(id: RandomHistory.district)]
        for index in 0..<communeCount {
            replicas.append(SimulatedReplica(id: ReplicaID(rawValue: "2249\(index)")!))
        }
        // Few distinct values and a coarse clock, so that equal values and equal timestamps
        // (the tie-breaks) come up often.
        var millis: UInt64 = 1_000
        for _ in 0..<Int.random(in: 10...60, using: &random) {
            millis += UInt64.random(in: 0...2, using: &random)
            let actor = Int.random(in: 0..<replicas.count, using: &random)
            let table = RandomHistory.tables.randomElement(using: &random)!
            let row = RandomHistory.rowIDs.randomElement(using: &random)!
            // A replica's own clock may lag or lead the others.
            let skewed = millis + UInt64.random(in: 0...3, using: &random)
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                let columns = RandomHistory.columns.shuffled(using: &random)
                    .prefix(Int.random(in: 1...3, using: &random))
                    .map { ($0, RandomHistory.value(using: &random)) }
                replicas[actor].write(table: table, row: row, columns: columns, physicalMillis: skewed)
            case 5..<7:
                if replicas[actor].isLive(table: table, row: row) {
                    replicas[actor].delete(table: table, row: row, physicalMillis: skewed)
                }
            default:
                let target = Int.random(in: 0..<replicas.count, using: &random)
                guard target != actor else { continue }
                let sent = RandomHistory.scrambled(
                    replicas[actor].known.filter { _ in Bool.random(using: &random) },
                    using: &random)
                for change in sent { replicas[target].receive(change) }
            }
        }
        self.replicas = replicas
    }

    /// Every change made anywhere in the history.
    var allChanges: [Change] {
        var seen: Set<Dot> = []
        return replicas.flatMap(\.known).filter { seen.insert($0.dot).inserted }
    }

    /// `changes` shuffled, with some delivered two or three times.
    static func scrambled(_ changes: [Change], using random: inout SeededGenerator) -> [Change] {
        changes.flatMap { change in
            Array(repeating: change, count: Int.random(in: 0..<4, using: &random) == 0 ? Int.random(in: 2...3, using: &random) : 1)
        }.shuffled(using: &random)
    }

    private static func value(using random: inout SeededGenerator) -> Value {
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return .null
        case 1: return .integer(Int64.random(in: 0...2, using: &random))
        default: return .text(["An", "Bình", "Chi"].randomElement(using: &random)!)
        }
    }
}
