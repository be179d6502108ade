import Foundation
import MergeEngine
import Register
import Replica
import Testing

@Suite struct SchemaDocumentTests {
    /// Config/schema.sql is generated; this fails when the register changed without it.
    @Test func configSchemaMatchesTheRegisterDescription() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let committed = try String(contentsOf: root.appendingPathComponent("Config/schema.sql"), encoding: .utf8)
        #expect(committed == RegisterSchema.current.document, "regenerate it: swift run syncctl schema > Config/schema.sql")
    }

    @Test func everyTableFitsTheChangeMask() {
        for table in RegisterSchema.current.tables {
            #expect(table.columns.count <= 63, "\(table.name) has too many columns for a change mask")
        }
    }
}
