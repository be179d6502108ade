import ArgumentParser
import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import MergeEngine
import Register
import Replica
import SyncClient
import SyncCore

/// Two new offices of one commune taking what the hub holds for it: one bootstraps from a
/// snapshot, the other (told to skip the snapshot) pulls the feed from its start. Each is a
/// replica file of its own and a libcurl session, as syncd has.
struct NewOffices {
    let snapshot: (path: String, credential: String)
    let pull: (path: String, credential: String)

    /// Issues both offices' credentials for `scope` and creates their files in `directory`.
    init(_ codes: (snapshot: ReplicaID, pull: ReplicaID), scope: String, store: HubStore, in directory: URL) async throws {
        snapshot = (directory.appendingPathComponent("\(codes.snapshot).db").path,
                    try await store.issueCredential(for: codes.snapshot, scope: scope))
        pull = (directory.appendingPathComponent("\(codes.pull).db").path, try await store.issueCredential(for: codes.pull, scope: scope))
        _ = try Replica.create(at: snapshot.path, id: codes.snapshot, role: .commune)
        try Replica.create(at: pull.path, id: codes.pull, role: .commune).setMeta("pull_checkpoint", .integer(0))
    }

    /// Seconds each took from `hubURL`, checked against the rows and changes expected.
    func time(from hubURL: String, batch: Int = 2_000, expectingRows rows: Int, changes: Int?) async throws -> (snapshot: Double, pull: Double) {
        let (snapshot, pull) = (self.snapshot, self.pull)
        return try await onThread {
            let bootstrapping = try SyncSession(
                replica: try Replica(openingExisting: snapshot.path), hubURL: hubURL, credential: snapshot.credential, batchChanges: batch)
            let start = ContinuousClock.now
            _ = try bootstrapping.round()
            let snapshotSeconds = seconds(since: start)
            guard bootstrapping.lastReport.snapshotRows == rows else {
                throw ValidationError("the snapshot brought \(bootstrapping.lastReport.snapshotRows) of \(rows) rows")
            }
            let pulling = try SyncSession(
                replica: try Replica(openingExisting: pull.path), hubURL: hubURL, credential: pull.credential, batchChanges: batch)
            let pullStart = ContinuousClock.now
            try pulling.pull()
            let pullSeconds = seconds(since: pullStart)
            let pulled = pulling.lastReport.pulled
            guard changes.map({ pulled == $0 }) ?? (pulled > 0) else {
                throw ValidationError("the pull brought \(pulled) changes, not \(changes.map(String.init) ?? "any")")
            }
            return (snapshotSeconds, pullSeconds)
        }
    }
}
