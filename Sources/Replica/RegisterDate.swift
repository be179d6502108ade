import Foundation

/// Dates as the register writes them: ISO `YYYY-MM-DD` text (UTC), which compares correctly
/// as text.
public enum RegisterDate {
    private static let style = Date.ISO8601FormatStyle.iso8601.year().month().day()

    public static func today() -> String { Date().formatted(style) }

    /// The date (UTC) of `instant`.
    public static func day(of instant: Date) -> String { instant.formatted(style) }

    /// Whether `text` is a date written so.
    public static func isDate(_ text: String) -> Bool {
        text.utf8.count == 10 && (try? Date(text, strategy: style)) != nil
    }

    /// The date `days` after `date` (before it when negative); nil if `date` is not one.
    public static func day(after date: String, by days: Int = 1) -> String? {
        guard let day = try? Date(date, strategy: style) else { return nil }
        return day.addingTimeInterval(Double(days) * 86_400).formatted(style)
    }
}
