import ArgumentParser
import Hummingbird

/// `synchub`: the district hub.
@main
struct SyncHub: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synchub",
        abstract: "CommuneSync district hub: the sync API the commune offices reconcile with.")

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port: Int = 8470

    func run() async throws {
        let router = Router()
        router.get("/health") { _, _ in "ok\n" }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)))
        try await app.runService()
    }
}
