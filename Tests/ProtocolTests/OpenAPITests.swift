import Foundation
import HubCore
import HubHTTP
import HubPostgres
import HubSQLite
import OpenAPIKit
import MergeEngine
import Register
import Replica
import SyncCore
import SyncProtocol
import Testing
import Yams

/// Sources/HubHTTP/openapi.yaml, read by a real OpenAPI parser: it must be a valid document, name
/// exactly the routes the hub serves, and describe the messages the code really encodes.
/// (Tests/contract/run.sh checks it against a live hub with Schemathesis.)
@Suite struct OpenAPITests {
    static let document: Result<OpenAPI.Document, any Error> = Result {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Sources/HubHTTP/openapi.yaml"), encoding: .utf8)
        return try YAMLDecoder().decode(OpenAPI.Document.self, from: text)
    }

    var document: OpenAPI.Document { get throws { try Self.document.get() } }

    @Test func theDocumentIsValidOpenAPI31() throws {
        let document = try document
        #expect(document.openAPIVersion.rawValue.hasPrefix("3.1"))
        let warnings = try document.validate()
        #expect(warnings.isEmpty, "\(warnings)")
    }

    @Test func everyServedRouteIsDocumentedAndEveryDocumentedRouteIsServed() throws {
        let served = Set(HubAPI.routes.map { "\($0.method) \($0.path)" })
        var documented = Set<String>()
        for (path, item) in try document.paths {
            let item = try #require(item.pathItemValue, "\(path.rawValue) is a reference; the hub's paths are written out")
            for endpoint in item.endpoints { documented.insert("\(endpoint.method.rawValue) \(path.rawValue)") }
        }
        #expect(served.subtracting(documented).isEmpty, "served but not in openapi.yaml: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "in openapi.yaml but not served: \(documented.subtracting(served).sorted())")
    }

    /// Values the document spells out that the code decides: the versions of the handshake
    /// and the register's tables.
    @Test func theDocumentNamesTheVersionsAndTablesOfThisBuild() throws {
        let components = try document.components
        func allowed(header name: OpenAPI.ComponentKey) throws -> [String] {
            let parameter = try #require(components.parameters[name]?.b, "no parameter \(name.rawValue)")
            let schema = try #require(parameter.schemaOrContent.a?.schema.b, "parameter \(name.rawValue) has no schema")
            return (schema.allowedValues ?? []).map { "\($0.value)" }
        }
        #expect(try allowed(header: "Protocol") == [String(WireVersion.protocolVersion)])
        #expect(try allowed(header: "Schema") == (1...RegisterSchema.latest.version).map(String.init))
        let tables = RegisterSchema.current.tables.map(\.name)
        let table = try #require(components.schemas["Table"])
        #expect((table.allowedValues ?? []).map { "\($0.value)" } == tables)
        let snapshot = try #require(try document.paths["/v1/snapshot"]?.pathItemValue?.get)
        let cursor = try #require(snapshot.parameters.compactMap(\.b).first { $0.name == "cursor" }?.schemaOrContent.a?.schema.b)
        #expect(cursor.stringContext?.pattern == "^(\(tables.joined(separator: "|")))/")
    }

    // MARK: Real messages against their documented schemas

    let dot = Dot(replica: "06913", counter: 65)
    var feed: [ChangeGroup] {
        ChangeGroup.group([
            Change(table: "persons", row: "p-1", operation: .set(column: "full_name", value: .text("Nguyễn Văn An")),
                   dot: Dot(replica: "200", counter: 7), context: VersionVector(["06913": 64]), timestamp: HybridTimestamp(wallMillis: 1_700_000_000_000)),
            Change(table: "persons", row: "p-1", operation: .set(column: "allowance", value: .real(0.25)),
                   dot: Dot(replica: "200", counter: 8), context: VersionVector(["06913": 64, "200": 7]), timestamp: HybridTimestamp(wallMillis: 1_700_000_000_000)),
            Change(table: "persons", row: "p-2", operation: .delete, dot: Dot(replica: "200", counter: 9), context: VersionVector(["200": 8]),
                   timestamp: HybridTimestamp(wallMillis: 1_700_000_000_001)),
        ])
    }
    var rowSnapshot: RowSnapshot {
        let write = FieldWrite(dot: dot, timestamp: HybridTimestamp(wallMillis: 1_700_000_000_000), value: .integer(3))
        let state = RowState(fields: ["seat_no": FieldState(writes: [write], seen: VersionVector(["06913": 65]))],
                             deletes: VersionVector(), clock: VersionVector(["06913": 65, "200": 3]))
        return RowSnapshot(table: "positions", row: "seat-1", state: state)
    }

    @Test func repliesTheHubEncodesMatchTheirDocumentedSchemas() throws {
        var fieldSide = ConflictView.Side()
        (fieldSide.dot, fieldSide.origin, fieldSide.hlc, fieldSide.value) = ("06913:65", "06913", 1 << 40, .text("đại học"))
        var seatSide = ConflictView.Side()
        (seatSide.assignment, seatSide.person, seatSide.decisionNo, seatSide.decisionDate) = ("a-1", "p-1", "15/QĐ-UBND", "2021-06-01")
        var holdingSide = ConflictView.Side()
        (holdingSide.assignment, holdingSide.person, holdingSide.title) = ("a-2", "p-1", "chu_tich_ubnd")
        let rules = RuleSet(version: 3, columns: ["persons": ["degree": .review]], seats: .laterDecisionWins)
        let replies: [(String, String, any Encodable)] = [
            ("POST", "/v1/push", PushResponse(acknowledged: 66, applied: 1, duplicates: 0, refused: [
                Refusal(counter: 66, table: "persons", row: "p-9", column: "commune_id", code: "out_of_scope", message: "not this commune's"),
                Refusal(counter: 67, table: "persons", row: "p-9", column: nil, code: "out_of_scope", message: "not this commune's"),
            ], heldBefore: 64)),
            ("GET", "/v1/pull", PullResponse(changes: feed, next: 12, more: true, acknowledged: 66, hub: "200", time: 1_700_000_000_000,
                                             rulesVersion: 3, rules: rules)),
            ("GET", "/v1/pull", PullResponse(changes: [], next: 12, more: false, acknowledged: 0, hub: "200", time: 1, rulesVersion: 3, rules: nil)),
            ("GET", "/v1/snapshot", SnapshotPage(rows: [rowSnapshot], checkpoint: 12, cursor: "positions/seat-1", acknowledged: 66)),
            ("GET", "/v1/snapshot", SnapshotPage(rows: [], checkpoint: 12, cursor: nil, acknowledged: 0)),
            ("GET", "/v1/own", OwnChangesResponse(changes: feed, next: 9, more: false, acknowledged: 66)),
            ("GET", "/v1/digest", DigestResponse(tables: [TableDigest(table: "persons", rows: 2, buckets: Array(repeating: "00000000000000ff", count: 64))])),
            ("POST", "/v1/rows", RowsResponse(rows: [rowSnapshot])),
            ("GET", "/v1/pull", PullResponse(changes: feed, next: 12, more: false, acknowledged: 66, hub: "200", time: 1, rulesVersion: 3,
                                             rules: nil, incarnation: 94_000_000_000_000, seals: ["65": "c2VhbA=="])),
            ("GET", "/v1/recover", RecoveryStatus(incarnation: 94_000_000_000_000, lacking: [CounterRange(after: 192, before: 94_000_000_000_000)])),
            ("POST", "/v1/recover", RecoverResponse(taken: 2, held: 1, refused: [257])),
            ("GET", "/v1/conflicts", [
                ConflictView(id: "persons/p-1/degree", kind: "field", table: "persons", row: "p-1", column: "degree", rule: "review",
                             sides: [fieldSide], chosen: "06913:65", state: "open"),
                ConflictView(id: "positions/seat-1/*holders", kind: "seat", table: "positions", row: "seat-1", column: "*holders",
                             rule: "review", sides: [seatSide], chosen: "a-1", state: "settled"),
                ConflictView(id: "persons/p-1/*holding", kind: "holding", table: "persons", row: "p-1", column: "*holding",
                             rule: "holding", sides: [holdingSide], chosen: "holds 3 titles", state: "open"),
            ]),
            ("POST", "/v1/conflicts/resolve", ResolveResponse(id: "persons/p-1/degree", review: 4, wrote: 1)),
            ("POST", "/v1/conflicts/revert", ResolveResponse(id: "persons/p-1/degree", review: 5, wrote: 1)),
            ("GET", "/v1/reviews", [
                DecisionView(id: 5, conflict: "persons/p-1/degree", reviewer: "reviewer-1", at: "2026-12-03T10:00:00Z", reason: "nhầm",
                             pick: nil, value: nil, wrote: 1, reverts: 4, revertedBy: nil),
                DecisionView(id: 4, conflict: "persons/p-1/degree", reviewer: "reviewer-1", at: "2026-12-03T09:00:00Z", reason: "đã xác minh",
                             pick: "06913:65", value: nil, wrote: 1, reverts: nil, revertedBy: 5),
                DecisionView(id: 3, conflict: "persons/p-2/phone", reviewer: "reviewer-2", at: "2026-12-02T09:00:00Z", reason: "gộp",
                             pick: nil, value: .text("0912"), wrote: 1, reverts: nil, revertedBy: nil),
            ]),
        ]
        for (method, path, reply) in replies {
            let schema = try #require(try bodySchema(of: .response(200), method, path))
            let problems = try SchemaShape(components: document.components).problems(in: json(reply), against: schema)
            #expect(problems.isEmpty, "\(method) \(path) 200: \(problems)")
        }
        for status in [400, 401, 403, 409] {
            let schema = try #require(try bodySchema(of: .response(status), "POST", "/v1/push"))
            let problems = try SchemaShape(components: document.components).problems(
                in: json(ErrorBody(error: "bad_request", message: "the request body is not a valid PushRequest")), against: schema)
            #expect(problems.isEmpty, "POST /v1/push \(status): \(problems)")
        }
    }

    @Test func requestsTheClientsEncodeMatchTheirDocumentedSchemas() throws {
        let requests: [(String, String, any Encodable)] = [
            ("POST", "/v1/push", PushRequest(changes: feed)),
            ("POST", "/v1/rows", RowsRequest(table: "persons", ids: ["p-1"], buckets: [0, 63])),
            ("POST", "/v1/rows", RowsRequest(table: "units")),
            ("POST", "/v1/recover", RecoverRequest(changes: feed, seals: ["65": "c2VhbA=="])),
            ("POST", "/v1/conflicts/resolve", ResolveRequest(id: "persons/p-1/degree", pick: "06913:65", value: nil, reason: "quyết định số 15")),
            ("POST", "/v1/conflicts/resolve", ResolveRequest(id: "persons/p-1/note", pick: nil, value: .real(2.5), reason: "merged")),
            ("POST", "/v1/conflicts/revert", RevertRequest(review: 4, reason: "wrong side")),
        ]
        for (method, path, request) in requests {
            let schema = try #require(try bodySchema(of: .request, method, path))
            let problems = try SchemaShape(components: document.components).problems(in: json(request), against: schema)
            #expect(problems.isEmpty, "\(method) \(path) request: \(problems)")
        }
    }

    /// The shape check itself finds what it must: an undocumented key, a missing required
    /// one, a value outside an enum or a pattern, a write of four elements.
    @Test func theShapeCheckFindsWhatDiffersFromTheDocument() throws {
        let shape = try SchemaShape(components: document.components)
        let push = try #require(try bodySchema(of: .response(200), "POST", "/v1/push"))
        #expect(shape.problems(in: try json(literal: ["acknowledged": 1, "applied": 0, "duplicates": 0, "refused": [], "surprise": 1]), against: push)
            .contains { $0.contains("surprise") })
        #expect(shape.problems(in: try json(literal: ["acknowledged": 1, "applied": 0, "refused": []]), against: push).contains { $0.contains("duplicates") })
        let conflicts = try #require(try bodySchema(of: .response(200), "GET", "/v1/conflicts"))
        let conflict: [String: Any] = ["id": "x", "kind": "merge", "table": "t", "row": "r", "column": "c", "rule": "r", "sides": [], "chosen": "", "state": "open"]
        #expect(!shape.problems(in: try json(literal: [conflict]), against: conflicts).isEmpty)
        let request = try #require(try bodySchema(of: .request, "POST", "/v1/push"))
        func group(_ x: String, _ write: [Any]) throws -> JSON {
            try json(literal: ["changes": [["t": "persons", "r": "p", "o": "06913", "h": 1, "x": x, "w": [write]]]])
        }
        #expect(shape.problems(in: try group("200:3", [5, "note", "x"]), against: request).isEmpty)
        #expect(!shape.problems(in: try group("200:3", [5, "note", "x", "extra"]), against: request).isEmpty)
        #expect(!shape.problems(in: try group("200:3  06913:1", [5]), against: request).isEmpty)
    }

    // MARK: Helpers

    enum Body { case request, response(Int) }

    func bodySchema(of body: Body, _ method: String, _ path: String) throws -> JSONSchema? {
        let document = try document
        guard let item = document.paths[OpenAPI.Path(rawValue: path)]?.pathItemValue,
            let operation = item.endpoints.first(where: { $0.method.rawValue == method })?.operation
        else { return nil }
        let content: OpenAPI.Content.Map?
        switch body {
        case .request: content = operation.requestBody.flatMap { document.components[$0] }?.content
        case .response(let status): content = operation.responses[.status(code: status)].flatMap { document.components[$0] }?.content
        }
        return content?[.json]?.b?.schema
    }

    func json(_ value: any Encodable) throws -> JSON { try JSONDecoder().decode(JSON.self, from: JSONEncoder().encode(value)) }

    /// A literal written in the test as Swift dictionaries and arrays.
    func json(literal value: Any) throws -> JSON {
        try JSONDecoder().decode(JSON.self, from: JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]))
    }
}

/// Checks a decoded JSON value against a JSON schema of the document for what a mismatch
/// between code and document would show: keys not documented, required keys missing, wrong
/// JSON types, values outside an enum, strings outside a pattern, arrays of the wrong length.
struct SchemaShape {
    let components: OpenAPI.Components

    func problems(in value: JSON, against schema: JSONSchema, at path: String = "$") -> [String] {
        if case .null = value { return schema.nullable || accepts(schema, null: true) ? [] : ["\(path): null where the document does not allow it"] }
        if let allowed = schema.allowedValues, !allowed.contains(where: { "\($0.value)" == value.text }) {
            return ["\(path): \(value) is not one of \(allowed.map { "\($0.value)" })"]
        }
        switch schema.value {
        case .reference:
            guard let target = components[schema] else { return ["\(path): unresolved reference"] }
            return problems(in: value, against: target, at: path)
        case .one(let choices, _), .any(let choices, _):
            let results = choices.map { problems(in: value, against: $0, at: path) }
            return results.contains { $0.isEmpty } ? [] : ["\(path): matches none of the choices: \(results.flatMap { $0 })"]
        case .all(let parts, _):
            return parts.flatMap { problems(in: value, against: $0, at: path) }
        case .object(_, let context):
            guard case .object(let object) = value else { return ["\(path): not an object"] }
            var found = context.requiredProperties.filter { object[$0] == nil }.map { "\(path): required key '\($0)' is missing" }
            for (key, item) in object {
                if let property = context.properties[key] {
                    found += problems(in: item, against: property, at: "\(path).\(key)")
                } else if let extra = context.additionalProperties?.b {
                    found += problems(in: item, against: extra, at: "\(path).\(key)")
                } else if context.additionalProperties?.a != true {
                    found.append("\(path): key '\(key)' is not in the document")
                }
            }
            return found
        case .array(_, let context):
            guard case .array(let array) = value else { return ["\(path): not an array"] }
            var found: [String] = []
            if array.count < context.minItems { found.append("\(path): \(array.count) items, at least \(context.minItems) documented") }
            if let most = context.maxItems, array.count > most { found.append("\(path): \(array.count) items, at most \(most) documented") }
            let prefix = context.prefixItems ?? []
            for (index, item) in array.enumerated() {
                if index < prefix.count {
                    found += problems(in: item, against: prefix[index], at: "\(path)[\(index)]")
                } else if let items = context.items {
                    found += problems(in: item, against: items, at: "\(path)[\(index)]")
                }
            }
            return found
        case .string(_, let context):
            guard case .string(let text) = value else { return ["\(path): not a string"] }
            if let pattern = context.pattern, text.range(of: pattern, options: .regularExpression) == nil {
                return ["\(path): '\(text)' does not match \(pattern)"]
            }
            return []
        case .integer:
            guard case .integer = value else { return ["\(path): not an integer"] }
            return []
        case .number:
            switch value {
            case .integer, .real: return []
            default: return ["\(path): not a number"]
            }
        case .boolean:
            guard case .boolean = value else { return ["\(path): not a boolean"] }
            return []
        case .null:
            return ["\(path): \(value) where the document says null"]
        case .not, .fragment:
            return []
        }
    }

    private func accepts(_ schema: JSONSchema, null: Bool) -> Bool {
        switch schema.value {
        case .null, .fragment: return true
        case .reference: return components[schema].map { accepts($0, null: true) } ?? false
        case .one(let choices, _), .any(let choices, _): return choices.contains { accepts($0, null: true) }
        default: return schema.nullable
        }
    }
}

/// A JSON value as it was on the wire: booleans, integers and reals kept apart.
enum JSON: Decodable {
    case null, boolean(Bool), integer(Int64), real(Double), string(String), array([JSON]), object([String: JSON])

    init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let value = try? single.decode(Bool.self) { self = .boolean(value) }
        else if let value = try? single.decode(Int64.self) { self = .integer(value) }
        else if let value = try? single.decode(UInt64.self) { self = .real(Double(value)) }
        else if let value = try? single.decode(Double.self) { self = .real(value) }
        else if let value = try? single.decode(String.self) { self = .string(value) }
        else if let value = try? single.decode([JSON].self) { self = .array(value) }
        else { self = .object(try single.decode([String: JSON].self)) }
    }

    /// How an enum of the document spells it.
    var text: String {
        switch self {
        case .null: return "nil"
        case .boolean(let value): return String(value)
        case .integer(let value): return String(value)
        case .real(let value): return String(value)
        case .string(let value): return value
        case .array, .object: return "\(self)"
        }
    }
}
