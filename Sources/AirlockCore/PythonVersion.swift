/// A version as PEP 440 defines it, ordered as PEP 440 orders it.
///
/// `PythonVersion("1.0rc1") < PythonVersion("1.0")`; `"1.0.post1"` sorts after `"1.0"`;
/// `"1!0.1"` sorts after every version of epoch 0. Non-conforming strings fail to parse.
public struct PythonVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum PreKind: Int, Sendable, Comparable {
        case alpha = 0
        case beta = 1
        case rc = 2
        public static func < (a: PreKind, b: PreKind) -> Bool { a.rawValue < b.rawValue }
        var label: String { ["a", "b", "rc"][rawValue] }
    }

    public struct Pre: Hashable, Sendable {
        public let kind: PreKind
        public let number: Int
    }

    /// One dot-separated piece of a local version label: numbers sort after letters.
    public enum LocalPart: Hashable, Sendable, Comparable {
        case text(String)
        case number(Int)
        public static func < (a: LocalPart, b: LocalPart) -> Bool {
            switch (a, b) {
            case (.number(let x), .number(let y)): return x < y
            case (.text(let x), .text(let y)): return x < y
            case (.text, .number): return true
            case (.number, .text): return false
            }
        }
    }

    public let epoch: Int
    public let release: [Int]
    public let pre: Pre?
    public let post: Int?
    public let dev: Int?
    public let local: [LocalPart]

    public var isPrerelease: Bool { pre != nil || dev != nil }
    public var isPostrelease: Bool { post != nil }

    /// The same version without its local label.
    public var publicVersion: PythonVersion {
        PythonVersion(epoch: epoch, release: release, pre: pre, post: post, dev: dev, local: [])
    }

    /// The final release this version belongs to (`1.0rc1.dev2` → `1.0`).
    public var baseVersion: PythonVersion {
        PythonVersion(epoch: epoch, release: release, pre: nil, post: nil, dev: nil, local: [])
    }

    public init(epoch: Int = 0, release: [Int], pre: Pre? = nil, post: Int? = nil, dev: Int? = nil, local: [LocalPart] = []) {
        self.epoch = epoch
        self.release = release
        self.pre = pre
        self.post = post
        self.dev = dev
        self.local = local
    }

    /// Parses a PEP 440 version, accepting the spec's permitted spellings (`v1.0`, `1.0-1`, `1.0.RC1`).
    public init?(_ text: String) {
        var s = Scanner440(text.lowercased().trimmingWhitespace())
        s.skip("v")
        var epoch = 0
        var first = s.number()
        guard first != nil else { return nil }
        if s.skip("!") {
            epoch = first!
            first = s.number()
            guard first != nil else { return nil }
        }
        var release = [first!]
        while s.peek(".") && s.peekDigit(at: 1) {
            s.skip(".")
            release.append(s.number() ?? 0)
        }
        var pre: Pre?
        let save = s.position
        s.skipSeparator()
        if let label = s.label(["alpha", "beta", "preview", "pre", "rc", "a", "b", "c"]) {
            let kind: PreKind =
                switch label {
                case "alpha", "a": .alpha
                case "beta", "b": .beta
                default: .rc
                }
            s.skipSeparator()
            pre = Pre(kind: kind, number: s.number() ?? 0)
        } else {
            s.position = save
        }
        var post: Int?
        let savePost = s.position
        if s.skip("-"), let n = s.number() {
            post = n
        } else {
            s.position = savePost
            s.skipSeparator()
            if s.label(["post", "rev", "r"]) != nil {
                s.skipSeparator()
                post = s.number() ?? 0
            } else {
                s.position = savePost
            }
        }
        var dev: Int?
        let saveDev = s.position
        s.skipSeparator()
        if s.label(["dev"]) != nil {
            s.skipSeparator()
            dev = s.number() ?? 0
        } else {
            s.position = saveDev
        }
        var local: [LocalPart] = []
        if s.skip("+") {
            let rest = s.rest()
            let parts = rest.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "." || $0 == "-" || $0 == "_" })
            guard !parts.isEmpty else { return nil }
            for part in parts {
                guard !part.isEmpty, part.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
                local.append(Int(part).map(LocalPart.number) ?? .text(String(part)))
            }
        }
        guard s.atEnd, !s.overflowed else { return nil }
        self.init(epoch: epoch, release: release, pre: pre, post: post, dev: dev, local: local)
    }

    /// The normalized form (`1.0rc1.post2.dev3+local.7`).
    public var description: String {
        var out = epoch != 0 ? "\(epoch)!" : ""
        out += release.map(String.init).joined(separator: ".")
        if let pre { out += "\(pre.kind.label)\(pre.number)" }
        if let post { out += ".post\(post)" }
        if let dev { out += ".dev\(dev)" }
        if !local.isEmpty {
            out +=
                "+"
                + local.map { part -> String in
                    switch part {
                    case .number(let n): return String(n)
                    case .text(let t): return t
                    }
                }.joined(separator: ".")
        }
        return out
    }

    public static func == (a: PythonVersion, b: PythonVersion) -> Bool { compare(a, b) == 0 }

    public func hash(into h: inout Hasher) {
        h.combine(epoch)
        var r = release
        while r.count > 1 && r.last == 0 { r.removeLast() }
        h.combine(r)
        h.combine(pre)
        h.combine(post)
        h.combine(dev)
        h.combine(local)
    }

    public static func < (a: PythonVersion, b: PythonVersion) -> Bool { compare(a, b) < 0 }

    /// Three-way comparison in PEP 440 order.
    public static func compare(_ a: PythonVersion, _ b: PythonVersion) -> Int {
        if a.epoch != b.epoch { return a.epoch < b.epoch ? -1 : 1 }
        let n = max(a.release.count, b.release.count)
        for i in 0..<n {
            let x = i < a.release.count ? a.release[i] : 0
            let y = i < b.release.count ? b.release[i] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        // Pre-release key: a dev-only release sorts before any pre-release; a final release after.
        let preA = preKey(a)
        let preB = preKey(b)
        if preA != preB { return preA < preB ? -1 : 1 }
        let postA = a.post ?? -1
        let postB = b.post ?? -1
        if postA != postB { return postA < postB ? -1 : 1 }
        let devA = a.dev ?? Int.max
        let devB = b.dev ?? Int.max
        if devA != devB { return devA < devB ? -1 : 1 }
        if a.local != b.local {
            if a.local.isEmpty { return -1 }
            if b.local.isEmpty { return 1 }
            return a.local.lexicographicallyPrecedes(b.local) ? -1 : 1
        }
        return 0
    }

    private static func preKey(_ v: PythonVersion) -> Int {
        if let pre = v.pre { return pre.kind.rawValue * 1_000_000_000 + pre.number }
        if v.post == nil && v.dev != nil { return Int.min }
        return Int.max
    }
}

/// A tiny cursor over ASCII text, for the version and requirement grammars.
/// Reads a version string byte by byte (UTF-8): every character PEP 440 gives meaning is ASCII, and
/// any other byte matches nothing, so the parse rejects it where it stands.
struct Scanner440 {
    let bytes: [UInt8]
    var position = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    var atEnd: Bool { position >= bytes.count }

    func peek(_ c: Unicode.Scalar) -> Bool { position < bytes.count && bytes[position] == UInt8(ascii: c) }

    func peekDigit(at offset: Int) -> Bool {
        let i = position + offset
        return i < bytes.count && Self.isDigit(bytes[i])
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    @discardableResult
    mutating func skip(_ c: Unicode.Scalar) -> Bool {
        if peek(c) {
            position += 1
            return true
        }
        return false
    }

    mutating func skipSeparator() {
        if peek("-") || peek("_") || peek(".") { position += 1 }
    }

    /// A number too large for `Int` (a version no installer could compare sensibly): the parse fails.
    var overflowed = false

    /// The digits at the position, or nil when there are none.
    mutating func number() -> Int? {
        let start = position
        var value = 0
        while position < bytes.count, Self.isDigit(bytes[position]) {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(bytes[position] - UInt8(ascii: "0")))
            if o1 || o2 { overflowed = true }
            value = sum
            position += 1
        }
        guard position > start else { return nil }
        return overflowed ? 0 : value
    }

    /// Matches the first of `labels` (ASCII) that the text continues with.
    mutating func label(_ labels: [StaticString]) -> String? {
        for l in labels {
            let n = l.utf8CodeUnitCount
            guard position + n <= bytes.count else { continue }
            let matches = l.withUTF8Buffer { label in (0..<n).allSatisfy { bytes[position + $0] == label[$0] } }
            if matches {
                position += n
                return l.description
            }
        }
        return nil
    }

    mutating func rest() -> String {
        defer { position = bytes.count }
        return String(decoding: bytes[position...], as: UTF8.self)
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces, tabs and newlines.
    public func trimmingWhitespace() -> String {
        // Most text has no space at either end: answered from the UTF-8 bytes, without grapheme breaking.
        let bytes = String(self).utf8
        if let first = bytes.first, let last = bytes.last, first > 0x20, first < 0x80, last > 0x20, last < 0x80 { return String(self) }
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
