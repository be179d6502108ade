import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's local control socket (a Unix socket): `syncctl` sends one line, `status` or
/// `sync`, and reads one JSON line back.
///
/// What it promises the daemon, whatever a client does:
/// - a client that disconnects early never kills it (no SIGPIPE: replies are sent with
///   `MSG_NOSIGNAL`);
/// - a client that connects and says nothing is dropped after `clientTimeoutSeconds`, and
///   never delays anyone else: one thread waits for every client's line at once (`poll`), so
///   any number of silent clients cost no answering place; a client that has sent its line is
///   answered on a thread of its own, at most `maxClients` at once (more are turned away with
///   an error line);
/// - only root, the daemon's own user and members of the socket file's group (the office
///   writers) are answered: the peer's credentials are checked (`SO_PEERCRED`), so a socket
///   file with the wrong mode does not open the daemon to everyone.
public enum ControlSocket {
    public enum Failure: Error, CustomStringConvertible {
        case unavailable(String)
        public var description: String {
            if case .unavailable(let detail) = self { return detail }
            return ""
        }
    }

    /// Seconds a client has to send its command line, and to take the reply.
    public static let clientTimeoutSeconds = 5
    /// Clients answered at the same time.
    public static let maxClients = 16
    /// Clients connected that have not sent their line yet, at most; past it the one waiting
    /// longest is let go.
    public static let maxWaiting = 256

    /// Asks the daemon listening at `path`; throws `unavailable` if none does.
    public static func ask(_ command: String, at path: String, timeoutSeconds: Int = 120) throws -> Data {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure.unavailable("cannot create a socket") }
        defer { close(descriptor) }
        setTimeouts(descriptor, seconds: timeoutSeconds)
        var address = try unixAddress(path)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let why = errno == EACCES ? " (permission denied: add this user to the office writers group, communesync-writers)" : ""
            throw Failure.unavailable("no daemon answers at \(path)\(why)")
        }
        let line = Array((command + "\n").utf8)
        guard send(descriptor, line, line.count, Int32(MSG_NOSIGNAL)) == line.count else { throw Failure.unavailable("cannot write to \(path)") }
        var reply = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            reply.append(contentsOf: buffer[..<count])
        }
        return reply
    }

    /// Whether a daemon answers at `path` right now (a socket file left behind by one that
    /// died does not count).
    public static func isAnswered(at path: String) -> Bool {
        (try? ask("status", at: path, timeoutSeconds: clientTimeoutSeconds)).map { !$0.isEmpty } ?? false
    }

    /// Serves the socket at `path`, answering each client's line with `answer`. Returns the
    /// listener; `stop()` it to close the socket and remove its file.
    public static func serve(at path: String, _ answer: @escaping @Sendable (String) -> Data) throws -> Listener {
        unlink(path)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure.unavailable("cannot create a socket") }
        var address = try unixAddress(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(descriptor, 128) == 0 else {
            let why = String(cString: strerror(errno))
            close(descriptor)
            throw Failure.unavailable("cannot listen at \(path) (\(why)): check that its directory exists and is writable by this user")
        }
        // The socket file's group is the directory's (systemd's RuntimeDirectory: the service
        // group); connecting takes write permission on it.
        chmod(path, 0o660)
        let listener = Listener(path: path, descriptor: descriptor, answer: answer)
        Thread { listener.acceptLoop() }.start()
        return listener
    }

    /// A listening control socket.
    public final class Listener: @unchecked Sendable {
        // @unchecked: `descriptor` and `path` never change; `clients` and `stopped` are only
        // touched under `lock`.
        let path: String
        let descriptor: Int32
        let answer: @Sendable (String) -> Data
        private let lock = NSLock()
        private var clients = 0
        private var stopped = false
        private let allowedGroup: gid_t

        init(path: String, descriptor: Int32, answer: @escaping @Sendable (String) -> Data) {
            self.path = path
            self.descriptor = descriptor
            self.answer = answer
            var info = stat()
            allowedGroup = stat(path, &info) == 0 ? info.st_gid : getegid()
        }

        /// Closes the socket and removes its file, so nothing is left for a later start to
        /// mistake for a running daemon.
        public func stop() {
            let first = lock.withLock { () -> Bool in
                defer { stopped = true }
                return !stopped
            }
            guard first else { return }
            shutdown(descriptor, Int32(SHUT_RDWR))
            close(descriptor)
            unlink(path)
        }

        /// One thread waits for every client at once (`poll`): a client costs a thread only
        /// once it has sent its line, so clients that connect and say nothing, however many,
        /// never keep another from its answer. They are dropped after `clientTimeoutSeconds`,
        /// and beyond `maxWaiting` of them the longest waiting goes first.
        func acceptLoop() {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            var waiting: [Waiting] = []
            while !lock.withLock({ stopped }) {
                var polled = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
                    + waiting.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
                let ready = poll(&polled, nfds_t(polled.count), 250)
                if ready < 0 && errno != EINTR { usleep(100_000) }
                let now = Date()
                var kept: [Waiting] = []
                for (index, client) in waiting.enumerated() {
                    var client = client
                    let events = polled[index + 1].revents
                    if events != 0, let line = client.read() {
                        hand(client.descriptor, line)
                    } else if events != 0 && client.ended || now.timeIntervalSince(client.since) > Double(ControlSocket.clientTimeoutSeconds) {
                        close(client.descriptor)
                    } else {
                        kept.append(client)
                    }
                }
                waiting = kept
                if polled[0].revents != 0 { waiting += acceptAll(now: now) }
                while waiting.count > ControlSocket.maxWaiting { close(waiting.removeFirst().descriptor) }
            }
            for client in waiting { close(client.descriptor) }
        }

        /// A client that has not sent its whole line yet.
        private struct Waiting {
            let descriptor: Int32
            let since: Date
            var buffer: [UInt8] = []
            /// It closed its side, or reading failed.
            var ended = false

            /// Reads what has arrived; the line once it is whole (or 256 bytes, or the client
            /// closed after sending something).
            mutating func read() -> String? {
                var chunk = [UInt8](repeating: 0, count: 256 - buffer.count)
                let got = Glibc.read(descriptor, &chunk, chunk.count)
                if got <= 0 {
                    if got == 0 || (errno != EAGAIN && errno != EINTR) { ended = true }
                    return ended && !buffer.isEmpty ? String(decoding: buffer, as: UTF8.self) : nil
                }
                buffer += chunk[..<got]
                guard buffer.contains(10) || buffer.count >= 256 else { return nil }
                return String(decoding: buffer, as: UTF8.self)
            }
        }

        /// Accepts every connection waiting at the socket; a peer that may not ask is answered
        /// so at once and let go.
        private func acceptAll(now: Date) -> [Waiting] {
            var accepted: [Waiting] = []
            while true {
                let client = accept(descriptor, nil, nil)
                if client < 0 { return accepted }  // EAGAIN: none left (or EMFILE: next round)
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                guard let peer = ControlSocket.peer(of: client), isAllowed(peer) else {
                    ControlSocket.reply(client, Data(#"{"error": "not allowed: only root, the syncd user and the office writers group may ask syncd"}"#.utf8))
                    close(client)
                    continue
                }
                _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
                accepted.append(Waiting(descriptor: client, since: now))
            }
        }

        /// Answers a client's line on a thread of its own (a `sync` takes a while), at most
        /// `maxClients` at once; more are told to try again.
        private func hand(_ client: Int32, _ line: String) {
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) & ~O_NONBLOCK)
            ControlSocket.setTimeouts(client, seconds: ControlSocket.clientTimeoutSeconds)
            let admitted = lock.withLock { () -> Bool in
                guard clients < ControlSocket.maxClients else { return false }
                clients += 1
                return true
            }
            guard admitted else {
                ControlSocket.reply(client, Data(#"{"error": "busy: too many clients at once; try again"}"#.utf8))
                close(client)
                return
            }
            let command = line.trimmingCharacters(in: .whitespacesAndNewlines)
            Thread { [self] in
                ControlSocket.reply(client, answer(command))
                close(client)
                lock.withLock { clients -= 1 }
            }.start()
        }

        private func isAllowed(_ peer: PeerCredentials) -> Bool {
            if peer.uid == 0 || peer.uid == geteuid() || peer.gid == allowedGroup { return true }
            return ControlSocket.groups(of: peer.uid).contains(allowedGroup)
        }
    }

    static func reply(_ client: Int32, _ data: Data) {
        let bytes = Array(data) + [10]
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return }  // the client left or stopped reading: its loss alone
            sent += count
        }
    }

    static func setTimeouts(_ descriptor: Int32, seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Linux's `struct ucred` (pid, uid, gid), which Glibc hides behind `_GNU_SOURCE`.
    struct PeerCredentials {
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
    }

    static func peer(of client: Int32) -> PeerCredentials? {
        var credentials = PeerCredentials()
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        return getsockopt(client, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 ? credentials : nil
    }

    /// The supplementary groups of the user `uid`, from the group database.
    static func groups(of uid: uid_t) -> [gid_t] {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return [] }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, entry.pointee.pw_gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(name, entry.pointee.pw_gid, &groups, &count)
        }
        return Array(groups.prefix(Int(max(count, 0))))
    }

    private static func unixAddress(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw Failure.unavailable("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }
}
