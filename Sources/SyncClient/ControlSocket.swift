import Foundation

/// The daemon's local control socket (a Unix socket): `syncctl` sends one line, `status` or
/// `sync`, and reads one JSON line back. Only local users who may open the socket file can
/// ask (its directory's permissions decide).
public enum ControlSocket {
    public enum Failure: Error, CustomStringConvertible {
        case unavailable(String)
        public var description: String {
            if case .unavailable(let detail) = self { return detail }
            return ""
        }
    }

    /// Asks the daemon listening at `path`; throws `unavailable` if none does.
    public static func ask(_ command: String, at path: String, timeoutSeconds: Int = 120) throws -> Data {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure.unavailable("cannot create a socket") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = try unixAddress(path)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw Failure.unavailable("no daemon answers at \(path)") }
        let line = Array((command + "\n").utf8)
        guard write(descriptor, line, line.count) == line.count else { throw Failure.unavailable("cannot write to \(path)") }
        var reply = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            reply.append(contentsOf: buffer[..<count])
        }
        return reply
    }

    /// Serves the socket at `path` on a thread of its own, answering each line with `answer`.
    public static func serve(at path: String, _ answer: @escaping @Sendable (String) -> Data) throws {
        unlink(path)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure.unavailable("cannot create a socket") }
        var address = try unixAddress(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(descriptor, 8) == 0 else {
            close(descriptor)
            throw Failure.unavailable("cannot listen at \(path) (\(String(cString: strerror(errno)))): check that its directory exists and is writable")
        }
        chmod(path, 0o660)
        Thread {
            while true {
                let client = accept(descriptor, nil, nil)
                if client < 0 { continue }
                var buffer = [UInt8](repeating: 0, count: 256)
                let count = read(client, &buffer, buffer.count)
                let command = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
                let reply = Array(answer(command)) + [10]
                _ = reply.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                close(client)
            }
        }.start()
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
