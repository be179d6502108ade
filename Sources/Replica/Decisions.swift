import MergeEngine
import Register
import SyncCore

/// A decision of the district's review desk on an item naming this office's records, as the
/// hub told it with a pull: who decided, when, why, and what was picked or written. Kept in
/// `_sync_decisions` (made when the first one arrives), for `syncctl conflicts`.
public struct KeptDecision: Sendable, Equatable {
    public let id: Int64
    /// The item decided (`table/row/column`).
    public let conflict: String
    public let reviewer: String
    /// When, ISO 8601 UTC.
    public let at: String
    public let reason: String
    public let pick: String?
    public let value: Value?
    public let reverts: Int64?

    public init(id: Int64, conflict: String, reviewer: String, at: String, reason: String, pick: String?, value: Value?, reverts: Int64?) {
        self.id = id
        self.conflict = conflict
        self.reviewer = reviewer
        self.at = at
        self.reason = reason
        self.pick = pick
        self.value = value
        self.reverts = reverts
    }
}

extension Replica {
    static let decisionsSQL = """
        CREATE TABLE IF NOT EXISTS _sync_decisions(
            id INTEGER PRIMARY KEY, conflict TEXT NOT NULL, reviewer TEXT NOT NULL, at TEXT NOT NULL, reason TEXT NOT NULL,
            pick TEXT, value, reverts INTEGER)
        """

    /// Keeps `decisions` and that every decision up to `through` has been told. Call in the
    /// transaction that applies the pull they came with.
    public func keepDecisions(_ decisions: [KeptDecision], through: Int64) throws {
        if !decisions.isEmpty {
            try database.execute(Self.decisionsSQL)
            try database.runRows(decisions.map { decision -> [Value] in
                [.integer(decision.id), .text(decision.conflict), .text(decision.reviewer), .text(decision.at), .text(decision.reason),
                 decision.pick.map(Value.text) ?? .null, decision.value ?? .null, decision.reverts.map(Value.integer) ?? .null]
            }) { "INSERT OR REPLACE INTO _sync_decisions(id, conflict, reviewer, at, reason, pick, value, reverts) VALUES \($0)" }
        }
        try setMeta("decided_through", .integer(through))
    }

    /// The number of the last decision this office has been told of (0: none yet).
    public var decidedThrough: Int64 { get throws { try meta("decided_through")?.integerValue ?? 0 } }

    /// The decisions kept here, oldest first.
    public func decisions() throws -> [KeptDecision] {
        guard try database.scalar("SELECT 1 FROM sqlite_master WHERE name = '_sync_decisions'") != nil else { return [] }
        return try database.query("SELECT id, conflict, reviewer, at, reason, pick, value, reverts FROM _sync_decisions ORDER BY id").map { row in
            KeptDecision(id: row[0].integerValue ?? 0, conflict: row[1].textValue ?? "", reviewer: row[2].textValue ?? "", at: row[3].textValue ?? "",
                         reason: row[4].textValue ?? "", pick: row[5].textValue, value: row[6] == .null ? nil : row[6], reverts: row[7].integerValue)
        }
    }
}
