import HubCore
import NIOCore

/// The TCP connection a request came on, asked whether its client is still there: the
/// channel still open and, on Linux, the socket still ESTABLISHED (`TCP_INFO`). A client
/// that died or closed its end leaves the socket in CLOSE_WAIT (or closed, after a reset)
/// even while nothing reads from it, so this holds while the hub is busy with its request.
struct ClientConnection: Sendable {
    let channel: any Channel

    func isOpen() async -> Bool {
        guard channel.isActive else { return false }
        #if os(Linux)
        guard let socket = channel as? any SocketOptionProvider,
            let info = try? await socket.getTCPInfo().get()
        else { return true }  // not a TCP socket (tests' embedded channels): taken as open
        return info.tcpi_state == 1  // TCP_ESTABLISHED (netinet/tcp.h)
        #else
        return true
        #endif
    }
}
