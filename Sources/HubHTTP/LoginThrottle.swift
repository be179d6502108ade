import HubCore
import Foundation
import NIOConcurrencyHelpers

/// Slows down guessing at the review desk's login: after `maxFailures` wrong credentials
/// within `window` seconds from one address, or for one reviewer name (the part of a
/// credential before its dot), every login from that address or for that name is refused
/// with 429 until the window has passed, a right credential included (otherwise the guessing
/// would go on at full speed). The log hears of a burst twice at most: its first wrong
/// credential (`failed` answers true) and the moment it is throttled (`Verdict.startsBurst`),
/// so 300 tries a second make two lines, not 300.
///
/// Per address stops one machine trying many names; per name stops many machines trying one
/// name. Both tables are pruned as they are used and kept below `maxKeys` entries, so random
/// names cannot grow the hub's memory.
final class LoginThrottle: Sendable {
    let maxFailures: Int
    let window: TimeInterval
    static let maxKeys = 10_000

    private struct Tally {
        var failures: Int
        var since: Date
        /// A refusal of this burst was logged already.
        var told: Bool
    }

    private struct Tallies {
        var byAddress: [String: Tally] = [:]
        var byName: [String: Tally] = [:]
    }

    private let tallies = NIOLockedValueBox(Tallies())

    init(maxFailures: Int = 10, window: TimeInterval = 60) {
        self.maxFailures = maxFailures
        self.window = window
    }

    /// Whether a login may be tried now.
    enum Verdict: Equatable {
        case allowed
        /// Refused for `retryAfter` seconds; `startsBurst` the first time this burst is refused.
        case throttled(retryAfter: Int, startsBurst: Bool, by: String)
    }

    /// Asks before checking a credential for `name` from `address`.
    func check(address: String, name: String, now: Date = Date()) -> Verdict {
        tallies.withLockedValue { tallies in
            refusal(&tallies.byAddress, address, "address \(address)", now: now)
                ?? refusal(&tallies.byName, name, "reviewer name \(name)", now: now) ?? .allowed
        }
    }

    private func refusal(_ table: inout [String: Tally], _ key: String, _ what: String, now: Date) -> Verdict? {
        guard let tally = table[key], now.timeIntervalSince(tally.since) < window, tally.failures >= maxFailures else { return nil }
        table[key]!.told = true
        let left = window - now.timeIntervalSince(tally.since)
        return .throttled(retryAfter: max(1, Int(left.rounded(.up))), startsBurst: !tally.told, by: what)
    }

    /// Counts a wrong credential for `name` from `address`; true when it is the first from
    /// that address in its window (the one worth a log line).
    @discardableResult
    func failed(address: String, name: String, now: Date = Date()) -> Bool {
        tallies.withLockedValue { tallies in
            let first = tallies.byAddress[address].map { now.timeIntervalSince($0.since) >= window } ?? true
            func count(_ table: inout [String: Tally], _ key: String) {
                if table.count >= Self.maxKeys { table = table.filter { now.timeIntervalSince($0.value.since) < window } }
                if table.count >= Self.maxKeys { table.removeAll() }
                if let tally = table[key], now.timeIntervalSince(tally.since) < window {
                    table[key]!.failures = tally.failures + 1
                } else {
                    table[key] = Tally(failures: 1, since: now, told: false)
                }
            }
            count(&tallies.byAddress, address)
            count(&tallies.byName, name)
            return first
        }
    }
}
