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
        if parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.utf8.allSatisfy { (48...57).contains($0) } }),
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
        guard (1...12).contains(month), (1...31).contains(day), let date = utc.date(from: DateComponents(year: year, month: month, day: day)) else {
            return false
        }
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
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, to the nearest millisecond, so what `parse` reads back formats to the
    /// same text (the ISO 8601 formatter truncates, and a parsed `.123` is often `.12299…`: stored
    /// timestamps compared as text were then a millisecond off).
    public static func format(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let milli = Int(((ms % 1000) + 1000) % 1000)
        let seconds: Int64 = (ms - Int64(milli)) / 1000
        let days: Int64 = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let inDay = Int(seconds - days * 86400)
        // The civil date of a day count from 1970-01-01 (H. Hinnant's civil_from_days).
        let z: Int64 = days + 719468
        let era: Int64 = (z >= 0 ? z : z - 146096) / 146097
        let doe: Int64 = z - era * 146097
        let yoe: Int64 = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy: Int64 = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp: Int64 = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yoe + era * 400) + (month <= 2 ? 1 : 0)
        func digits(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        let date = digits(year, 4) + "-" + digits(month, 2) + "-" + digits(day, 2)
        let time = digits(inDay / 3600, 2) + ":" + digits(inDay / 60 % 60, 2) + ":" + digits(inDay % 60, 2)
        return date + "T" + time + "." + digits(milli, 3) + "Z"
    }

    public static func parse(_ text: String) -> Date? {
        if let d = utc(text) { return d }
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return d }
        if let d = try? Date.ISO8601FormatStyle().parse(text) { return d }
        // Upstreams also write a bare `2024-01-02T03:04:05` (UTC implied) or fractional seconds without zone.
        let trimmed = text.split(separator: ".").first.map(String.init) ?? text
        return try? Date.ISO8601FormatStyle().parse(trimmed.hasSuffix("Z") ? trimmed : trimmed + "Z")
    }

    /// The shape indexes write by the thousand, `YYYY-MM-DDTHH:MM:SS[.f…]Z`, read without a formatter;
    /// nil for anything else (then the formatters decide).
    static func utc(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20, b.last == UInt8(ascii: "Z"), b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for i in range {
                guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { return nil }
                n = n * 10 + Int(b[i] - UInt8(ascii: "0"))
            }
            return n
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
            let minute = number(14..<16), let second = number(17..<19), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
            second < 60
        else { return nil }
        var fraction = 0.0
        if b.count > 20 {
            guard b[19] == UInt8(ascii: "."), b.count > 21, b.count <= 30, number(20..<(b.count - 1)) != nil else { return nil }
            fraction = Double("0." + String(decoding: b[20..<(b.count - 1)], as: UTF8.self)) ?? 0
        } else {
            guard b[19] == UInt8(ascii: "Z") else { return nil }
        }
        // Days from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        guard day <= daysIn(month, year) else { return nil }
        return Date(timeIntervalSince1970: Double(days * 86400 + hour * 3600 + minute * 60 + second) + fraction)
    }

    private static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `YYYY-MM-DD` of the UTC day `date` falls in.
    public static func day(_ date: Date) -> String {
        String(format(date).prefix(10))
    }
}
