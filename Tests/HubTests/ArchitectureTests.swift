import Foundation
import Testing

/// The rule that makes the module map an architecture: the hub's logic (HubCore), the review
/// desk's pages, the register and the merge engine reach no HTTP server, no database driver
/// and no SQLite, directly or through another module. Two checks keep it: this test reads the
/// dependency closure each module declares in Package.swift; the build of the test command
/// (`swift test --explicit-target-dependency-import-check=error`, what `.ci/run` runs) fails
/// when a file imports a module its target does not declare, which a shared module directory
/// would otherwise let through.
@Suite struct ArchitectureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Each target's declared dependencies (targets and products, by name).
    static func targets() throws -> [String: Set<String>] {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let opening = try Regex(#"\.(?:target|executableTarget|testTarget|systemLibrary)\(\s*name:\s*"([^"]+)""#)
        var found: [String: Set<String>] = [:]
        let matches = manifest.matches(of: opening)
        for (index, match) in matches.enumerated() {
            let name = String(match.output[1].substring ?? "")
            let end = index + 1 < matches.count ? matches[index + 1].range.lowerBound : manifest.endIndex
            let block = manifest[match.range.upperBound..<end]
            guard let list = block.range(of: "dependencies:") else {
                found[name] = []
                continue
            }
            // The bracketed list after `dependencies:`.
            var depth = 0
            var text = ""
            for character in block[list.upperBound...] {
                if character == "[" { depth += 1 }
                if depth > 0 { text.append(character) }
                if character == "]" {
                    depth -= 1
                    if depth == 0 { break }
                }
            }
            found[name] = Set(text.matches(of: try Regex(#""([^"]+)""#)).map { String($0.output[1].substring ?? "") })
        }
        return found
    }

    static func closure(of target: String, in targets: [String: Set<String>]) -> Set<String> {
        var reached: Set<String> = []
        var next = [target]
        while let name = next.popLast() {
            for dependency in targets[name] ?? [] where reached.insert(dependency).inserted { next.append(dependency) }
        }
        return reached
    }

    static let forbidden: Set<String> = [
        "Hummingbird", "HummingbirdCore", "HummingbirdTLS", "hummingbird", "PostgresNIO", "postgres-nio", "CSQLite", "Replica",
        "NIOCore", "NIOSSL", "HTTPTypes",
    ]

    @Test(arguments: ["HubCore", "ReviewDesk", "Register", "MergeEngine"])
    func reachesNoServerNoDriverNoSQLite(_ module: String) throws {
        let targets = try Self.targets()
        #expect(targets[module] != nil, "Package.swift declares no target \(module)")
        let reached = Self.closure(of: module, in: targets)
        #expect(reached.isDisjoint(with: Self.forbidden), "\(module) reaches \(reached.intersection(Self.forbidden).sorted())")
    }

    @Test func theStoresAndTheServerAreModulesOfTheirOwn() throws {
        let targets = try Self.targets()
        #expect(Self.closure(of: "HubSQLite", in: targets).contains("Replica"))
        #expect(Self.closure(of: "HubPostgres", in: targets).contains("PostgresNIO"))
        #expect(Self.closure(of: "HubHTTP", in: targets).contains("Hummingbird"))
        for store in ["HubSQLite", "HubPostgres"] {
            #expect(!Self.closure(of: store, in: targets).contains("Hummingbird"), "\(store) reaches the HTTP server")
        }
        #expect(!Self.closure(of: "HubPostgres", in: targets).contains("CSQLite"))
    }

    @Test func theTestCommandChecksImportsAgainstDeclaredDependencies() throws {
        let ci = try String(contentsOf: Self.root.appendingPathComponent(".ci/run"), encoding: .utf8)
        #expect(ci.contains("swift test --explicit-target-dependency-import-check=error"))
    }
}
