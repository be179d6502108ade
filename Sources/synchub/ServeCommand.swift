import ArgumentParser
import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SyncConfig
import SyncCore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the hub (the default).")

    @OptionGroup var location: HubConfigLocation

    @Option(help: "Port to listen on, overriding hub.toml (0 picks a free one; the port is logged).")
    var port: Int?

    func run() async throws {
        let settings = try HubSettings.load(location.config)
        guard let district = ReplicaID(rawValue: settings.replica) else {
            throw ValidationError("\(location.config): 'replica' must be the district's official code, not '\(settings.replica)'")
        }
        if case .postgresql = settings.store {
            // On PostgreSQL every statement of a push is awaited: with Swift's tasks on NIO's
            // event loops (which both the HTTP server and the database connections use) a
            // statement's answer resumes its request on a loop thread instead of crossing to
            // Swift's own pool and back. Not on SQLite, whose calls block the thread they run on.
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        let level = settings.logLevel
        LoggingSystem.bootstrap { label in EscapingLogHandler(wrapping: DaemonLogHandler(label: label, level: level)) }
        var logger = Logger(label: "synchub")
        logger.logLevel = level
        let rules = try settings.rules.map(RulesFile.load)
        let store = try await settings.openStore(district: district, rules: rules)
        // Offices keep the district's changes sealed, to give them back to a hub put back from
        // a copy (DistrictSeal): the key lives beside the database, not in it.
        await store.useSeal(try DistrictSeal.load(orCreateAt: settings.districtKey))
        // A hub put back from a copy never numbers anything twice (HubIncarnation).
        if let incarnation = try await store.beginIncarnation() {
            logger.info("new incarnation", metadata: ["floor": "\(incarnation.floor)", "previous": "\(incarnation.previous)"])
        }
        var limits = settings.limits
        // Connections must leave file descriptors for the database and the logs.
        var files = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &files) == 0, files.rlim_cur < rlim_t(Int32.max) {
            let room = max(8, Int(files.rlim_cur) - 64)
            if limits.maxConnections > room {
                logger.warning("max_connections lowered to fit the open-file limit", metadata: [
                    "max_connections": "\(room)", "configured": "\(limits.maxConnections)", "open_file_limit": "\(files.rlim_cur)"])
                limits.maxConnections = room
                limits.maxConnectionsPerAddress = min(limits.maxConnectionsPerAddress, room)
            }
        }
        // Once a day (the first ten minutes after starting): superseded feed entries older
        // than office_log_days go, and rows deleted before then that no office can still
        // write to unknowingly are forgotten (HubStore.compactFeed). Ends with the process.
        let days = limits.officeLogDays
        Task.detached { [logger] in
            try? await Task.sleep(for: .seconds(600))
            while !Task.isCancelled {
                do {
                    let done = try await store.compactFeed(keepingDays: days)
                    if done.dropped > 0 || done.forgottenRows > 0 {
                        logger.info("feed compacted", metadata: [
                            "dropped": "\(done.dropped)", "deleted_rows_forgotten": "\(done.forgottenRows)", "office_log_days": "\(days)"])
                    }
                } catch {
                    logger.warning("feed compaction failed; tried again tomorrow", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(86_400))
            }
        }
        let tls = try settings.tls.map { try HubTLS(certificate: $0.certificate, key: $0.key) }
        let app = try HubServer.application(
            store: store, host: settings.host, port: port ?? settings.port, limits: limits, tls: tls, logger: logger
        ) { [logger] bound in
            logger.info("listening", metadata: ["address": "\(settings.host):\(bound)", "scheme": "\(tls == nil ? "http" : "https")",
                                                "replica": "\(district)",
                                                "store": "\(settings.storeLocation)", "rules": "\(rules.map { String($0.version) } ?? "as held")"])
        }
        // runService returns after SIGTERM or SIGINT once in-flight requests are done.
        try await app.runService()
        logger.info("stopped cleanly", metadata: ["replica": "\(district)"])
    }
}
