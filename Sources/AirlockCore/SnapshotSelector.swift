import Foundation

/// How a URL names a snapshot: the newest, the last one published on or before a UTC day, or an exact id.
public enum SnapshotSelector: Hashable, Sendable, CustomStringConvertible {
    case latest
    case date(year: Int, month: Int, day: Int)
    case id(Int64)

    public init?(_ text: String) {
        if text == "latest" {
            self = .latest
            return
        }
        // One spelling per snapshot: `0042` or `2026-02-31` name none (a cache keyed on spellings stays small).
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2, parts.allSatisfy({ $0.utf8.allSatisfy { (48...57).contains($0) } }),
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), y >= 1, Self.isDay(year: y, month: m, day: d)
        {
            self = .date(year: y, month: m, day: d)
            return
        }
        if let id = Int64(text), id > 0, String(id) == text {
            self = .id(id)
            return
        }
        return nil
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        return calendar
    }()

    private static func isDay(year: Int, month: Int, day: Int) -> Bool {
        guard (1...12).contains(month), (1...31).contains(day), let date = utc.date(from: DateComponents(year: year, month: month, day: day)) else { return false }
        return utc.component(.day, from: date) == day
    }

    /// The last instant `Timestamp` can write (4-digit years): later days end there.
    static let lastInstant = Date(timeIntervalSince1970: 253_402_300_799.999)

    /// For `.date`: the first instant after that UTC day ends (for 9999-12-31, the last one `Timestamp` writes).
    public var endOfDay: Date? {
        guard case .date(let y, let m, let d) = self, let start = Self.utc.date(from: DateComponents(year: y, month: m, day: d)) else { return nil }
        return min(start.addingTimeInterval(86_400), Self.lastInstant)
    }

    public var description: String {
        switch self {
        case .latest: return "latest"
        case .date(let y, let m, let d): return String(format: "%04d-%02d-%02d", y, m, d)
        case .id(let id): return String(id)
        }
    }
}

/// Timestamps in the one format airlock writes: RFC 3339 UTC with milliseconds.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    public static func parse(_ text: String) -> Date? {
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return d }
        if let d = try? Date.ISO8601FormatStyle().parse(text) { return d }
        // Upstreams also write a bare `2024-01-02T03:04:05` (UTC implied) or fractional seconds without zone.
        let trimmed = text.split(separator: ".").first.map(String.init) ?? text
        return try? Date.ISO8601FormatStyle().parse(trimmed.hasSuffix("Z") ? trimmed : trimmed + "Z")
    }

    /// `YYYY-MM-DD` of the UTC day `date` falls in.
    public static func day(_ date: Date) -> String {
        String(format(date).prefix(10))
    }
}
