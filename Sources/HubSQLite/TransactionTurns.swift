import HubCore
import Synchronization

/// Turns on one database connection, handed out first come, first served: a transaction
/// holds the turn from BEGIN to COMMIT, even while its body waits for something, so two
/// transactions never share the connection whoever calls them and on whatever thread.
final class TransactionTurns: Sendable {
    private struct State {
        var taken = false
        var waiting: [CheckedContinuation<Void, Never>] = []
        var first = 0
    }
    private let state = Mutex(State())

    /// The turns the current task holds: a transaction begun inside another of the same
    /// connection would wait for itself forever, so it is stopped at once instead.
    @TaskLocal private static var held: [ObjectIdentifier] = []

    /// Runs `body` in a turn of its own, after the turns asked for before it.
    nonisolated(nonsending) func inTurn<T>(_ body: nonisolated(nonsending) () async throws -> T) async throws -> T {
        precondition(!Self.held.contains(ObjectIdentifier(self)), "a transaction began inside another on the same connection")
        await take()
        defer { give() }
        return try await Self.$held.withValue(Self.held + [ObjectIdentifier(self)]) { try await body() }
    }

    private nonisolated(nonsending) func take() async {
        let free = state.withLock { state in
            guard state.taken else { state.taken = true; return true }
            return false
        }
        if free { return }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                guard state.taken else { state.taken = true; return true }
                state.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func give() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.first < state.waiting.count else {
                state.taken = false
                state.waiting.removeAll(keepingCapacity: true)
                state.first = 0
                return nil
            }
            defer { state.first += 1 }
            return state.waiting[state.first]
        }
        // The turn passes straight to the next in line: `taken` stays set.
        next?.resume()
    }
}
