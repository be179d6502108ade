import HubCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes
import SyncConfig

/// Every open connection of the hub, and which of them proved themselves: a connection on
/// which a request presented a valid credential is *trusted* (an office syncing, a reviewer
/// using the API); any other is not yet.
///
/// Connections are kept below `max_connections` in all and `max_connections_per_address`
/// from one address, so that sockets can never take the file descriptors the hub needs. When
/// the hub holds as many as it may, a new connection is not turned away: the untrusted
/// connection that has been waiting longest (a head still trickling in, or an anonymous
/// client keeping an idle connection) is closed to make room, and a trusted one never is. So
/// however many anonymous connections trickle in, an office that presents its credential
/// gets in and stays, and `/health` is answered: capacity is kept for those who prove who
/// they are.
public final class ConnectionTable: Sendable {
    let limits: HubLimits
    let logger: Logger

    private struct Entry {
        let channel: any Channel
        let address: String
        var trusted = false
        /// A request is being read or answered on it.
        var busy = false
        /// Since when it has been waiting (for its head, or idle between requests).
        var since: NIODeadline
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var byAddress: [String: Int] = [:]
        /// Untrusted connections closed to make room, and connections refused, since the last log line.
        var shed = 0
        var refused = 0
        var lastTold: NIODeadline?
    }

    private let state = NIOLockedValueBox(State())
    /// A burst of shed or refused connections is logged once per this interval, not per connection.
    static let tellEvery = TimeAmount.seconds(10)

    init(limits: HubLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Takes a place for `channel` from `address`, closing the longest-waiting untrusted
    /// connection when every place is taken; false when the address holds its share already
    /// or every connection is trusted (the caller closes `channel` then).
    func admit(_ channel: any Channel, address: String, now: NIODeadline = .now()) -> Bool {
        let (admitted, victim, tell) = state.withLockedValue { state -> (Bool, (any Channel)?, (shed: Int, refused: Int)?) in
            var victim: (any Channel)?
            var admitted = state.byAddress[address, default: 0] < limits.maxConnectionsPerAddress
            if admitted && state.entries.count >= limits.maxConnections {
                // Waiting longest first; a connection in the middle of a request only after every idle one.
                let candidate = state.entries.filter { !$0.value.trusted }
                    .min { ($0.value.busy ? 1 : 0, $0.value.since) < ($1.value.busy ? 1 : 0, $1.value.since) }
                if let candidate {
                    remove(candidate.key, in: &state)
                    victim = candidate.value.channel
                    state.shed += 1
                } else {
                    admitted = false
                }
            }
            if admitted {
                state.entries[ObjectIdentifier(channel)] = Entry(channel: channel, address: address, since: now)
                state.byAddress[address, default: 0] += 1
            } else {
                state.refused += 1
            }
            guard state.shed + state.refused > 0, state.lastTold.map({ now - $0 >= Self.tellEvery }) ?? true else {
                return (admitted, victim, nil)
            }
            defer { (state.shed, state.refused, state.lastTold) = (0, 0, now) }
            return (admitted, victim, (state.shed, state.refused))
        }
        victim?.close(promise: nil)
        if let tell {
            logger.warning("connections full: untrusted ones closed to make room, or refused", metadata: [
                "closed": "\(tell.shed)", "refused": "\(tell.refused)", "latest_peer": "\(address)",
                "max_connections": "\(limits.maxConnections)", "max_connections_per_address": "\(limits.maxConnectionsPerAddress)"])
        }
        return admitted
    }

    /// The connection closed (or was closed to make room).
    func remove(_ channel: ObjectIdentifier) {
        state.withLockedValue { remove(channel, in: &$0) }
    }

    private func remove(_ channel: ObjectIdentifier, in state: inout State) {
        guard let entry = state.entries.removeValue(forKey: channel) else { return }
        state.byAddress[entry.address, default: 1] -= 1
        if state.byAddress[entry.address] == 0 { state.byAddress[entry.address] = nil }
    }

    /// A request on `channel` presented a valid credential: it is never closed to make room.
    func trust(_ channel: ObjectIdentifier) {
        state.withLockedValue { $0.entries[channel]?.trusted = true }
    }

    /// A request began (its head arrived) or ended on `channel`.
    func mark(_ channel: ObjectIdentifier, busy: Bool, now: NIODeadline = .now()) {
        state.withLockedValue { state in
            state.entries[channel]?.busy = busy
            if !busy { state.entries[channel]?.since = now }
        }
    }

    /// Connections open now, and of them trusted.
    var counts: (open: Int, trusted: Int) {
        state.withLockedValue { ($0.entries.count, $0.entries.values.filter(\.trusted).count) }
    }
}

/// Watches one connection for the hub: takes its place in the `ConnectionTable` when it
/// opens (closing it at once when there is none), and closes it when a request head has
/// not arrived whole within `head_timeout_s` of its first byte (or of the connection opening):
/// a head trickled in a byte at a time cannot hold a connection for longer than that,
/// whatever the idle timeout. A connection idle between requests sends no bytes and is left
/// to the idle timeout.
///
/// Sits after the HTTP decoder (it sees whole heads) and puts a `FirstBytes` handler at the
/// very front of the pipeline (it sees raw bytes, before TLS too).
final class HeadDeadline: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    // @unchecked: its state is touched only on its channel's event loop (the handler
    // callbacks, `bytesArrived` from `FirstBytes` on the same pipeline, and its scheduled task).
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let table: ConnectionTable
    let timeout: TimeAmount
    private var admitted: ObjectIdentifier?
    private var waitingForHead = false
    private var inRequest = false
    private var deadline: Scheduled<Void>?

    init(table: ConnectionTable, timeout: TimeAmount) {
        self.table = table
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        guard table.admit(channel, address: channel.remoteAddress?.ipAddress ?? "unknown") else {
            context.close(promise: nil)
            return
        }
        admitted = ObjectIdentifier(channel)
        try? context.pipeline.syncOperations.addHandler(FirstBytes(watcher: self), position: .first)
        // The first head is due from the moment the connection opened (a TLS handshake included).
        startWaiting(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if let admitted { table.remove(admitted) }
        admitted = nil
    }

    /// Bytes came in: when no request is in progress, they begin a head, due within `timeout`.
    func bytesArrived(context: ChannelHandlerContext) {
        guard !inRequest, !waitingForHead, admitted != nil else { return }
        startWaiting(context: context)
    }

    private func startWaiting(context: ChannelHandlerContext) {
        waitingForHead = true
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { [weak self] in
            guard let self, self.waitingForHead else { return }
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            waitingForHead = false
            inRequest = true
            deadline?.cancel()
            deadline = nil
            if let admitted { table.mark(admitted, busy: true) }
        case .body:
            break
        case .end:
            inRequest = false
            if let admitted { table.mark(admitted, busy: false) }
        }
        context.fireChannelRead(data)
    }
}

/// The front of a connection's pipeline: tells its `HeadDeadline` that bytes came in,
/// before any decoding (so a head still incomplete counts), and passes them on untouched.
final class FirstBytes: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    // @unchecked: used only on its channel's event loop, like the `HeadDeadline` it holds.
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let watcher: HeadDeadline

    init(watcher: HeadDeadline) { self.watcher = watcher }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        watcher.bytesArrived(context: context)
        context.fireChannelRead(data)
    }
}
