import HubCore
import Foundation
import PostgresNIO
import SyncCore

/// `_sync_meta` of the PostgreSQL store: the store's identity and progress by key (versions,
/// district, rules, the hybrid logical clock, the district's counters).
struct PostgresMeta {
    let session: PostgresSession

    nonisolated(nonsending) func text(_ key: String) async throws -> String? {
        try await session.rows("SELECT value FROM _sync_meta WHERE key = $1", [key]).first?.makeRandomAccess()[0].decode(String.self)
    }

    nonisolated(nonsending) func integer(_ key: String) async throws -> Int64? {
        try await text(key).flatMap { Int64($0) }
    }

    nonisolated(nonsending) func set(_ key: String, _ value: String) async throws {
        try await session.run(
            "INSERT INTO _sync_meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])
    }

    /// Raises an integer kept under `key` to `value` (never lowers it).
    nonisolated(nonsending) func raise(_ key: String, to value: Int64) async throws {
        try await session.run(
            """
            INSERT INTO _sync_meta(key, value) VALUES ($1, $2::bigint::text)
            ON CONFLICT (key) DO UPDATE SET value = greatest(_sync_meta.value::bigint, excluded.value::bigint)::text
            """, [key, String(value)])
    }

    /// The rules the register is merged with: the builtin ones until others are adopted.
    nonisolated(nonsending) func rules() async throws -> RuleSet {
        guard let text = try await text("rules") else { return .builtin }
        return try JSONDecoder().decode(RuleSet.self, from: Data(text.utf8))
    }

    nonisolated(nonsending) func adopt(_ rules: RuleSet) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try await set("rules", String(decoding: try encoder.encode(rules), as: UTF8.self))
        try await set("rules_version", String(rules.version))
    }

    /// The hub's hybrid logical clock as last stamped.
    nonisolated(nonsending) func clock() async throws -> HybridTimestamp {
        HybridTimestamp(rawValue: UInt64(max(0, try await integer("clock") ?? 0)))
    }
}
