/// A parsed JSON document (RFC 8259), for the large upstream documents a sync reads: a PyPI project
/// page can list thousands of files, and `JSONDecoder`'s Codable machinery costs more than the
/// network. Objects keep their members in order (lookups are linear: index objects are small).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member `key` of an object (the first, if repeated); nil for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var isNull: Bool { self == .null }

    /// A number that is a whole `Int`, or nil.
    public var int: Int? {
        guard case .number(let d) = self, d.rounded() == d, abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }

    /// The kind of value, for messages ("expected a string, found an array").
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Parses `bytes` (UTF-8) as one JSON value; throws `JSONValue.SyntaxError` naming the byte offset.
    public init(parsing bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(bytes: buffer)
            let value = try reader.value(depth: 0)
            reader.skipSpace()
            guard reader.position == buffer.count else { throw reader.error("unexpected data after the document") }
            return value
        }
    }

    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "\(reason) at byte \(offset)" }
    }
}

/// Reads a JSON document member by member, for documents too large to build whole (a PyPI project page
/// lists tens of thousands of files): the caller takes each member's value as a `JSONValue`, or walks
/// into it. Each closure given a `JSONPull` must take exactly one value from it.
public struct JSONPull {
    fileprivate var reader: JSONReader
    fileprivate var depth = 0

    /// Reads `bytes` (UTF-8) with `body`, which must take the one top-level value; throws
    /// `JSONValue.SyntaxError` for malformed JSON or data after the document.
    public static func reading<T>(_ bytes: [UInt8], _ body: (inout JSONPull) throws -> T) throws -> T {
        try bytes.withUnsafeBufferPointer { buffer in
            var pull = JSONPull(reader: JSONReader(bytes: buffer))
            let result = try body(&pull)
            pull.reader.skipSpace()
            guard pull.reader.position == buffer.count else { throw pull.reader.error("unexpected data after the document") }
            return result
        }
    }

    /// The kind of the next value ("an object", "an array", …), for messages and checks; nil at the end.
    public mutating func nextKind() -> String? {
        reader.skipSpace()
        guard reader.position < reader.bytes.count else { return nil }
        switch reader.bytes[reader.position] {
        case UInt8(ascii: "{"): return "an object"
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a boolean"
        case UInt8(ascii: "n"): return "null"
        default: return "a number"
        }
    }

    /// The next value, whole.
    public mutating func value() throws -> JSONValue { try reader.value(depth: depth) }

    /// Walks the next value, an object, calling `each` with every member's name.
    public mutating func members(_ each: (String, inout JSONPull) throws -> Void) throws {
        try enter(open: "{", close: "}", what: "object") { pull in
            guard pull.reader.position < pull.reader.bytes.count, pull.reader.bytes[pull.reader.position] == UInt8(ascii: "\"") else {
                throw pull.reader.error("expected a member name")
            }
            let key = try pull.reader.string()
            pull.reader.skipSpace()
            guard pull.reader.position < pull.reader.bytes.count, pull.reader.bytes[pull.reader.position] == UInt8(ascii: ":") else {
                throw pull.reader.error("expected ':' after member name")
            }
            pull.reader.position += 1
            try each(key, &pull)
        }
    }

    /// Walks the next value, an array, calling `each` with every element's place.
    public mutating func elements(_ each: (Int, inout JSONPull) throws -> Void) throws {
        var i = 0
        try enter(open: "[", close: "]", what: "array") { pull in
            try each(i, &pull)
            i += 1
        }
    }

    private mutating func enter(open: Unicode.Scalar, close: Unicode.Scalar, what: String, _ item: (inout JSONPull) throws -> Void) throws {
        reader.skipSpace()
        guard reader.position < reader.bytes.count, reader.bytes[reader.position] == UInt8(ascii: open) else {
            throw reader.error("expected an \(what)")
        }
        guard depth < maxDepth else { throw reader.error("nesting deeper than \(maxDepth) levels") }
        depth += 1
        defer { depth -= 1 }
        reader.position += 1
        reader.skipSpace()
        if reader.position < reader.bytes.count, reader.bytes[reader.position] == UInt8(ascii: close) {
            reader.position += 1
            return
        }
        while true {
            reader.skipSpace()
            try item(&self)
            reader.skipSpace()
            guard reader.position < reader.bytes.count else { throw reader.error("unterminated \(what)") }
            if reader.bytes[reader.position] == UInt8(ascii: ",") {
                reader.position += 1
            } else if reader.bytes[reader.position] == UInt8(ascii: close) {
                reader.position += 1
                return
            } else {
                throw reader.error("expected ',' or '\(close)' in an \(what)")
            }
        }
    }
}

/// Nesting deeper than this is refused (a hostile document must not exhaust the stack).
private let maxDepth = 128

private struct JSONReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func error(_ reason: String) -> JSONValue.SyntaxError { JSONValue.SyntaxError(offset: position, reason: reason) }

    mutating func skipSpace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        skipSpace()
        guard position < bytes.count else { throw error("unexpected end of the document") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character '\(Unicode.Scalar(bytes[position]))'")
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        let matches = position + n <= bytes.count && word.withUTF8Buffer { w in (0..<n).allSatisfy { bytes[position + $0] == w[$0] } }
        guard matches else { throw error("invalid literal") }
        position += n
    }

    mutating func object(depth: Int) throws -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
        position += 1
        var members: [(String, JSONValue)] = []
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try string()
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':' after member name") }
            position += 1
            members.append((key, try value(depth: depth)))
            skipSpace()
            guard position < bytes.count else { throw error("unterminated object") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            } else {
                throw error("expected ',' or '}' in an object")
            }
        }
    }

    mutating func array(depth: Int) throws -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
        position += 1
        var elements: [JSONValue] = []
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            elements.append(try value(depth: depth))
            skipSpace()
            guard position < bytes.count else { throw error("unterminated array") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            } else {
                throw error("expected ',' or ']' in an array")
            }
        }
    }

    mutating func string() throws -> String {
        position += 1
        let start = position
        // The common case: no escapes, copied in one go (validated as UTF-8 unless every byte is ASCII).
        var ascii = true
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                let text =
                    ascii ? String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self) : try utf8(start..<position)
                position += 1
                return text
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("control character in a string") }
            if b >= 0x80 { ascii = false }
            position += 1
        }
        var out = Array(bytes[start..<position])
        while position < bytes.count {
            let b = bytes[position]
            switch b {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: out, as: UTF8.self) else { throw error("string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw error("unterminated escape") }
                let e = bytes[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out.append(contentsOf: Array(String(try unicodeEscape()).utf8))
                default: throw error("invalid escape '\\\(Unicode.Scalar(e))'")
                }
            default:
                if b < 0x20 { throw error("control character in a string") }
                out.append(b)
                position += 1
            }
        }
        throw error("unterminated string")
    }

    /// `\uXXXX` (after the `u`), joining a surrogate pair; a lone surrogate is an error.
    mutating func unicodeEscape() throws -> Unicode.Scalar {
        let high = try hex4()
        if (0xD800..<0xDC00).contains(high) {
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                throw error("unpaired surrogate in a \\u escape")
            }
            position += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in a \\u escape") }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
        }
        guard let scalar = Unicode.Scalar(high) else { throw error("unpaired surrogate in a \\u escape") }
        return scalar
    }

    mutating func hex4() throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[position]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            v = v << 4 | UInt32(digit)
            position += 1
        }
        return v
    }

    func utf8(_ range: Range<Int>) throws -> String {
        guard let text = String(validating: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) else {
            throw JSONValue.SyntaxError(offset: range.lowerBound, reason: "string is not valid UTF-8")
        }
        return text
    }

    /// RFC 8259 number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func number() throws -> Double {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        func digits() -> Int {
            let from = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            return position - from
        }
        guard position < bytes.count else { throw error("invalid number") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else if digits() == 0 {
            throw error("invalid number")
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { throw error("invalid number") }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw error("invalid number") }
        }
        guard let value = Double(try utf8(start..<position)) else { throw JSONValue.SyntaxError(offset: start, reason: "invalid number") }
        return value
    }
}
