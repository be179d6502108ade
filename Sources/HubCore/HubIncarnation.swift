import Foundation
import SyncCore

/// One start of the hub on its store. A hub put back from last night's copy has forgotten the
/// district counters and feed positions it handed out since the copy, and the offices hold
/// them: handed out again, they would name other changes (an office takes a new district
/// write for one it has, and never shows it). So at every start the district's counter and
/// the feed's end jump to `floor`, a number the wall clock gives that is above anything the
/// hub can have handed out before (at most 1,024 counters or feed positions a millisecond
/// since 2024), unless the store already holds more. Nothing is ever numbered twice, however
/// old the copy.
///
/// District counters between `previous` (what the store held at this start) and `floor` were
/// possibly handed out by a lost incarnation: the hub cannot have them, an office may.
/// Contexts naming them are taken (the district's counter is at `floor` now, above them), and
/// an office gives back the district's changes it holds in that range (`HubStore.recover`).
public struct HubIncarnation: Sendable, Equatable, Codable {
    /// The district's counter and the feed's position from this start on.
    public let floor: UInt64
    /// The district's counter the store held when this incarnation began.
    public let previous: UInt64
    /// When it began (RFC 3339).
    public let at: String

    public init(floor: UInt64, previous: UInt64, at: String) {
        self.floor = floor
        self.previous = previous
        self.at = at
    }

    /// 2024-01-01T00:00:00Z in ms since 1970: floors count from there.
    static let epochMillis: UInt64 = 1_704_067_200_000
    /// Counters (and feed positions) a millisecond may hand out.
    static let perMillisecond: UInt64 = 1_024

    /// The floor of an incarnation starting at `date`: a multiple of `DotBlock.size`, so that
    /// the district's next block starts right above it.
    public static func floor(at date: Date) -> UInt64 {
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        return millis > epochMillis ? (millis - epochMillis) * perMillisecond : 0
    }

    /// Whether a district counter may have been handed out by an incarnation whose changes
    /// the store lost: above what the store held when this one began, below its floor.
    public func mayHaveLost(_ counter: UInt64) -> Bool { counter > previous && counter < floor }
}

extension HubStore {
    /// Begins an incarnation (see `HubIncarnation`): call once when the hub starts, before it
    /// serves. District edits typed while it was stopped are fed first, under their own
    /// numbers. Returns the new incarnation, nil when the store is already above the clock's
    /// floor (a clock set back): then the store's numbers go on from where they are.
    @discardableResult
    public func beginIncarnation(at now: Date = Date()) async throws -> HubIncarnation? {
        try await storage.write { store in
            try await feedDistrictEdits(in: store)
            let previous = try await store.districtCounter()
            let floor = HubIncarnation.floor(at: now)
            guard floor > previous, floor < UInt64(Int64.max) else { return nil }
            let incarnation = HubIncarnation(floor: floor, previous: previous, at: now.formatted(.iso8601))
            try await store.startIncarnation(incarnation)
            try await store.markDistrictEditsFed(through: floor)
            return incarnation
        }
    }

    /// Every incarnation the store remembers, oldest first.
    public func incarnations() async throws -> [HubIncarnation] {
        try await storage.readOne { try await $0.incarnations() }
    }
}
