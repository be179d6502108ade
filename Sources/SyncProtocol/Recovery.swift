import SyncCore

/// District counters a hub may have handed out and lost: those above `after` and below
/// `before` (one start of the hub, `HubIncarnation`, whose store was put back from a copy).
public struct CounterRange: Codable, Sendable, Equatable {
    public let after: UInt64
    public let before: UInt64

    public init(after: UInt64, before: UInt64) {
        self.after = after
        self.before = before
    }

    public func contains(_ counter: UInt64) -> Bool { counter > after && counter < before }
}

/// `GET /v1/recover?since=FLOOR`: the hub's incarnation (the floor of its current start) and
/// the district counters it may lack, for incarnations after `since`. An office gives back
/// the district's changes it holds in those ranges with `POST /v1/recover`.
public struct RecoveryStatus: Codable, Sendable, Equatable {
    public let incarnation: UInt64
    public let lacking: [CounterRange]

    public init(incarnation: UInt64, lacking: [CounterRange]) {
        self.incarnation = incarnation
        self.lacking = lacking
    }
}

/// `POST /v1/recover`: district changes an office pulled, given back to a hub that lost them,
/// each with the seal the hub gave it (`seals`, by counter in decimal).
public struct RecoverRequest: Codable, Sendable, Equatable {
    public let changes: [ChangeGroup]
    public let seals: [String: String]

    public init(changes: [ChangeGroup], seals: [String: String]) {
        self.changes = changes
        self.seals = seals
    }
}

/// What the hub did with given-back district changes: taken back, already held, or refused
/// (no seal or a seal it cannot verify, or not a counter it may lack), by counter.
public struct RecoverResponse: Codable, Sendable, Equatable {
    public let taken: Int
    public let held: Int
    public let refused: [UInt64]

    public init(taken: Int, held: Int, refused: [UInt64]) {
        self.taken = taken
        self.held = held
        self.refused = refused
    }
}
