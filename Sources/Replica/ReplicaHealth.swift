import Foundation
import MergeEngine
import Register
import SyncCore

/// What a replica file says about its own safety, read without changing anything (the
/// daemon may be running, stopped, or broken): the figures behind `syncctl status`.
public struct ReplicaHealth: Sendable, Equatable {
    public var replica: String
    public var role: String
    public var schemaVersion: Int
    /// Name of the commune's unit, if the reference data names it.
    public var unitName: String?
    /// When the hub last acknowledged a push / when the last pull was applied (ISO 8601).
    public var lastPushAckAt: String?
    public var lastPullAt: String?
    /// Changes written here that the hub has not acknowledged yet, and when the oldest was written.
    public var unackedChanges: Int
    /// The rows those changes are in (a row written twice counts once).
    public var unackedRows: Int
    public var oldestUnackedWrittenAt: Date?
    /// Conflicts not closed, and of those the ones waiting for district review.
    public var openConflicts: Int
    public var awaitingReview: Int
    public var rulesVersion: String
    /// The rule version the hub said it holds at the last pull.
    public var hubRulesVersion: String?
    /// The register schema the hub said it keeps at the last pull.
    public var hubSchemaVersion: Int?
    /// When the hub, put back from a copy, turned out to lack changes this office had already
    /// dropped from its log (`noteHubBehindCompactedLog`); nil when that never happened.
    public var hubLacksDroppedAt: String?
    /// The district's compaction horizon in days, as the hub last said (`office_log_days`; nil
    /// before it said, 0: none).
    public var officeLogDays: Int?
    /// Changes the hub refused that the office has not dealt with yet, and the newest one's
    /// row and reason.
    public var refusedChanges = 0
    public var refusedRows = 0
    public var refusedExample: RefusedRow?
    /// When this file was last rebuilt from the hub (restored or copied file) and why.
    public var rebasedAt: String?
    public var rebaseReason: String?
    public var rebaseCause: RebuildCause?
    /// Set when this file was filled from the hub in place of a computer that had synced
    /// before: when, and what the hub last heard from that computer (JSON, `PreviousComputer`).
    public var filledFromHubAt: String?
    public var previousComputer: String?
    public var rebaseRenumbered = 0
    /// Rebuilds from the hub within the last day (`RebuildHistory`).
    public var recentRebuilds = 0
    /// When a comparison with the hub by content last matched, and how many rows still differed
    /// at the last one (0 when it matched).
    public var digestMatchedAt: String?
    public var digestDifferingRows = 0
    public var digestDifferingExample: String?
    /// District changes held here that a hub put back from an older copy lacks and could not
    /// take back (unsealed, or a seal it no longer knows), and a few of their rows.
    public var districtUnreturned = 0
    public var districtUnreturnedExample: String?
    /// Replica file plus its write-ahead log, and free space where it lives.
    public var fileBytes: Int64
    public var freeDiskBytes: Int64?

    /// Reads the figures from the file at `path`, opened read-only.
    public static func read(path: String) throws -> ReplicaHealth {
        let database = try SQLiteDatabase(path: path, create: false, readOnly: true)
        guard try database.scalar("SELECT 1 FROM sqlite_master WHERE name = '_sync_meta'") != nil else {
            throw ReplicaError.notAReplica(path: path)
        }
        func meta(_ key: String) throws -> Value? {
            try database.scalar("SELECT value FROM _sync_meta WHERE key = ?", [.text(key)])
        }
        let replica = try meta("replica_id")?.description ?? "?"
        let acked = try meta("push_acked")?.integerValue ?? 0
        // Rows written since the last acknowledged one; a folded row counts its changes, a row
        // not folded yet counts as one, an UPDATE that changed nothing as none.
        let pending = try database.query(
            """
            SELECT coalesce(sum(CASE WHEN op = 'delete' OR vals IS NULL THEN 1 ELSE json_array_length(vals) END), 0), min(at_ms),
                   count(DISTINCT tbl || char(31) || pk)
            FROM _sync_log WHERE seq > ? AND op NOT IN ('reserve', 'void') AND NOT (op = 'update' AND vals IS '[]')
            """, [.integer(acked / Int64(DotBlock.size))]).first ?? []
        let conflicts = try database.query(
            "SELECT count(*), coalesce(sum(state = 'open'), 0) FROM _sync_conflicts WHERE state <> 'closed'").first ?? []
        var unitName: String?
        // The official code (a replica id the hub numbered after a reused code is CODE-N);
        // of the units with that code, the one this replica's own rows name, else the one in force.
        let parts = replica.split(separator: "-")
        let code = parts.count == 2 && parts[1].allSatisfy(\.isNumber) ? String(parts[0]) : replica
        unitName = try database.scalar(
            """
            SELECT name FROM units WHERE code = ?
            ORDER BY id IN (SELECT commune_id FROM persons UNION SELECT commune_id FROM positions) DESC, effective_to IS NOT NULL LIMIT 1
            """, [.text(code)])?.textValue
        let files = [path, path + "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? NSNumber }
        var freeDisk: Int64?
        var stats = statvfs()
        if statvfs((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent, &stats) == 0 {
            freeDisk = Int64(stats.f_bavail) * Int64(stats.f_frsize)
        }
        var refused: (changes: Int, rows: Int, example: RefusedRow?) = (0, 0, nil)
        if try database.scalar("SELECT 1 FROM sqlite_master WHERE name = '_sync_refused'") != nil {
            let rows = try database.query(
                """
                SELECT count(*), count(DISTINCT tbl || '/' || pk),
                       (SELECT tbl || char(31) || pk || char(31) || code FROM _sync_refused
                        WHERE state IN ('open', 'clearing') ORDER BY counter DESC LIMIT 1)
                FROM _sync_refused WHERE state IN ('open', 'clearing')
                """)
            let newest = rows.first?[2].textValue?.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            refused = (Int(rows.first?[0].integerValue ?? 0), Int(rows.first?[1].integerValue ?? 0),
                       newest.flatMap { $0.count == 3 ? RefusedRow(table: $0[0], row: $0[1], code: $0[2]) : nil })
        }
        var health = ReplicaHealth(
            replica: replica, role: try meta("role")?.description ?? "?",
            schemaVersion: Int(try meta("schema_version")?.integerValue ?? 0), unitName: unitName,
            lastPushAckAt: try meta("push_acked_at")?.textValue, lastPullAt: try meta("pull_at")?.textValue,
            unackedChanges: Int(pending.first?.integerValue ?? 0), unackedRows: Int(pending.count > 2 ? pending[2].integerValue ?? 0 : 0),
            oldestUnackedWrittenAt: pending.count > 1 ? pending[1].integerValue.map { Date(timeIntervalSince1970: Double($0) / 1000) } : nil,
            openConflicts: Int(conflicts.first?.integerValue ?? 0),
            awaitingReview: Int(conflicts.count > 1 ? conflicts[1].integerValue ?? 0 : 0),
            rulesVersion: try meta("rules_version")?.textValue ?? String(RuleSet.builtin.version),
            hubRulesVersion: try meta("hub_rules_version")?.textValue,
            fileBytes: files.reduce(0) { $0 + $1.int64Value }, freeDiskBytes: freeDisk)
        (health.refusedChanges, health.refusedRows, health.refusedExample) = refused
        health.hubSchemaVersion = try meta("hub_schema_version")?.integerValue.map { Int($0) }
        health.hubLacksDroppedAt = try meta("hub_lacks_dropped")?.textValue?.split(separator: " ").last.map(String.init)
        health.officeLogDays = try meta("office_log_days")?.integerValue.map { Int($0) }
        health.rebasedAt = try meta("rebased_at")?.textValue
        health.rebaseReason = try meta("rebase_reason")?.textValue
        health.rebaseCause = try meta("rebase_cause")?.textValue.flatMap(RebuildCause.init(rawValue:))
        health.filledFromHubAt = try meta("filled_from_hub_at")?.textValue
        health.previousComputer = try meta("previous_computer")?.textValue
        health.rebaseRenumbered = Int(try meta("rebase_renumbered")?.integerValue ?? 0)
        health.recentRebuilds = RebuildHistory(text: try meta("rebase_recent")?.textValue).count()
        health.digestMatchedAt = try meta("digest_matched_at")?.textValue
        health.digestDifferingRows = Int(try meta("digest_differing")?.integerValue ?? 0)
        health.digestDifferingExample = try meta("digest_differing_rows")?.textValue
        health.districtUnreturned = Int(try meta("district_unreturned")?.integerValue ?? 0)
        health.districtUnreturnedExample = try meta("district_unreturned_rows")?.textValue
        return health
    }
}

/// A row whose changes the hub refused, and the hub's reason code (`Messages.swift`).
public struct RefusedRow: Sendable, Equatable {
    public var table: String
    public var row: String
    public var code: String

    public init(table: String, row: String, code: String) {
        self.table = table
        self.row = row
        self.code = code
    }

    /// How `syncctl refused retry` and `clear` name it.
    public var argument: String { "\(table)/\(row)" }
}
