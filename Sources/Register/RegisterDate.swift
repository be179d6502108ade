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

    /// An ISO 8601 instant as people in the district read it: dd/mm/yyyy HH:mm on this
    /// computer's clock (the hub's or the office's time zone); the text itself if it is none.
    public static func localTime(_ iso: String) -> String {
        guard let instant = try? Date(iso, strategy: .iso8601) else { return iso }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "dd/MM/yyyy HH:mm"
        return formatter.string(from: instant)
    }

    /// An ISO date as dd/mm/yyyy; the text itself if it is none.
    public static func shown(_ date: String?) -> String {
        guard let date, date.count >= 10 else { return date ?? "?" }
        let parts = date.prefix(10).split(separator: "-")
        return parts.count == 3 ? "\(parts[2])/\(parts[1])/\(parts[0])" : date
    }
}
