import AirlockCore
import TOMLKit

/// Decodes TOML strictly: every problem (syntax, a missing or mistyped field, an unknown key) is an
/// `AirlockError` naming the file, the line and the dotted field, and nothing half-decoded is returned.
/// The policy loader and the configuration loader share it.
public enum StrictTOML {
    public static func decode<T: Decodable>(_ type: T.Type, from text: String, path: String) throws -> T {
        if let line = namelessTableHeader(in: text) {
            throw AirlockError(.invalidArgument, "\(path):\(line): TOML syntax error: a table header needs a name after '['")
        }
        if let (line, problem) = unbalancedBracket(in: text) {
            throw AirlockError(.invalidArgument, "\(path):\(line): TOML syntax error: \(problem)")
        }
        do {
            return try TOMLDecoder(strictDecoding: true).decode(T.self, from: text)
        } catch let e as TOMLParseError {
            throw AirlockError(.invalidArgument, "\(path):\(e.source.begin.line): TOML syntax error: \(e.description)")
        } catch let e as UnexpectedKeysError {
            let (key, codingPath) = e.keys.sorted { $0.key < $1.key }.first!
            var keys = codingPath.map(\.stringValue)
            if keys.last != key { keys.append(key) }
            throw AirlockError(.invalidArgument, "\(path):\(line(of: keys, in: text)): unknown field '\(keys.joined(separator: "."))'")
        } catch let e as DecodingError {
            throw describe(e, path: path, text: text)
        }
    }

    static func describe(_ error: DecodingError, path: String, text: String) -> AirlockError {
        func field(_ c: DecodingError.Context, _ key: (any CodingKey)? = nil) -> [String] {
            var keys = c.codingPath.map(\.stringValue).filter { Int($0) == nil }
            if let key, keys.last != key.stringValue { keys.append(key.stringValue) }
            return keys
        }
        func at(_ keys: [String], _ message: String) -> AirlockError {
            AirlockError(.invalidArgument, "\(path):\(line(of: keys, in: text)): \(message)")
        }
        switch error {
        case .keyNotFound(let key, let c):
            // TOMLKit reports a value of the wrong type as a missing key: tell the two apart by the text.
            let keys = field(c, key)
            guard exactLine(of: keys, in: text) != nil else { return at(keys, "missing field '\(keys.joined(separator: "."))'") }
            let expected =
                c.debugDescription.contains("\"Double\"") || c.debugDescription.contains("\"Int\"")
                ? "a number"
                : c.debugDescription.contains("\"String\"") ? "a string" : c.debugDescription.contains("Array") ? "a list" : "a table"
            return at(keys, "field '\(keys.joined(separator: "."))' should be \(expected)")
        case .typeMismatch(let type, let c), .valueNotFound(let type, let c):
            return at(field(c), "field '\(field(c).joined(separator: "."))' should be \(describe(type))")
        case .dataCorrupted(let c):
            return at(field(c), "field '\(field(c).joined(separator: "."))': \(c.debugDescription)")
        @unknown default:
            return AirlockError(.invalidArgument, "\(path): \(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Int.Type: return "a number"
        case is String.Type: return "a string"
        case is Verdict.Type: return "one of \"approve\", \"review\", \"deny\""
        case is [String].Type: return "a list of strings"
        default: return "a \(type)"
        }
    }

    /// The 1-based line where a dotted field is set, else its table's header, else 1.
    public static func line(of field: [String], in text: String) -> Int {
        exactLine(of: field, in: text) ?? exactLine(of: Array(field.dropLast()), in: text) ?? 1
    }

    /// The line of `key =` under the field's `[table]` header (or of the header itself), if present.
    static func exactLine(of field: [String], in text: String) -> Int? {
        guard let last = field.last else { return nil }
        let table = field.dropLast().joined(separator: ".")
        var current = ""
        for (index, raw) in text.textLines.enumerated() {
            let l = raw.trimmingWhitespace()
            if l.hasPrefix("[") {
                current = String(l.prefix { $0 != "#" }.filter { $0 != "[" && $0 != "]" }).trimmingWhitespace()
                if current == field.joined(separator: ".") { return index + 1 }
                continue
            }
            if current == table, l.hasPrefix(last), l.dropFirst(last.count).trimmingWhitespace().hasPrefix("=") { return index + 1 }
        }
        return nil
    }

    /// The line of a table header with no name (`[` or `[[` and then no key: the end of the line, a
    /// comment, another `[`), at
    /// the top level (not inside a multi-line array). toml++, under TOMLKit, asserts on it instead of
    /// reporting an error (found by fuzzing), so it is refused here first.
    static func namelessTableHeader(in text: String) -> Int? {
        // Unicode scalars, not Characters: `[` and a combining mark are one Character.
        var depth = 0
        for (index, line) in Array(text.unicodeScalars).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = line.drop(while: { $0 == " " || $0 == "\t" })
            if depth == 0, rest.first == "[" {
                rest = rest.dropFirst()
                if rest.first == "[" { rest = rest.dropFirst() }  // an array of tables: `[[`, never `[[[`
                rest = rest.drop(while: { $0 == " " || $0 == "\t" })
                guard let c = rest.first, c.isASCII, c.properties.isAlphabetic || ("0"..."9").contains(c) || "-_\"'".unicodeScalars.contains(c) else {
                    return index + 1
                }
                continue
            }
            var quote: Unicode.Scalar?
            for c in line {
                if let q = quote {
                    if c == q { quote = nil }
                } else if c == "\"" || c == "'" {
                    quote = c
                } else if c == "#" {
                    break
                } else if c == "[" {
                    depth += 1
                } else if c == "]" {
                    depth = max(0, depth - 1)
                }
            }
        }
        return nil
    }

    /// The first bracket outside strings and comments that closes what is not open (`[}`), or one left
    /// open at the end, with its line. toml++ asserts on some of these instead of reporting them
    /// (found by fuzzing), so they are refused first.
    static func unbalancedBracket(in text: String) -> (Int, String)? {
        var open: [(Unicode.Scalar, Int)] = []
        var line = 1
        var quote: [Unicode.Scalar] = []  // the delimiter of the string we are in: one or three quote marks
        var inComment = false
        let chars = Array(text.unicodeScalars)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\n" {
                line += 1
                inComment = false
                if quote.count == 1 { quote = [] }  // a one-line string ends with its line (TOMLKit reports it)
                i += 1
                continue
            }
            if inComment {
                i += 1
                continue
            }
            if !quote.isEmpty {
                if c == "\\" && quote.first == "\"" {
                    i += 2
                    continue
                }
                if Array(chars[i..<min(i + quote.count, chars.count)]) == quote {
                    i += quote.count
                    quote = []
                } else {
                    i += 1
                }
                continue
            }
            switch c {
            case "#": inComment = true
            case "\"", "'":
                let triple = i + 2 < chars.count && chars[i + 1] == c && chars[i + 2] == c
                quote = triple ? [c, c, c] : [c]
                i += triple ? 3 : 1
                continue
            case "[", "{": open.append((c, line))
            case "]", "}":
                guard let last = open.popLast(), (last.0 == "[") == (c == "]") else { return (line, "'\(c)' closes nothing that is open here") }
            default: break
            }
            i += 1
        }
        if let last = open.last { return (last.1, "'\(last.0)' is never closed") }
        return nil
    }
}
