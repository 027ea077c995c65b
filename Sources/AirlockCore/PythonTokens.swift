/// Python source split into tokens the way the language reads it (PEP 8/tokenize rules, simplified):
/// names, string literals (any prefix, single or triple quoted), numbers and operators, each with its
/// line. Comments and line continuations are dropped, so text in a comment or a string is never taken
/// for code. Never fails: bytes it cannot place become one-character operators.
public struct PythonToken: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case name, string, number, op
    }

    public let kind: Kind
    /// A name or operator as written; a string literal's content (escapes left as written).
    public let text: String
    public let line: Int
}

public enum PythonTokens {
    /// Tokens of `source` (UTF-8; invalid bytes are tolerated). Line endings are read as Python reads
    /// them (universal newlines): CRLF and a lone CR end a line as LF does.
    public static func tokenize(_ raw: [UInt8]) -> [PythonToken] {
        let source = universalNewlines(raw)
        var tokens: [PythonToken] = []
        var i = 0
        var line = 1
        let n = source.count
        func isNameStart(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80 }
        func isNameByte(_ b: UInt8) -> Bool { isNameStart(b) || (b >= 0x30 && b <= 0x39) }
        while i < n {
            let b = source[i]
            switch b {
            case 0x0A:
                line += 1
                i += 1
            case 0x20, 0x09, 0x0D, 0x0C:
                i += 1
            case UInt8(ascii: "#"):
                while i < n, source[i] != 0x0A { i += 1 }
            case UInt8(ascii: "\\"):
                i += 1  // a line continuation (the newline is counted when reached)
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                let (text, next, lines) = string(source, from: i)
                tokens.append(PythonToken(kind: .string, text: text, line: line))
                line += lines
                i = next
            case _ where isNameStart(b):
                let start = i
                while i < n, isNameByte(source[i]) { i += 1 }
                let word = source[start..<i]
                // A string prefix (r, b, u, f and their pairs) directly before a quote.
                if i < n, source[i] == UInt8(ascii: "\"") || source[i] == UInt8(ascii: "'"), word.count <= 2,
                    word.allSatisfy({ "rRbBuUfF".utf8.contains($0) })
                {
                    let (text, next, lines) = string(source, from: i)
                    tokens.append(PythonToken(kind: .string, text: text, line: line))
                    line += lines
                    i = next
                } else {
                    tokens.append(PythonToken(kind: .name, text: String(decoding: word, as: UTF8.self), line: line))
                }
            case 0x30...0x39:
                let start = i
                while i < n, isNameByte(source[i]) || source[i] == UInt8(ascii: ".") { i += 1 }
                tokens.append(PythonToken(kind: .number, text: String(decoding: source[start..<i], as: UTF8.self), line: line))
            default:
                tokens.append(PythonToken(kind: .op, text: String(UnicodeScalar(b)), line: line))
                i += 1
            }
        }
        return tokens
    }

    /// CRLF and lone CR as LF.
    private static func universalNewlines(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(0x0D) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for (i, b) in bytes.enumerated() {
            if b == 0x0D {
                if i + 1 < bytes.count, bytes[i + 1] == 0x0A { continue }
                out.append(0x0A)
            } else {
                out.append(b)
            }
        }
        return out
    }

    /// A string literal starting at its opening quote: its content, the index after it, and the line
    /// breaks inside it. A backslash always takes the next byte along (in raw strings too, as Python
    /// reads them). An unterminated literal runs to the end of its line (or of the source, if triple).
    private static func string(_ s: [UInt8], from start: Int) -> (String, Int, Int) {
        let quote = s[start]
        let triple = start + 2 < s.count && s[start + 1] == quote && s[start + 2] == quote
        var i = start + (triple ? 3 : 1)
        let contentStart = i
        var lines = 0
        while i < s.count {
            let b = s[i]
            if b == UInt8(ascii: "\\") {
                if i + 1 < s.count, s[i + 1] == 0x0A { lines += 1 }
                i += 2
                continue
            }
            if b == 0x0A {
                if !triple { break }
                lines += 1
            }
            if b == quote {
                if !triple { return (String(decoding: s[contentStart..<i], as: UTF8.self), i + 1, lines) }
                if i + 2 < s.count, s[i + 1] == quote, s[i + 2] == quote {
                    return (String(decoding: s[contentStart..<i], as: UTF8.self), i + 3, lines)
                }
            }
            i += 1
        }
        let end = min(i, s.count)
        return (String(decoding: s[contentStart..<end], as: UTF8.self), end, lines)
    }
}
