import Foundation

/// The assignments active on a date as the staffing figures need them, small enough to read
/// for a national register: most of them only counted, by the unit of their seat and its
/// title, and in full only those whose count is not a plain sum — of a person holding more
/// than one that day (a person counts once per line), or named by a review item still open
/// (a line says which items touch it).
///
/// A store builds it where counting is cheapest (PostgreSQL in one query; SQLite by reading
/// two tables through `Builder`), and `RegisterReports.staffing` reads it the same from both.
public struct SeatTally: Sendable, Equatable {
    /// A seat's unit (units.id) and title (titles.id).
    public struct Seat: Hashable, Sendable {
        public let unit, title: String
        public init(unit: String, title: String) { (self.unit, self.title) = (unit, title) }
    }

    /// An active assignment kept whole.
    public struct Holding: Equatable, Sendable {
        public let assignment, person, position: String
        public let seat: Seat
        public init(assignment: String, person: String, position: String, seat: Seat) {
            (self.assignment, self.person, self.position, self.seat) = (assignment, person, position, seat)
        }
    }

    /// The ids open review items name (`ConflictRecord.namedRows`), by the table they are of:
    /// the assignments of such rows are kept whole.
    public struct Named: Sendable {
        public var assignments: Set<String> = []
        public var persons: Set<String> = []
        public var positions: Set<String> = []

        public init(_ namedRows: [Set<String>]) {
            for rows in namedRows {
                for row in rows {
                    guard let slash = row.firstIndex(of: "/") else { continue }
                    let id = String(row[row.index(after: slash)...])
                    switch row[..<slash] {
                    case "assignments": assignments.insert(id)
                    case "persons": persons.insert(id)
                    case "positions": positions.insert(id)
                    default: break
                    }
                }
            }
        }

        public var isEmpty: Bool { assignments.isEmpty && persons.isEmpty && positions.isEmpty }

        func names(assignment: String, person: String, position: String) -> Bool {
            !isEmpty && (assignments.contains(assignment) || persons.contains(person) || positions.contains(position))
        }
    }

    /// The date the tally is of.
    public let day: String
    /// Active assignments not kept whole, by seat.
    public var counts: [Seat: Int]
    /// Active assignments of people holding more than one on `day`, or named by an open item.
    public var holdings: [Holding]

    public init(day: String, counts: [Seat: Int] = [:], holdings: [Holding] = []) {
        (self.day, self.counts, self.holdings) = (day, counts, holdings)
    }

    /// What takes part: an assignment active on the day (begun by then and not yet ended:
    /// its end date is the first day it no longer holds, the day a successor who took the
    /// seat starts, `AssignmentTerm.endDate`; blank dates are none) of a person, in a seat
    /// with a unit and a title. The same as `syncctl report` reads an office's file.
    public static func isActive(start: String?, end: String?, on day: String) -> Bool {
        (start.map { $0.isEmpty || $0 <= day } ?? true) && (end.map { $0.isEmpty || $0 > day } ?? true)
    }

    /// `isActive` in SQL (both stores), of assignments row `alias`, the day being `day` (a placeholder).
    public static func activeOn(_ day: String, alias: String) -> String {
        let (start, end) = ("\(alias).start_date", "\(alias).end_date")
        return "coalesce(\(start), '') <= \(day) AND (\(end) IS NULL OR \(end) = '' OR \(end) > \(day))"
    }

    /// Builds a tally from rows read one at a time: every seat first, then the assignments.
    /// Ids are taken as the bytes a store holds and numbered (`TextNumbers`), so that a
    /// national register's million rows make no String each.
    public struct Builder {
        let day: String
        let named: Named
        private var seats: [Seat] = []
        private var seatIndex: [Seat: Int32] = [:]
        private var positions: TextNumbers
        /// The seat of each numbered position.
        private var seatOf: [Int32] = []
        private var persons: TextNumbers
        /// Active assignments each numbered person holds.
        private var held: [Int32] = []
        private var assignments = TextList()
        private var active: [(person: Int32, position: Int32)] = []
        /// Rows waiting to be numbered, a batch at a time: the batch's slots are read first,
        /// all at once, so that the table's cache misses overlap instead of coming one by one.
        private var waitingPositions = (ids: TextList(), seats: [Int32]())
        private var waitingAssignments = (ids: TextList(), persons: TextList(), positions: TextList())
        private var hashes: [(Int, Int)] = []
        private var touched: UInt64 = 0
        static let batch = 256

        public init(day: String, named: Named, positions capacity: Int = 0) {
            (self.day, self.named) = (day, named)
            positions = TextNumbers(capacity: capacity)
            persons = TextNumbers(capacity: capacity)
            seatOf.reserveCapacity(capacity)
        }

        /// A seat (positions row); one without a unit or a title holds nothing that counts.
        public mutating func position(id: UnsafeBufferPointer<UInt8>, unit: String?, title: String?) {
            guard let unit, !unit.isEmpty, let title, !title.isEmpty else { return }
            let seat = Seat(unit: unit, title: title)
            let index: Int32
            if let last = seats.last, last == seat {
                index = Int32(seats.count - 1)
            } else if let known = seatIndex[seat] {
                index = known
            } else {
                index = Int32(seats.count)
                seats.append(seat)
                seatIndex[seat] = index
            }
            waitingPositions.ids.append(id)
            waitingPositions.seats.append(index)
            if waitingPositions.seats.count == Self.batch { numberPositions() }
        }

        private mutating func numberPositions() {
            let count = waitingPositions.seats.count
            guard count > 0 else { return }
            hashes.removeAll(keepingCapacity: true)
            for row in 0..<count { hashes.append((waitingPositions.ids.withBytes(row) { TextNumbers.hash($0) }, 0)) }
            for (hash, _) in hashes { touched &+= positions.touch(hash) }
            for row in 0..<count {
                let number = Int(waitingPositions.ids.withBytes(row) { positions.number($0, hash: hashes[row].0) })
                let seat = waitingPositions.seats[row]
                if number == seatOf.count { seatOf.append(seat) } else { seatOf[number] = seat }
            }
            waitingPositions.ids.removeAll()
            waitingPositions.seats.removeAll(keepingCapacity: true)
        }

        /// An assignment active on the day (the caller has checked, `isActive` or `activeOn`);
        /// one without a person or not in a known seat is left out.
        public mutating func assignment(id: UnsafeBufferPointer<UInt8>, person: UnsafeBufferPointer<UInt8>?, position: UnsafeBufferPointer<UInt8>?) {
            guard let person, !person.isEmpty, let position else { return }
            if !waitingPositions.seats.isEmpty { numberPositions() }
            waitingAssignments.ids.append(id)
            waitingAssignments.persons.append(person)
            waitingAssignments.positions.append(position)
            if waitingAssignments.ids.count == Self.batch { numberAssignments() }
        }

        private mutating func numberAssignments() {
            let count = waitingAssignments.ids.count
            guard count > 0 else { return }
            hashes.removeAll(keepingCapacity: true)
            for row in 0..<count {
                hashes.append((waitingAssignments.positions.withBytes(row) { TextNumbers.hash($0) },
                               waitingAssignments.persons.withBytes(row) { TextNumbers.hash($0) }))
            }
            for (position, person) in hashes { touched &+= positions.touch(position) &+ persons.touch(person) }
            for row in 0..<count {
                guard let numbered = waitingAssignments.positions.withBytes(row, { positions.find($0, hash: hashes[row].0) }) else { continue }
                let who = waitingAssignments.persons.withBytes(row) { persons.number($0, hash: hashes[row].1) }
                if Int(who) == held.count { held.append(1) } else { held[Int(who)] += 1 }
                waitingAssignments.ids.withBytes(row) { assignments.append($0) }
                active.append((who, numbered))
            }
            waitingAssignments.ids.removeAll()
            waitingAssignments.persons.removeAll()
            waitingAssignments.positions.removeAll()
        }

        /// The same from Strings (a register already read into memory).
        public mutating func position(id: String, unit: String?, title: String?) {
            var id = id
            id.withUTF8 { position(id: $0, unit: unit, title: title) }
        }

        public mutating func assignment(id: String, person: String?, position: String?, start: String?, end: String?) {
            guard SeatTally.isActive(start: start, end: end, on: day), var person, var position else { return }
            var id = id
            id.withUTF8 { id in
                person.withUTF8 { person in position.withUTF8 { position in assignment(id: id, person: person, position: position) } }
            }
        }

        public mutating func tally() -> SeatTally {
            numberPositions()
            numberAssignments()
            let namedPersons = Set(named.persons.compactMap { persons.find($0) })
            let namedPositions = Set(named.positions.compactMap { positions.find($0) })
            var counts: [Int32: Int] = [:]
            var holdings: [Holding] = []
            for (index, entry) in active.enumerated() {
                let whole = held[Int(entry.person)] > 1 || namedPersons.contains(entry.person) || namedPositions.contains(entry.position)
                    || (!named.assignments.isEmpty && named.assignments.contains(assignments.string(index)))
                let seat = seatOf[Int(entry.position)]
                if whole {
                    holdings.append(Holding(assignment: assignments.string(index), person: persons.string(entry.person),
                                            position: positions.string(entry.position), seat: seats[Int(seat)]))
                } else {
                    counts[seat, default: 0] += 1
                }
            }
            return SeatTally(day: day,
                             counts: Dictionary(uniqueKeysWithValues: counts.map { (seats[Int($0.key)], $0.value) }),
                             holdings: holdings.sorted { $0.assignment < $1.assignment })
        }
    }
}

extension SeatTally {
    /// Rows read from a store, a batch at a time, for a `Builder` on another task: the seats
    /// (id, unit, title) and the active assignments (id, person, seat id).
    public struct Rows: Sendable {
        var positionIDs = TextList()
        var seats: [(unit: String?, title: String?)] = []
        var assignmentIDs = TextList()
        var persons = TextList()
        var positions = TextList()

        public init() {}

        public var count: Int { seats.count + assignmentIDs.count }

        public mutating func position(id: UnsafeBufferPointer<UInt8>, unit: String?, title: String?) {
            positionIDs.append(id)
            seats.append((unit, title))
        }

        /// An assignment the store found active on the day, with a person and a seat.
        public mutating func assignment(id: UnsafeBufferPointer<UInt8>, person: UnsafeBufferPointer<UInt8>, position: UnsafeBufferPointer<UInt8>) {
            assignmentIDs.append(id)
            persons.append(person)
            self.positions.append(position)
        }
    }
}

extension SeatTally.Builder {
    /// Takes a batch of rows (`SeatTally.Rows`), seats before assignments.
    public mutating func add(_ rows: SeatTally.Rows) {
        for row in 0..<rows.seats.count {
            rows.positionIDs.withBytes(row) { position(id: $0, unit: rows.seats[row].unit, title: rows.seats[row].title) }
        }
        for row in 0..<rows.assignmentIDs.count {
            rows.assignmentIDs.withBytes(row) { id in
                rows.persons.withBytes(row) { person in
                    rows.positions.withBytes(row) { position in assignment(id: id, person: person, position: position) }
                }
            }
        }
    }
}

/// Byte strings kept one after another in one buffer, each by its place in the list.
public struct TextList: Sendable {
    private var bytes: [UInt8] = []
    private var ends: [Int] = []

    public init() {}

    public var count: Int { ends.count }

    /// Empties the list, keeping its buffers for the next texts.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }

    public mutating func append(_ text: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: text)
        ends.append(bytes.count)
    }

    public func string(_ index: Int) -> String {
        withBytes(index) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the bytes of the text at `index`.
    func withBytes<T>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        let start = index == 0 ? 0 : ends[index - 1]
        return bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[start..<ends[index]])) }
    }

    func equals(_ index: Int, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        withBytes(index) { stored in
            stored.count == text.count && (text.isEmpty || memcmp(stored.baseAddress!, text.baseAddress!, text.count) == 0)
        }
    }
}

/// Byte strings numbered 0, 1, 2, ... in the order first seen: an open-addressing table over a
/// `TextList`, hashed with Swift's per-process seeded hasher (so ids sent by offices cannot
/// be chosen to collide). Each slot keeps part of its text's hash beside the number, so a
/// probe past another text rarely reads that text: ids sharing long prefixes (UUIDs) would
/// otherwise cost a comparison each.
public struct TextNumbers {
    private var texts = TextList()
    /// 0 for an empty slot, else the hash's high half above the number plus one.
    private var slots: [UInt64]
    private var mask: Int

    public init(capacity: Int = 0) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
    }

    public var count: Int { texts.count }

    public static func hash(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(text))
        return hasher.finalize()
    }

    private static func fingerprint(_ hash: Int) -> UInt64 { UInt64(truncatingIfNeeded: hash) & 0xFFFF_FFFF_0000_0000 }

    /// The slot holding `text`, or the empty slot where it would go.
    private func slot(of text: UnsafeBufferPointer<UInt8>, hash: Int) -> Int {
        let fingerprint = Self.fingerprint(hash)
        var slot = hash & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { return slot }
            if entry & 0xFFFF_FFFF_0000_0000 == fingerprint && texts.equals(Int(entry & 0xFFFF_FFFF) - 1, text) { return slot }
            slot = (slot + 1) & mask
        }
    }

    /// Reads the slot `hash` starts at (to have it in cache when the text comes).
    public func touch(_ hash: Int) -> UInt64 { slots[hash & mask] }

    /// The number of `text`, given it when first seen.
    public mutating func number(_ text: UnsafeBufferPointer<UInt8>) -> Int32 { number(text, hash: Self.hash(text)) }

    /// The same, `hash` being `hash(text)`.
    public mutating func number(_ text: UnsafeBufferPointer<UInt8>, hash: Int) -> Int32 {
        let found = slot(of: text, hash: hash)
        if slots[found] != 0 { return Int32(slots[found] & 0xFFFF_FFFF) - 1 }
        let number = texts.count
        texts.append(text)
        slots[found] = Self.fingerprint(hash) | UInt64(number + 1)
        if texts.count * 2 > slots.count { grow() }
        return Int32(number)
    }

    /// The number of `text`, if it was seen.
    public func find(_ text: UnsafeBufferPointer<UInt8>) -> Int32? { find(text, hash: Self.hash(text)) }

    public func find(_ text: UnsafeBufferPointer<UInt8>, hash: Int) -> Int32? {
        let found = slot(of: text, hash: hash)
        return slots[found] != 0 ? Int32(slots[found] & 0xFFFF_FFFF) - 1 : nil
    }

    public func find(_ text: String) -> Int32? {
        var text = text
        return text.withUTF8 { find($0) }
    }

    public func string(_ number: Int32) -> String { texts.string(Int(number)) }

    private mutating func grow() {
        let size = slots.count * 2
        var grown = [UInt64](repeating: 0, count: size)
        let mask = size - 1
        for number in 0..<texts.count {
            let hash = texts.withBytes(number) { Self.hash($0) }
            var slot = hash & mask
            while grown[slot] != 0 { slot = (slot + 1) & mask }
            grown[slot] = Self.fingerprint(hash) | UInt64(number + 1)
        }
        (slots, self.mask) = (grown, mask)
    }
}
