import HubCore
import Logging
import PostgresNIO
import Synchronization

/// One leased connection and the few ways the store talks over it: every statement's
/// failure names the store, the SQL and the server's reason.
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger
    let location: String
    /// Counts the statements sent, for the store's figures.
    let sent: StatementCount

    nonisolated(nonsending) func run(_ sql: String, _ binds: [any PostgresThrowingDynamicTypeEncodable] = []) async throws {
        _ = try await rows(sql, binds)
    }

    nonisolated(nonsending) func rows(_ sql: String, _ binds: [any PostgresThrowingDynamicTypeEncodable] = []) async throws -> [PostgresRow] {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds { try bindings.append(bind) }
        sent.value.add(1, ordering: .relaxed)
        do {
            return try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).collect()
        } catch let error as PSQLError {
            throw PostgresStoreError.failed(location, error, sql: sql)
        }
    }
}

/// How many statements a storage's sessions sent.
final class StatementCount: Sendable {
    let value = Atomic<Int>(0)
}
