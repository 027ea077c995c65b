/// A project name normalized as PEP 503 says: lowercase, runs of `-`, `_`, `.` folded to one `-`.
///
/// `ProjectName("Foo.Bar__baz")` and `ProjectName("foo-bar-baz")` are equal; `display` keeps
/// the spelling first seen, for pages meant for people.
public struct ProjectName: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let normalized: String
    public let display: String

    public init(_ raw: String) {
        self.display = raw
        self.normalized = ProjectName.normalize(raw)
    }

    public init(normalized: String, display: String) {
        self.normalized = normalized
        self.display = display
    }

    public static func normalize(_ raw: String) -> String {
        if isNormalized(raw) { return raw }
        if raw.utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII (every real name): byte by byte, no grapheme breaking.
            var out: [UInt8] = []
            out.reserveCapacity(raw.utf8.count)
            var pendingSeparator = false
            for b in raw.utf8 {
                if b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") {
                    pendingSeparator = true
                } else {
                    if pendingSeparator && !out.isEmpty { out.append(UInt8(ascii: "-")) }
                    pendingSeparator = false
                    out.append(b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
        var out = ""
        out.reserveCapacity(raw.utf8.count)
        var pendingSeparator = false
        for ch in raw.lowercased() {
            if ch == "-" || ch == "_" || ch == "." {
                pendingSeparator = true
            } else {
                if pendingSeparator && !out.isEmpty { out.append("-") }
                pendingSeparator = false
                out.append(ch)
            }
        }
        return out
    }

    /// True when `raw` is already in normal form: lowercase ASCII letters and digits, single inner dashes.
    public static func isNormalized(_ raw: String) -> Bool {
        var previousDash = true
        for b in raw.utf8 {
            if b == UInt8(ascii: "-") {
                if previousDash { return false }
                previousDash = true
            } else if (b >= 97 && b <= 122) || (b >= 48 && b <= 57) {
                previousDash = false
            } else {
                return false
            }
        }
        return !previousDash
    }

    /// True when `raw` is a valid project name (PEP 508 identifier rules).
    public static func isValid(_ raw: String) -> Bool {
        guard let first = raw.utf8.first, let last = raw.utf8.last else { return false }
        func alnum(_ b: UInt8) -> Bool {
            (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") || b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")
        }
        guard alnum(first), alnum(last) else { return false }
        return raw.utf8.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    public var description: String { normalized }
    public static func == (a: ProjectName, b: ProjectName) -> Bool { a.normalized == b.normalized }
    public func hash(into h: inout Hasher) { h.combine(normalized) }
    public static func < (a: ProjectName, b: ProjectName) -> Bool { a.normalized < b.normalized }
}
