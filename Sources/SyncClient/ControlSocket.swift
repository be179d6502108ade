import Foundation

/// The daemon's local control socket (a Unix socket): `syncctl` sends one line, `status` or
/// `sync`, and reads one JSON line back.
///
/// What it promises the daemon, whatever a client does:
/// - a client that disconnects early never kills it (no SIGPIPE: replies are sent with
///   `MSG_NOSIGNAL`);
/// - a client that connects and says nothing is dropped after `clientTimeoutSeconds`, and
///   never delays anyone else (each client is answered on a thread of its own, at most
///   `maxClients` at once; more are turned away with an error line);
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
        guard bound == 0, listen(descriptor, 16) == 0 else {
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

        func acceptLoop() {
            while true {
                let client = accept(descriptor, nil, nil)
                if client < 0 {
                    if lock.withLock({ stopped }) { return }
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    // EMFILE and the like: wait a little instead of spinning.
                    usleep(100_000)
                    continue
                }
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                let admitted = lock.withLock { () -> Bool in
                    guard clients < ControlSocket.maxClients else { return false }
                    clients += 1
                    return true
                }
                guard admitted else {
                    ControlSocket.reply(client, Data(#"{"error": "busy: too many clients at once; try again"}"#.utf8))
                    close(client)
                    continue
                }
                Thread { [self] in
                    serve(client)
                    close(client)
                    lock.withLock { clients -= 1 }
                }.start()
            }
        }

        private func serve(_ client: Int32) {
            ControlSocket.setTimeouts(client, seconds: ControlSocket.clientTimeoutSeconds)
            guard let peer = ControlSocket.peer(of: client) else { return }
            guard isAllowed(peer) else {
                ControlSocket.reply(client, Data(#"{"error": "not allowed: only root, the syncd user and the office writers group may ask syncd"}"#.utf8))
                return
            }
            // One line of at most 256 bytes; a client that sends nothing times out.
            var buffer = [UInt8](repeating: 0, count: 256)
            var count = 0
            while count < buffer.count {
                let got = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress! + count, $0.count - count) }
                if got <= 0 { break }
                count += got
                if buffer[..<count].contains(10) { break }
            }
            guard count > 0 else { return }
            let command = String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            ControlSocket.reply(client, answer(command))
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
