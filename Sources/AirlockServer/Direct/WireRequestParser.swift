import AirlockCore
import NIOHTTP1

/// A strict reader of HTTP/1.x request heads for the `WireResponder`: it accepts only a plain GET or
/// HEAD of an origin-form target with a bodiless, unambiguous head, and says nil to anything else,
/// which then goes to NIO's full parser (llhttp) and the router. Being stricter than llhttp, it can
/// never read a message boundary differently from it: a head it accepts has no body.
package enum WireRequestParser {
    static let maxTarget = 4096
    static let maxFields = 100

    /// The length of the head up to and including its blank line, if the head is complete within `limit` bytes.
    package static func headLength(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Int? {
        let n = min(bytes.count, limit)
        guard n >= 4 else { return nil }
        var i = 3
        while i < n {
            if bytes[i] == 0x0A, bytes[i - 1] == 0x0D, bytes[i - 2] == 0x0A, bytes[i - 3] == 0x0D { return i + 1 }
            i += 1
        }
        return nil
    }

    /// The request a complete head (as measured by `headLength`) makes, or nil to hand it on.
    package static func parse(_ b: UnsafeRawBufferPointer) -> DirectRequest? {
        var request = DirectRequest()
        var i: Int
        if starts(b, at: 0, "GET ") {
            i = 4
        } else if starts(b, at: 0, "HEAD ") {
            request.isHead = true
            i = 5
        } else {
            return nil
        }
        let targetStart = i
        while i < b.count, b[i] != 0x20 {
            guard (0x21...0x7E).contains(b[i]) else { return nil }
            i += 1
        }
        guard i > targetStart, i - targetStart <= maxTarget, b[targetStart] == UInt8(ascii: "/") else { return nil }
        request.target = Substring(decoding: UnsafeRawBufferPointer(rebasing: b[targetStart..<i]), as: UTF8.self)
        i += 1
        if starts(b, at: i, "HTTP/1.1\r\n") {
            request.version = .http1_1
        } else if starts(b, at: i, "HTTP/1.0\r\n") {
            request.version = .http1_0
        } else {
            return nil
        }
        i += 10
        var close = false
        var keepAlive = false
        var hasLength = false
        var fields = 0
        while !(b[i] == 0x0D && b[i + 1] == 0x0A) {
            fields += 1
            guard fields <= maxFields else { return nil }
            let nameStart = i
            while b[i] != UInt8(ascii: ":") {
                guard isTokenByte(b[i]) else { return nil }
                i += 1
            }
            let name = nameStart..<i
            guard !name.isEmpty else { return nil }
            i += 1
            while b[i] == 0x20 || b[i] == 0x09 { i += 1 }
            let valueStart = i
            while b[i] != 0x0D {
                guard (0x20...0x7E).contains(b[i]) || b[i] == 0x09 else { return nil }
                i += 1
            }
            // Trailing whitespace: RFC 9110 drops it, NIO keeps it; such a head goes to NIO, so both paths read alike.
            guard b[i + 1] == 0x0A, i == valueStart || (b[i - 1] != 0x20 && b[i - 1] != 0x09) else { return nil }
            let valueEnd = i
            i += 2
            let value = { String(decoding: UnsafeRawBufferPointer(rebasing: b[valueStart..<valueEnd]), as: UTF8.self) }
            if named(b, name, "accept") {
                request.accept = request.accept.map { "\($0), \(value())" } ?? value()
            } else if named(b, name, "if-none-match") {
                guard request.ifNoneMatch == nil else { return nil }
                request.ifNoneMatch = value()
            } else if named(b, name, "range") {
                guard request.range == nil else { return nil }
                request.range = value()
            } else if named(b, name, "authorization") {
                guard request.authorization == nil else { return nil }
                request.authorization = value()
            } else if named(b, name, "connection") {
                for token in value().lowercased().split(separator: ",") {
                    let t = token.trimmingWhitespace()
                    if t == "close" { close = true } else if t == "keep-alive" { keepAlive = true }
                }
            } else if named(b, name, "content-length") {
                guard !hasLength, valueEnd - valueStart == 1, b[valueStart] == UInt8(ascii: "0") else { return nil }
                hasLength = true
            } else if named(b, name, "transfer-encoding") || named(b, name, "expect") || named(b, name, "upgrade") {
                return nil
            }
        }
        // Both tokens: llhttp lets `keep-alive` win on HTTP/1.0 and `close` on 1.1; such a head goes to NIO.
        guard !(close && keepAlive) else { return nil }
        request.keepAlive = request.version == .http1_1 ? !close : keepAlive
        return request
    }

    private static func starts(_ b: UnsafeRawBufferPointer, at offset: Int, _ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard b.count - offset >= n else { return false }
        let p = text.utf8Start
        for k in 0..<n where b[offset + k] != p[k] { return false }
        return true
    }

    /// Whether the field name at `range` is `lowercase`, in any case.
    private static func named(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, _ lowercase: StaticString) -> Bool {
        guard range.count == lowercase.utf8CodeUnitCount else { return false }
        let p = lowercase.utf8Start
        for k in 0..<range.count {
            var c = b[range.lowerBound + k]
            if c >= 0x41 && c <= 0x5A { c |= 0x20 }
            if c != p[k] { return false }
        }
        return true
    }

    /// RFC 9110 tchar.
    private static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(c)
        }
    }
}
