import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import SyncCore

/// The hub as a runnable service: the API on an address, over HTTPS when given `tls` (plain
/// HTTP otherwise), plus folding district edits into the feed every few seconds.
public enum HubServer {
    public static func application(
        store: HubStore, host: String, port: Int, limits: HubLimits = HubLimits(), tls: HubTLS? = nil, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let router = HubAPI.router(store: store, limits: limits, logger: logger, desk: ReviewRoutes.Options(secureCookies: tls != nil))
        var app = Application(
            router: router, server: try tls.map { try .tls(.http1(), tlsConfiguration: $0.configuration) } ?? .http1(),
            configuration: .init(address: .hostname(host, port: port), serverName: "synchub"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
        app.beforeServerStarts {
            Task {
                while !Task.isCancelled {
                    do {
                        let added = try await store.ingestLocalEdits()
                        if added > 0 { logger.info("district edits added to the feed", metadata: ["changes": "\(added)"]) }
                    } catch {
                        logger.error("folding district edits failed: \(error)")
                    }
                    try? await Task.sleep(for: .seconds(2))
                }
            }
        }
        return app
    }
}
