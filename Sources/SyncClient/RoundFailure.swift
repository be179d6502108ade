import Foundation
import Replica

/// What kind of failure ended a sync round, for `syncctl` to say it in the office's language
/// with what to do (the detail, in English, goes beside it where it adds something). syncd
/// keeps it with the round (`DaemonStatus.lastErrorKind`).
public enum RoundFailure: String, Codable, Sendable, CaseIterable {
    /// No answer: the link, or the hub is down.
    case unreachable
    /// The hub's certificate could not be trusted, or plain http to another computer.
    case untrustedHub = "untrusted_hub"
    case insecureHub = "insecure_hub"
    /// The hub did not accept this office's credential.
    case credentialRefused = "credential_refused"
    case forbidden
    /// The office and the hub run register versions that cannot sync together.
    case versionMismatch = "version_mismatch"
    /// This computer's clock runs ahead of the hub's.
    case clockAhead = "clock_ahead"
    /// The commune's unit ended in a reorganisation.
    case unitEnded = "unit_ended"
    case tooLarge = "too_large"
    /// The hub answered something that could not be read.
    case badReply = "bad_reply"
    /// The disk holding the data file is full.
    case diskFull = "disk_full"
    case other

    public init(_ error: any Error) {
        if let error = error as? SQLiteError, error.primaryCode == 13 {  // SQLITE_FULL
            self = .diskFull
            return
        }
        guard let error = error as? SyncError else {
            self = .other
            return
        }
        switch error {
        case .unreachable: self = .unreachable
        case .untrustedHub: self = .untrustedHub
        case .insecureHub: self = .insecureHub
        case .badReply: self = .badReply
        case .cannotBootstrap: self = .other
        case .refused(let status, let code, _):
            switch (status, code) {
            case (401, _): self = .credentialRefused
            case (403, _): self = .forbidden
            case (413, _): self = .tooLarge
            case (_, "version_mismatch"): self = .versionMismatch
            case (_, "clock_ahead"): self = .clockAhead
            case (_, "unit_ended"): self = .unitEnded
            default: self = .other
            }
        }
    }
}
