import HubCore
import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// Where a store is: reading the URL of `hub.toml`'s `[store]`.
struct PostgresLocation {
    let host: String
    let port: Int
    let user: String
    let password: String?
    let database: String
    let requireTLS: Bool

    init(_ url: String) throws {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, ["postgresql", "postgres"].contains(scheme),
            let host = parts.host, !host.isEmpty
        else {
            throw PostgresStoreError.badURL(Self.shown(url), why: "it is not of the form postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        let database = String(parts.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw PostgresStoreError.badURL(Self.shown(url), why: "it names no database after the host") }
        guard let user = parts.user, !user.isEmpty else { throw PostgresStoreError.badURL(Self.shown(url), why: "it names no user before '@'") }
        let mode = (parts.queryItems ?? []).first { $0.name == "sslmode" }?.value
        switch mode {
        case nil, "disable", "allow", "prefer": requireTLS = false
        case "require", "verify-ca", "verify-full": requireTLS = true
        default: throw PostgresStoreError.badURL(Self.shown(url), why: "sslmode '\(mode!)' is none of disable, require, verify-full")
        }
        self.host = host
        port = parts.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        password = parts.password?.removingPercentEncoding
        self.database = database.removingPercentEncoding ?? database
    }

    var clientConfiguration: PostgresClient.Configuration {
        PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database,
            tls: requireTLS ? .require(.makeClientConfiguration()) : .disable)
    }

    /// One connection made directly, not through the pool (which retries in the background
    /// and so hides why it cannot connect): closed again at once, or the server's refusal.
    func probe(logger: Logger) async throws {
        let tls: PostgresConnection.Configuration.TLS =
            requireTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        let connection = try await PostgresConnection.connect(
            on: PostgresClient.defaultEventLoopGroup.next(), configuration: configuration, id: 0, logger: logger).get()
        try await connection.close()
    }

    /// The URL without its password.
    static func shown(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? url
    }
}
