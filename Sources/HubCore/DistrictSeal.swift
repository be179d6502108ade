import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SyncCore

/// The hub's seal on the district's changes: an HMAC-SHA256 under a key kept beside the hub's
/// database (`district.key`), not in it. An office keeps each district change it pulls with
/// its seal; when the hub is put back from an older copy, the office gives the changes back,
/// and the seal proves they are the district's own, not something an office made up under
/// the district's name. The key file outlives a restore of the database: keep it out of
/// the copy that is put back, or put back the same key.
public struct DistrictSeal: Sendable {
    /// The key's bytes (swift-crypto's `SymmetricKey` is not `Sendable`; one is made per use).
    private let bytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: bytes) }

    /// A seal under the key `bytes` (32 of them).
    public init(key bytes: [UInt8]) { self.bytes = bytes }

    /// The key in the file at `path`, created (32 random bytes, hex, readable by its owner
    /// only) when there is none.
    public static func load(orCreateAt path: String) throws -> DistrictSeal {
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let hex = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard hex.count == 64, let bytes = Self.bytes(hex: hex) else {
                throw HubError(status: 500, code: "bad_district_key",
                               message: "\(path) is not a district seal key (64 hex digits): put back the hub's own key file, or move it away to make a new one")
            }
            return DistrictSeal(key: bytes)
        }
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        // Made readable by its owner only from the start, never by another start at the same time.
        let file = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard file >= 0 else {
            if errno == EEXIST { return try load(orCreateAt: path) }
            throw HubError(status: 500, code: "bad_district_key", message: "cannot make the district seal key at \(path): check the directory's permissions")
        }
        defer { close(file) }
        let text = Array((hex + "\n").utf8)
        guard write(file, text, text.count) == text.count, fsync(file) == 0 else {
            throw HubError(status: 500, code: "bad_district_key", message: "cannot write the district seal key at \(path): check the disk")
        }
        return DistrictSeal(key: bytes)
    }

    /// The seal of `change` (base64).
    public func seal(_ change: Change) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Self.canonical(change), using: key)).base64EncodedString()
    }

    /// The seals of `district`'s changes among `changes`, by counter in decimal; nil for none.
    public func seals(of changes: [Change], district: ReplicaID) -> [String: String]? {
        var seals: [String: String] = [:]
        for change in changes where change.dot.replica == district { seals[String(change.dot.counter)] = seal(change) }
        return seals.isEmpty ? nil : seals
    }

    /// Whether `seal` is this hub's seal of `change`.
    public func verify(_ seal: String, of change: Change) -> Bool {
        guard let code = Data(base64Encoded: seal) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: Self.canonical(change), using: key)
    }

    /// Every part of a change, each with its length first, so no two changes read alike.
    static func canonical(_ change: Change) -> Data {
        let value: String
        switch change.operation.value {
        case nil: value = "d"
        case .null?: value = "n"
        case .integer(let number)?: value = "i\(number)"
        case .real(let number)?: value = "r\(number.bitPattern)"
        case .text(let text)?: value = "t" + text
        }
        let parts = [change.dot.replica.rawValue, String(change.dot.counter), change.table, change.row, change.column ?? "",
                     value, String(change.timestamp.rawValue), change.compactContext.text]
        return Data(parts.map { "\($0.utf8.count):\($0)" }.joined(separator: "|").utf8)
    }

    private static func bytes(hex: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
