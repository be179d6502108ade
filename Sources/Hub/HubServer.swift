import Hummingbird
import Logging
import NIOCore
import SyncCore

/// The hub as a runnable service: the API on an address, plus folding district edits into
/// the feed every few seconds.
public enum HubServer {
    public static func application(
        store: HubStore, host: String, port: Int, limits: HubLimits = HubLimits(), logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = HubAPI.router(store: store, limits: limits, logger: logger)
        var app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "synchub"),
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
