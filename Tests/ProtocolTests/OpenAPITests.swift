import Foundation
import Hub
import Testing

@Suite struct OpenAPITests {
    /// Sources/Hub/openapi.yaml describes every route the hub serves, with its method.
    @Test func everyRouteTheHubServesIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("Sources/Hub/openapi.yaml"), encoding: .utf8)
        let lines = document.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for route in HubAPI.routes {
            guard let start = lines.firstIndex(of: "  \(route.path):") else {
                Issue.record("\(route.path) is served but not in openapi.yaml")
                continue
            }
            let block = lines[(start + 1)...].prefix { $0.hasPrefix("    ") || $0.isEmpty }
            #expect(block.contains("    \(route.method.lowercased()):"), "\(route.method) \(route.path) is served but not documented")
        }
    }
}
