import Foundation
import SyncCore
import SyncProtocol

/// How far one replica has come, as the hub knows it, in one record: what the hub holds of
/// the replica's changes, how far into the feed the replica has taken the hub's, which moves
/// it was told of, and when it was last seen. What log and feed compaction will rest on: a
/// feed entry every replica has pulled past, or a replica change the hub has settled, is
/// needed by no one any more.
public struct ReplicaProgress: Sendable, Equatable {
    public let replica: ReplicaID
    /// The unit its credential was issued for ('' when the hub only ever received changes
    /// under its id).
    public var scope: String
    /// The highest counter of its changes the hub has settled (held in the feed or refused):
    /// everything it numbered at or below is at the hub.
    public var settled: UInt64
    /// The feed position its latest pull said it had taken in (`after`): it holds every feed
    /// entry of its scope up to there. nil: it has not pulled since the hub kept this. Written
    /// with what it says of itself (`HubStore.noteOffice`) a few seconds after the pull, so it
    /// may lag the office's real position, never run ahead of it.
    public var pulledThrough: Int64?
    /// The office's last numbered change when it made that pull (its counter, or any counter
    /// of the same `DotBlock`): a change it numbered in a later block was made after it had
    /// taken in the feed up to `pulledThrough`. nil: it did not say (a release before it was
    /// asked). What forgetting a deleted row rests on (`HubStore.forgetDeletedRows`).
    public var numberedAtPull: UInt64?
    /// The feed position up to which it was told of the moves of rows out of its scope.
    public var toldThrough: Int64?
    /// When it last pulled, ISO 8601 UTC, and what it said of itself then (`OfficeFacts`).
    public var seenAt: String?
    public var facts: OfficeFacts?

    package init(replica: ReplicaID, scope: String, settled: UInt64, pulledThrough: Int64? = nil, numberedAtPull: UInt64? = nil,
                 toldThrough: Int64? = nil, seenAt: String? = nil, facts: OfficeFacts? = nil) {
        self.replica = replica
        self.scope = scope
        self.settled = settled
        self.pulledThrough = pulledThrough
        self.numberedAtPull = numberedAtPull
        self.toldThrough = toldThrough
        self.seenAt = seenAt
        self.facts = facts
    }
}

extension ReplicaProgress {
    /// The one query behind `HubBookkeeping.progress()`: plain SQL that SQLite and PostgreSQL
    /// both run as it is, a row per replica the hub knows, in the order of `init(row...)`.
    package static let query = """
        SELECT r.replica, r.scope, coalesce(received.counter, 0), seen.pulled, seen.seen_at, seen.facts,
            (SELECT max(seq) FROM _sync_hub_told WHERE replica = r.replica), seen.numbered
        FROM _sync_hub_replicas r
        LEFT JOIN _sync_hub_received received ON received.origin = r.replica
        LEFT JOIN _sync_hub_offices seen ON seen.replica = r.replica
        ORDER BY r.replica
        """

    /// A record from one row of `query`, as a store decodes its columns; nil for a replica id
    /// the hub could not have issued. Facts are kept as JSON ('' when the office said nothing).
    package init?(row replica: String, scope: String, settled: Int64, pulled: Int64?, seenAt: String?, factsJSON: String?, told: Int64?,
                  numbered: Int64?) {
        guard let id = ReplicaID(rawValue: replica) else { return nil }
        let facts = factsJSON.flatMap { $0.isEmpty ? nil : try? JSONDecoder().decode(OfficeFacts.self, from: Data($0.utf8)) }
        self.init(replica: id, scope: scope, settled: UInt64(max(0, settled)), pulledThrough: pulled,
                  numberedAtPull: numbered.map { UInt64(max(0, $0)) }, toldThrough: told, seenAt: seenAt, facts: facts)
    }
}

/// A pull as the hub keeps it for `ReplicaProgress`: when, how far the office had pulled,
/// and what it said of itself (JSON of `OfficeFacts`; nil when it said nothing).
public struct OfficeSeen: Sendable {
    public let replica: ReplicaID
    public let seenAt: String
    public let pulledThrough: Int64
    /// What the office said it had numbered when it asked (`ReplicaProgress.numberedAtPull`).
    public let numbered: UInt64?
    public let facts: String?

    package init(replica: ReplicaID, seenAt: String, pulledThrough: Int64, numbered: UInt64? = nil, facts: String?) {
        self.replica = replica
        self.seenAt = seenAt
        self.pulledThrough = pulledThrough
        self.numbered = numbered
        self.facts = facts
    }
}
