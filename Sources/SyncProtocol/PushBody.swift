import SyncCore

/// What the hub does with the bytes of a push before its store sees them: inflate and decode
/// the body (`WireBody`), expand the compact change groups, and refuse any group that is not
/// well-formed on the wire. The hub's push route and the push fuzz target (Tests/Fuzz) both
/// go through `changes(from:contentEncoding:maxExpandedBytes:)`, so what is fuzzed is what
/// is served. Whether the changes are the sender's to make is the store's to judge.
public enum PushBody {
    /// Counters, stamps and context entries are kept in SQLite as signed 64-bit integers.
    public static let maxCounter = UInt64(Int64.max)

    public static func changes(from bytes: [UInt8], contentEncoding: String?, maxExpandedBytes: Int) throws(WireBody.Failure) -> [Change] {
        let request = try WireBody.decode(PushRequest.self, from: bytes, contentEncoding: contentEncoding, maxExpandedBytes: maxExpandedBytes)
        var changes: [Change] = []
        for group in request.changes { changes += try group.checkedChanges() }
        return changes
    }
}

extension ChangeGroup {
    /// The changes of this group, or why it is not well-formed: a bad origin or context, an
    /// empty write list, a counter or stamp outside what the hub can store.
    public func checkedChanges() throws(WireBody.Failure) -> [Change] {
        let name = "the change group of \(t)/\(r) from '\(o)'"
        guard ReplicaID(rawValue: o) != nil else {
            throw .malformed("\(name) has a malformed origin: a replica id is 1 to 64 letters, digits, '.', '-' or '_'")
        }
        guard Self.isWireVector(x) else {
            throw .malformed("\(name) has a malformed context '\(x)': it must be 'replica:counter' entries separated by single spaces, counters at most \(PushBody.maxCounter)")
        }
        guard h <= PushBody.maxCounter else {
            throw .malformed("\(name) has the stamp \(h), above \(PushBody.maxCounter): the sender's clock is broken")
        }
        guard !w.isEmpty else { throw .malformed("\(name) has no writes: send at least one, or leave the group out") }
        for write in w where write.counter == 0 || write.counter > PushBody.maxCounter {
            throw .malformed("\(name) has a write with counter \(write.counter): counters run from 1 to \(PushBody.maxCounter)")
        }
        guard let changes = changes() else { throw .malformed("\(name) has a malformed origin or context") }
        return changes
    }

    /// `replica:counter` entries separated by single spaces, each counter 1 to 19 digits and
    /// at most `PushBody.maxCounter`; the empty string is the empty vector. (The form
    /// `VersionVector.description` writes, without requiring its order.)
    static func isWireVector(_ text: String) -> Bool {
        guard !text.isEmpty else { return true }
        return text.split(separator: " ", omittingEmptySubsequences: false).allSatisfy { entry in
            guard let colon = entry.firstIndex(of: ":"), ReplicaID(rawValue: String(entry[..<colon])) != nil else { return false }
            let digits = entry[entry.index(after: colon)...]
            guard (1...19).contains(digits.utf8.count), digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                let counter = UInt64(digits)
            else { return false }
            return counter <= PushBody.maxCounter
        }
    }
}
