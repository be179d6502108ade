import Foundation
import FoundationXML
import Register
import Testing
import Workbook
import ZIPFoundation

/// The reports as an Excel workbook: a ZIP whose parts are the ones Excel and LibreOffice
/// open (content types, relationships, workbook, a worksheet per sheet), each well-formed
/// XML, with the figures in the cells.
@Suite struct WorkbookTests {
    /// The parts of a workbook's bytes, by path, as text.
    static func parts(_ data: Data) throws -> [String: String] {
        let archive = try Archive(data: data, accessMode: .read)
        var parts: [String: String] = [:]
        for entry in archive {
            var bytes = Data()
            _ = try archive.extract(entry) { bytes.append($0) }
            parts[entry.path] = String(decoding: bytes, as: UTF8.self)
        }
        return parts
    }

    static func isWellFormed(_ xml: String) -> Bool { XMLParser(data: Data(xml.utf8)).parse() }

    @Test func aWorkbookHoldsEverySheetAsWellFormedXML() throws {
        let book = Workbook(sheets: [
            .init(name: "Biên chế", rows: [[.text("Xã <A> & \"B\""), .number(3)], [.text("tab\there\u{1}"), .number(66.67)]]),
            .init(name: "a/b:c?d*[e]" + String(repeating: "x", count: 40), rows: (0..<30).map { row in (0..<30).map { .number(Double(row * 30 + $0)) } }),
        ])
        let parts = try Self.parts(try book.data())
        #expect(Set(parts.keys) == ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                                    "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"])
        for (path, xml) in parts { #expect(Self.isWellFormed(xml), "\(path): \(xml.prefix(300))") }
        let first = try #require(parts["xl/worksheets/sheet1.xml"])
        #expect(first.contains("<c r=\"A1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">Xã &lt;A&gt; &amp; &quot;B&quot;</t></is></c>"))
        #expect(first.contains("<c r=\"B2\"><v>66.67</v></c>") && first.contains("tab\there<"), "a control character is left out")
        let second = try #require(parts["xl/worksheets/sheet2.xml"])
        #expect(second.contains("<c r=\"AD30\"><v>899</v></c>"), "column 30 is AD, a whole number as one")
        let workbook = try #require(parts["xl/workbook.xml"])
        #expect(workbook.contains("<sheet name=\"Biên chế\" sheetId=\"1\" r:id=\"rId1\"/>"))
        #expect(workbook.contains("<sheet name=\"abcde" + String(repeating: "x", count: 26) + "\" sheetId=\"2\""), "a tab name Excel takes")
    }

    @Test func theReportsWorkbookHasASheetPerReportWithItsFigures() async throws {
        let rows = try await ReportTests.rows(on: .sqlite)
        let parts = try Self.parts(try Workbook.reports(rows, asOf: "2025-01-01", unit: nil, year: 2024, since: "2020-01-01").data())
        let workbook = try #require(parts["xl/workbook.xml"])
        for name in ["Biên chế", "Kiêm nhiệm", "Trình độ", "Đánh giá", "Bồi dưỡng"] { #expect(workbook.contains("name=\"\(name)\""), "\(name)") }
        // Xã A's cán bộ, công chức: 3 people of a quota of 5 (ReportTests), on sheet 1.
        let staffing = try #require(parts["xl/worksheets/sheet1.xml"])
        #expect(staffing.contains(">11111<") && staffing.contains("<v>3</v>") && staffing.contains("<v>5</v>") && staffing.contains("NĐ 33/2023"))
        // At commune level 80 % have a university degree or above (ReportTests), on sheet 3.
        #expect(try #require(parts["xl/worksheets/sheet3.xml"]).contains("<v>80</v>"))
    }
}
