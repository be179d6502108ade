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
#if canImport(Glibc)
import Glibc
#endif

/// An anonymous lock-out attempt against a synchub process on loopback: `--connections`
/// connections from `--addresses` source addresses (127.0.0.2, 127.0.0.3, ...; each under the
/// per-address share) that send one byte of a request head every `--interval` seconds and
/// never finish it, opening a new connection whenever the hub closes one. Meanwhile an honest
/// office (from 127.0.0.1) writes a person and syncs every second, each round on a new
/// connection, and `/health` is probed twice a second. Prints how many office rounds and
/// health probes failed during the trickle: figures, not a pass or fail.
struct TrickleBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trickle",
        abstract: "Office sync rounds and /health probes that fail while many connections trickle request heads a byte at a time.")

    @Option(help: "Trickling connections, in all.")
    var connections = 1_250

    @Option(help: "Source addresses they come from (127.0.0.2 on).")
    var addresses = 5

    @Option(help: "Seconds between two bytes of one connection's head.")
    var interval = 8.0

    @Option(help: "Seconds the office and the probes are measured, once the trickle is open.")
    var duration = 40.0

    @Option(help: "Lines added to the hub's [limits] table, ';'-separated (e.g. 'max_connections = 60;head_timeout_s = 2').")
    var limits = ""

    func run() async throws {
        guard addresses >= 1, addresses <= 250, connections >= 1 else { throw ValidationError("--addresses 1...250 and --connections >= 1") }
        // Room for the trickle's sockets here and the hub's (it inherits the limit).
        var files = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &files)
        files.rlim_cur = min(files.rlim_max, 65_536)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &files)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncbench-trickle-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let hubFile = directory.appendingPathComponent("hub.db").path
        let credential = try await HubStore(path: hubFile, district: "200").issueCredential(for: ReplicaID(rawValue: "T00001")!, scope: "unit-T00001")
        let hub = try HubProcess(
            directory: directory, name: "hub", store: "database = \"\(hubFile)\"",
            limits: limits.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n"))
        defer { hub.stop() }
        guard let port = Int(hub.url.split(separator: ":").last ?? "") else { throw ValidationError("no port in \(hub.url)") }

        let trickle = HeadTrickle(
            port: port, sources: (0..<addresses).map { "127.0.0.\($0 + 2)" }, connections: connections, interval: interval)
        let attack = Thread { trickle.run() }
        attack.start()
        // Let every trickling connection open (or be refused) before measuring.
        let opening = Date()
        while trickle.figures.open < connections && Date().timeIntervalSince(opening) < max(5, interval) {
            try await Task.sleep(for: .milliseconds(200))
        }

        let path = directory.appendingPathComponent("office.db").path
        let replica = try Replica.create(at: path, id: ReplicaID(rawValue: "T00001")!, role: .commune)
        let insert = "INSERT INTO persons(id, commune_id, full_name) VALUES (?, 'unit-T00001', 'Người thử')"
        let probes = ProbeFigures()
        let (hubURL, seconds) = (hub.url, duration)
        let prober = Thread {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                probes.record(HubProbe.check(hubURL, timeoutSeconds: 3).reachable)
                Thread.sleep(forTimeInterval: 0.5)
            }
            probes.finish()
        }
        prober.start()
        var rounds = 0
        var failedRounds: [String] = []
        let end = Date().addingTimeInterval(duration)
        while Date() < end {
            rounds += 1
            do {
                try replica.database.run(insert, [.text("p-\(rounds)")])
                // A new session each round: every round has to get a connection in.
                let session = try SyncSession(replica: replica, hubURL: hub.url, credential: credential, connectTimeoutSeconds: 5, requestTimeoutSeconds: 10)
                _ = try session.round()
            } catch {
                failedRounds.append("\(error)")
            }
            try await Task.sleep(for: .seconds(1))
        }
        probes.wait()
        let during = trickle.figures
        trickle.stop()
        let probe = probes.counts
        print("\(connections) connections from \(addresses) addresses, one head byte every \(interval) s each, against synchub on loopback"
            + (limits.isEmpty ? "" : " ([limits] \(limits))"))
        print("trickle: \(during.open) open at the end, \(during.closedByHub) closed by the hub, \(during.refused) not connected")
        print("office rounds (a new connection each): \(rounds - failedRounds.count) of \(rounds) succeeded, \(failedRounds.count) failed")
        for failure in failedRounds.prefix(3) { print("  \(failure.prefix(200))") }
        print("/health probes: \(probe.total - probe.failed) of \(probe.total) answered, \(probe.failed) failed")
        print(#"{"connections": \#(connections), "addresses": \#(addresses), "interval_s": \#(interval), "duration_s": \#(duration), "office_rounds": \#(rounds), "office_rounds_failed": \#(failedRounds.count), "health_probes": \#(probe.total), "health_probes_failed": \#(probe.failed), "closed_by_hub": \#(during.closedByHub)}"#)
    }
}

/// The attack: sockets from several loopback source addresses, each sending one byte of a
/// request head that never ends, every `interval` seconds; a socket the hub closes is opened
/// again. One thread, non-blocking sockets and `poll`.
final class HeadTrickle: @unchecked Sendable {
    // @unchecked: `run` owns the sockets on its one thread; `figures` and `stopped` are read
    // from others under `lock`.
    let port: Int
    let sources: [String]
    let connections: Int
    let interval: Double
    private let lock = NSLock()
    private var stopped = false
    private var current = (open: 0, closedByHub: 0, refused: 0)
    /// What is sent, a byte at a time: a head that a server must wait for, never finished.
    private let head = Array(("GET /health HTTP/1.1\r\nHost: hub\r\nX-Trickle: " + String(repeating: "a", count: 4_000)).utf8)

    init(port: Int, sources: [String], connections: Int, interval: Double) {
        self.port = port
        self.sources = sources
        self.connections = connections
        self.interval = interval
    }

    var figures: (open: Int, closedByHub: Int, refused: Int) { lock.withLock { current } }

    func stop() { lock.withLock { stopped = true } }

    private struct Socket {
        var descriptor: Int32 = -1
        var sent = 0
        var nextByte: Date
        /// When a socket the hub closed (or refused) is opened again.
        var reopenAt = Date.distantPast
    }

    func run() {
        var sockets = (0..<connections).map { index in
            // Spread over one interval, so the bytes arrive steadily rather than all at once.
            Socket(nextByte: Date().addingTimeInterval(interval * Double(index) / Double(connections)))
        }
        while !lock.withLock({ stopped }) {
            let now = Date()
            for index in sockets.indices where sockets[index].descriptor < 0 && sockets[index].reopenAt <= now {
                sockets[index].descriptor = open(from: sources[index % sources.count])
                sockets[index].sent = 0
                if sockets[index].descriptor < 0 {
                    lock.withLock { current.refused += 1 }
                    sockets[index].reopenAt = now.addingTimeInterval(min(1, interval))
                }
            }
            for index in sockets.indices where sockets[index].descriptor >= 0 && sockets[index].nextByte <= now {
                var byte = head[sockets[index].sent % head.count]
                if send(sockets[index].descriptor, &byte, 1, Int32(MSG_NOSIGNAL)) == 1 { sockets[index].sent += 1 }
                sockets[index].nextByte = now.addingTimeInterval(interval)
            }
            // Whatever the hub sends back or closes: a closed socket is opened again next turn.
            var polled = sockets.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            _ = poll(&polled, nfds_t(polled.count), 100)
            var buffer = [UInt8](repeating: 0, count: 4_096)
            for index in sockets.indices where polled[index].revents != 0 && sockets[index].descriptor >= 0 {
                let got = recv(sockets[index].descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if got <= 0 && !(got < 0 && errno == EAGAIN) {
                    close(sockets[index].descriptor)
                    sockets[index].descriptor = -1
                    sockets[index].reopenAt = now.addingTimeInterval(min(1, interval))
                    lock.withLock { current.closedByHub += 1 }
                }
            }
            let open = sockets.filter { $0.descriptor >= 0 }.count
            lock.withLock { current.open = open }
        }
        for socket in sockets where socket.descriptor >= 0 { close(socket.descriptor) }
    }

    /// A connection to the hub from `source`, or -1.
    private func open(from source: String) -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return -1 }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        // A hub whose backlog is full would hold connect() for long: give up after a second.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, connected == 0 else {
            close(descriptor)
            return -1
        }
        return descriptor
    }
}

/// /health probes answered or not, from the probing thread.
private final class ProbeFigures: @unchecked Sendable {
    // @unchecked: every access holds the lock; `done` is signalled once.
    private let lock = NSLock()
    private var answered = 0
    private var failures = 0
    private let done = DispatchSemaphore(value: 0)

    func record(_ ok: Bool) { lock.withLock { if ok { answered += 1 } else { failures += 1 } } }
    func finish() { done.signal() }
    func wait() { done.wait() }
    var counts: (total: Int, failed: Int) { lock.withLock { (answered + failures, failures) } }
}
