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
        let parts = text.split(separator: "-")
        if parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), (1...31).contains(d)
        {
            self = .date(year: y, month: m, day: d)
            return
        }
        if let id = Int64(text), id > 0, text.allSatisfy(\.isNumber) {
            self = .id(id)
            return
        }
        return nil
    }

    /// For `.date`: the first instant after that UTC day ends.
    public var endOfDay: Date? {
        guard case .date(let y, let m, let d) = self else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let start = calendar.date(from: DateComponents(year: y, month: m, day: d)) else { return nil }
        return start.addingTimeInterval(86_400)
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
