import Foundation

/// A TCP proxy on 127.0.0.1 that spoils connections to a target port while `faulty` is on:
/// new connections take the faults in turn — a slow link, a drop in the middle of the request
/// body, a reply cut short, a reset, a clean pass — with byte counts from a seeded generator.
/// Every connection ends after a kilobyte or two while faulty, so that a client's keep-alive
/// connection does not escape the faults.
public final class FaultyProxy: @unchecked Sendable {
    // @unchecked: `faulty`, `random` and `counts` are guarded by `lock`; sockets belong to their threads.
    public enum Fault: String, CaseIterable, Sendable {
        case none, delay, dropRequest, truncateReply, reset
    }

    public let port: Int
    private let targetPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var random: UInt64
    private var isFaulty = true
    private var counts: [Fault: Int] = [:]
    private var turn = 0

    public init(targetPort: Int, seed: UInt64) throws {
        self.targetPort = targetPort
        random = seed
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        // Port 0: the kernel picks a free port, read back with getsockname.
        var address = Self.loopback(0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound, listen(descriptor, 64) == 0 else { throw ClusterError("the proxy cannot listen") }
        listener = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    /// Faults on (the default) or off.
    public var faulty: Bool {
        get { lock.withLock { isFaulty } }
        set { lock.withLock { isFaulty = newValue } }
    }

    /// How many connections got each fault.
    public var faultCounts: [Fault: Int] { lock.withLock { counts } }

    private func draw() -> (Fault, Int) {
        lock.withLock {
            random = random &* 6364136223846793005 &+ 1442695040888963407
            let order: [Fault] = [.delay, .dropRequest, .truncateReply, .reset, .none]
            let fault = isFaulty ? order[turn % order.count] : .none
            if isFaulty { turn += 1 }
            counts[fault, default: 0] += 1
            return (fault, Int((random >> 13) % 1500) + 1)
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { continue }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(targetPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(upstream)
                close(client)
                continue
            }
            let (fault, bytes) = draw()
            if fault == .reset {
                var linger = Foundation.linger(l_onoff: 1, l_linger: 0)
                setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Foundation.linger>.size))
                close(client)
                close(upstream)
                continue
            }
            let closer = Closer(client, upstream)
            // While faulty, even a slow or clean connection ends after a kilobyte or two of reply.
            let replyLimit = fault == .truncateReply ? bytes : (faulty ? 512 + bytes : nil)
            Thread { Self.pump(from: client, to: upstream, limit: fault == .dropRequest ? bytes : nil, delay: fault == .delay, closer) }.start()
            Thread { Self.pump(from: upstream, to: client, limit: replyLimit, delay: false, closer) }.start()
        }
    }

    private static func pump(from source: Int32, to target: Int32, limit: Int?, delay: Bool, _ closer: Closer) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var forwarded = 0
        while true {
            let count = read(source, &buffer, limit.map { min(buffer.count, $0 - forwarded) } ?? buffer.count)
            if count <= 0 { break }
            if delay { Thread.sleep(forTimeInterval: 0.3) }
            if write(target, buffer, count) != count { break }
            forwarded += count
            if let limit, forwarded >= limit { break }
        }
        closer.close()
    }

    private static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return address
    }
}

/// Closes both ends of a proxied connection once, whichever direction ends first.
private final class Closer: @unchecked Sendable {
    // @unchecked: guarded by the lock.
    private let lock = NSLock()
    private var sockets: [Int32]?

    init(_ first: Int32, _ second: Int32) { sockets = [first, second] }

    func close() {
        let toClose: [Int32] = lock.withLock {
            defer { sockets = nil }
            return sockets ?? []
        }
        for descriptor in toClose {
            shutdown(descriptor, Int32(SHUT_RDWR))
            Foundation.close(descriptor)
        }
    }
}
