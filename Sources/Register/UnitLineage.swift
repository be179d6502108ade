/// Where units stood on a date, across mergers and splits. A commune-level unit that ended
/// names its main successor (`successor_id`); a seat stays in the unit it was created in, so
/// after a merger it counts under the successor in force. A hamlet follows its commune by a
/// new `parent_id`, and the reorganisation keeps where it was before as a *former place*: an
/// ended row of the hamlet's kind, code and name, under the old commune, whose successor is
/// the hamlet. On a date a former place covers, the hamlet belongs to its commune then;
/// otherwise to its parent now.
public struct UnitLineage: Sendable {
    /// A units row: its official code and name, its kind, parent, effective dates and successor.
    public struct Unit: Sendable {
        public let id: String
        public let code, name: String
        public let kind: String
        public let parent, from, to, successor: String?

        public init(id: String, code: String = "", name: String = "", kind: String, parent: String?, from: String?, to: String?, successor: String?) {
            (self.id, self.code, self.name, self.kind, self.parent, self.from, self.to, self.successor) = (id, code, name, kind, parent, from, to, successor)
        }

        /// Begun by `day`, not ended before it.
        public func inForce(on day: String) -> Bool { UnitLineage.inForce(from: from, to: to, on: day) }

        public var isCommuneLevel: Bool { UnitLineage.communeKinds.contains(kind) }
    }

    /// Whether a row effective from `from` through `to` (its last day) is in force on `day`:
    /// ISO dates compare as text, and a blank date is none.
    public static func inForce(from: String?, to: String?, on day: String) -> Bool {
        (from.map { $0.isEmpty || $0 <= day } ?? true) && (to.map { $0.isEmpty || $0 >= day } ?? true)
    }

    public static let communeKinds: Set<String> = ["commune", "ward", "township"]
    public static let hamletKinds: Set<String> = ["hamlet", "residential_group"]

    private let units: [String: Unit]
    /// Each hamlet's earlier places, by the hamlet's units.id.
    private let formerPlaces: [String: [Unit]]

    public init(_ units: [Unit]) {
        self.units = Dictionary(units.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        var formerPlaces: [String: [Unit]] = [:]
        for unit in units where Self.hamletKinds.contains(unit.kind) {
            if let hamlet = unit.successor, hamlet != unit.id, let target = self.units[hamlet], Self.hamletKinds.contains(target.kind) {
                formerPlaces[hamlet, default: []].append(unit)
            }
        }
        self.formerPlaces = formerPlaces
    }

    /// A row that only records where a hamlet was before a reorganisation.
    public func isFormerPlace(_ id: String) -> Bool {
        guard let unit = units[id], Self.hamletKinds.contains(unit.kind), let hamlet = unit.successor else { return false }
        return formerPlaces[hamlet]?.contains { $0.id == id } == true
    }

    /// The unit a hamlet was under on `day`, as recorded: the parent of the former place covering
    /// the day, else its parent now.
    public func parent(ofHamlet id: String, on day: String) -> String? {
        formerPlaces[id]?.first { $0.inForce(on: day) }?.parent ?? units[id]?.parent
    }

    /// The commune-level unit in force on `day` that `id` counts under: itself while in
    /// force, its successor (followed) once it has ended; nil before it began.
    public func commune(_ id: String, on day: String) -> String? {
        var current = id
        var seen: Set<String> = [id]
        while let unit = units[current] {
            if unit.inForce(on: day) { return current }
            guard let to = unit.to, !to.isEmpty, to < day, let next = unit.successor, seen.insert(next).inserted else { return nil }
            current = next
        }
        return nil
    }

    /// Where a seat of unit `id` counts on `day`: the hamlet, when it is in one in force then,
    /// else the commune-level unit in force (`commune(_:on:)`); nil when neither.
    public func place(of id: String, on day: String) -> (commune: String, hamlet: String?)? {
        guard let unit = units[id] else { return nil }
        if Self.hamletKinds.contains(unit.kind) {
            guard unit.inForce(on: day), let parent = parent(ofHamlet: id, on: day), let commune = commune(parent, on: day) else { return nil }
            return (commune, id)
        }
        return commune(id, on: day).map { ($0, nil) }
    }
}
