import Foundation
import MergeEngine
import Register
import SyncCore
import SyncProtocol

/// Taking back from the offices what a hub put back from an older copy lost of the
/// district's own changes. Offices' own changes come back by themselves (a pull tells an
/// office the hub holds less of it, and it sends them again); the district's changes only
/// the offices that pulled them hold, so each keeps them with the hub's seal
/// (`DistrictSeal`) and gives back those numbered where the hub may lack them
/// (`HubIncarnation`): the union of the replicas restores the hub.
extension HubStore {
    /// Seal the district's changes with `seal` from now on, and take back those it sealed.
    public func useSeal(_ seal: DistrictSeal) { self.seal = seal }

    /// The current incarnation and the district counters the hub may lack, for incarnations
    /// with a floor above `since`.
    public func recoveryStatus(for caller: Caller, since: UInt64) async throws -> RecoveryStatus {
        try require(.commune, caller)
        let incarnations = try await storage.readOne { try await $0.incarnations() }
        return RecoveryStatus(
            incarnation: incarnations.last?.floor ?? 0,
            lacking: incarnations.filter { $0.floor > since && $0.floor > $0.previous + 1 }
                .map { CounterRange(after: $0.previous, before: $0.floor) })
    }

    /// Takes back district changes an office gives back: each must bear this hub's seal and
    /// a counter an incarnation may have lost; one the hub holds counts as held. Taken back,
    /// they are merged and fed again (offices that lack them get them), as if just written.
    public func recover(_ changes: [Change], seals: [String: String], from caller: Caller) async throws -> RecoverResponse {
        try require(.commune, caller)
        guard let seal else {
            throw HubError(status: 409, code: "no_district_key",
                           message: "this hub keeps no district seal key, so it cannot tell the district's changes from others: nothing was taken back")
        }
        return try await storage.write { store in
            let incarnations = try await store.incarnations()
            var taken: [Change] = []
            var seen: Set<UInt64> = []
            var held = 0
            var refused: [UInt64] = []
            // What the hub holds of them already: one query for the whole batch.
            let settled = try await store.settled(district, counters: changes.filter { $0.dot.replica == district }.map(\.dot.counter))
            for change in changes {
                let counter = change.dot.counter
                guard change.dot.replica == district, let sealed = seals[String(counter)], seal.verify(sealed, of: change),
                    incarnations.contains(where: { $0.mayHaveLost(counter) }), schema.table(named: change.table) != nil
                else { refused.append(counter); continue }
                if settled[counter] != nil || !seen.insert(counter).inserted {
                    held += 1
                } else {
                    taken.append(change)
                }
            }
            guard !taken.isEmpty else { return RecoverResponse(taken: 0, held: held, refused: refused) }
            taken.sort { $0.dot.counter < $1.dot.counter }
            _ = try await store.merge(taken)
            try await reviewDuplicatePersons(after: taken, in: store)
            try await appendToFeed(taken, in: store)
            if taken.contains(where: { SeatCheck.tables.contains($0.table) }), try await endSeatLosers(in: store) > 0 {
                try await feedDistrictEdits(in: store)
            }
            return RecoverResponse(taken: taken.count, held: held, refused: refused)
        }
    }
}
