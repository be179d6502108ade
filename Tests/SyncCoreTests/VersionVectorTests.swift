import SyncCore
import Testing

@Suite struct VersionVectorTests {
    let a: ReplicaID = "22499"
    let b: ReplicaID = "22502"

    @Test func equalVectorsCompareEqual() {
        #expect(VersionVector([a: 2, b: 1]).compare(VersionVector([b: 1, a: 2])) == .equal)
        #expect(VersionVector().compare(VersionVector([a: 0])) == .equal)
    }

    @Test func aVectorThatKnowsLessIsBefore() {
        #expect(VersionVector([a: 1]).compare(VersionVector([a: 2, b: 1])) == .before)
        #expect(VersionVector([a: 2, b: 1]).compare(VersionVector([a: 1])) == .after)
    }

    @Test func divergedVectorsAreConcurrent() {
        #expect(VersionVector([a: 2]).compare(VersionVector([b: 1])) == .concurrent)
        #expect(VersionVector([a: 2, b: 1]).compare(VersionVector([a: 1, b: 2])) == .concurrent)
    }

    @Test func joinIsThePointwiseMaximum() {
        let left = VersionVector([a: 3, b: 1])
        let right = VersionVector([b: 4])
        #expect(left.joined(right) == VersionVector([a: 3, b: 4]))
        #expect(left.joined(right) == right.joined(left))
        #expect(left.joined(left) == left)
    }

    @Test func coversExactlyTheDotsUpToEachCounter() {
        let vector = VersionVector([a: 3])
        #expect(vector.covers(Dot(replica: a, counter: 3)))
        #expect(vector.covers(Dot(replica: a, counter: 1)))
        #expect(!vector.covers(Dot(replica: a, counter: 4)))
        #expect(!vector.covers(Dot(replica: b, counter: 1)))
    }

    @Test func textFormRoundTripsAndRejectsGarbage() {
        let vector = VersionVector([b: 7, a: 12])
        #expect(vector.description == "22499:12 22502:7")
        #expect(VersionVector(text: vector.description) == vector)
        #expect(VersionVector(text: "") == VersionVector())
        #expect(VersionVector(text: "22499") == nil)
        #expect(VersionVector(text: "22499:x") == nil)
        #expect(VersionVector(text: "a b:1") == nil)
    }

    @Test func replicaIDsRejectSeparators() {
        #expect(ReplicaID(rawValue: "22 499") == nil)
        #expect(ReplicaID(rawValue: "22:499") == nil)
        #expect(ReplicaID(rawValue: "") == nil)
        #expect(ReplicaID(rawValue: "hub-200") != nil)
    }
}

@Suite struct HybridLogicalClockTests {
    @Test func followsThePhysicalClockWhenItMovesForward() {
        var clock = HybridLogicalClock()
        #expect(clock.now(physicalMillis: 1_000) == HybridTimestamp(wallMillis: 1_000))
        #expect(clock.now(physicalMillis: 2_000) == HybridTimestamp(wallMillis: 2_000))
    }

    @Test func neverGoesBackWhenThePhysicalClockDoes() {
        var clock = HybridLogicalClock()
        let first = clock.now(physicalMillis: 5_000)
        let second = clock.now(physicalMillis: 4_000)
        let third = clock.now(physicalMillis: 5_000)
        #expect(first < second && second < third)
        #expect(second.wallMillis == 5_000 && second.logical == 1)
    }

    @Test func staysAheadOfWhatItHasSeen() {
        var clock = HybridLogicalClock()
        clock.observe(HybridTimestamp(wallMillis: 9_000, logical: 3), physicalMillis: 1_000)
        let next = clock.now(physicalMillis: 1_000)
        #expect(next > HybridTimestamp(wallMillis: 9_000, logical: 3))
    }

    /// A stamp from a computer whose clock is years ahead cannot drag this clock there.
    @Test func cannotBeDraggedIntoTheFuture() {
        let now: UInt64 = 1_790_000_000_000
        let year5000 = HybridTimestamp(wallMillis: 95_617_584_000_000)
        var clock = HybridLogicalClock()
        clock.observe(year5000, physicalMillis: now)
        #expect(clock.now(physicalMillis: now).wallMillis == now)
        // Within the bound, the clock stays ahead of what it saw, as before.
        var near = HybridLogicalClock()
        near.observe(HybridTimestamp(wallMillis: now + 60_000), physicalMillis: now)
        #expect(near.now(physicalMillis: now) > HybridTimestamp(wallMillis: now + 60_000))
    }

    @Test func aCompactContextDropsOnlyTheOriginsImpliedEntry() {
        let (a, b): (ReplicaID, ReplicaID) = ("22499", "22502")
        let dot = Dot(replica: a, counter: 130)
        let context = VersionVector([a: 129, b: 7])
        let compact = CompactContext(context, origin: a)
        #expect(compact.text == VersionVector([b: 7]).description)
        #expect(CompactContext(text: compact.text)?.context(of: dot) == context)
        // A replica's first change has seen nothing of its own.
        #expect(CompactContext(VersionVector([b: 7]), origin: a).context(of: Dot(replica: a, counter: 1)) == VersionVector([b: 7]))
    }
}
