import AirlockCore
import Foundation
import Testing

@Suite struct JSONValueTests {
    @Test func readsEveryKindOfValue() throws {
        let text = #"""
             {"s": "a\"b\\c\/d\n\u00e9\ud83d\ude00", "n": -12.5e2, "z": 0, "big": 123456789012, "t": true, "f": false, "x": null,
              "a": [1, [2, []], {}], "o": {"k": "v", "k": "second"}, "utf8": "naïve 日本"}
            """#
        let v = try JSONValue(parsing: Array(text.utf8))
        #expect(v["s"]?.string == "a\"b\\c/d\né😀")
        #expect(v["n"] == .number(-1250))
        #expect(v["z"]?.int == 0)
        #expect(v["big"]?.int == 123_456_789_012)
        #expect(v["t"] == .bool(true) && v["f"] == .bool(false) && v["x"]?.isNull == true)
        #expect(v["a"]?.array?.count == 3)
        #expect(v["o"]?["k"]?.string == "v", "a repeated member: the first stands")
        #expect(v["utf8"]?.string == "naïve 日本")
        #expect(v["missing"] == nil && v["s"]?["k"] == nil)
    }

    /// Whatever Foundation's parser accepts as an object, this reads to the same values; and random
    /// documents round-trip.
    @Test func agreesWithFoundationOnGeneratedDocuments() throws {
        var rng = SystemRandomNumberGenerator()
        func random(_ depth: Int) -> Any {
            switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &rng) {
            case 0: return Int.random(in: -1_000_000...1_000_000, using: &rng)
            case 1: return String((0..<Int.random(in: 0..<12, using: &rng)).map { _ in "aé\"\\\n\t/😀z\u{1}".randomElement(using: &rng)! })
            case 2: return Bool.random(using: &rng)
            case 3: return NSNull()
            case 4: return (0..<Int.random(in: 0..<4, using: &rng)).map { _ in random(depth + 1) }
            default: return Dictionary(uniqueKeysWithValues: (0..<Int.random(in: 0..<4, using: &rng)).map { i in ("k\(i)", random(depth + 1)) })
            }
        }
        func same(_ a: JSONValue, _ b: Any) -> Bool {
            switch (a, b) {
            case (.null, is NSNull): return true
            case (.string(let s), let t as String): return s == t
            case (.bool(let x), let y as Bool): return x == y
            case (.number(let x), let y as Int): return x == Double(y)
            case (.array(let x), let y as [Any]): return x.count == y.count && zip(x, y).allSatisfy(same)
            case (.object(let x), let y as [String: Any]): return x.count == y.count && x.allSatisfy { k, v in y[k].map { same(v, $0) } ?? false }
            default: return false
            }
        }
        for _ in 0..<300 {
            let document: [String: Any] = ["root": random(0)]
            let bytes = Array(try JSONSerialization.data(withJSONObject: document, options: [.fragmentsAllowed]))
            let parsed = try JSONValue(parsing: bytes)
            #expect(same(parsed, document), "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func refusesMalformedDocumentsNamingTheOffset() {
        let bad: [(String, Int)] = [
            (#"{"a": 1,}"#, 8), (#"{"a" 1}"#, 5), (#"["unterminated"#, 14), ("[\"tab\there\"]", 5), (#"["\ud800"]"#, 8),
            (#"["\x"]"#, 4), ("[01]", 2), ("[1.]", 3), ("[-]", 2), ("[1e]", 3), (#"{"a": tru}"#, 6), ("[1] [2]", 4), ("", 0), ("{", 1),
        ]
        for (text, offset) in bad {
            #expect {
                try JSONValue(parsing: Array(text.utf8))
            } throws: { error in
                (error as? JSONValue.SyntaxError)?.offset == offset
            }
        }
        #expect(throws: JSONValue.SyntaxError.self, "invalid UTF-8 in a string") { try JSONValue(parsing: [0x5B, 0x22, 0xFF, 0x22, 0x5D]) }
        #expect(throws: JSONValue.SyntaxError.self, "hostile nesting is refused, not a stack overflow") {
            try JSONValue(parsing: Array(String(repeating: "[", count: 100_000).utf8))
        }
    }

    /// The formatter-free reading of index timestamps gives what the ISO 8601 formatter gives, and
    /// leaves every other shape to it.
    @Test func indexTimestampsReadAsTheFormatterReadsThem() throws {
        var rng = SystemRandomNumberGenerator()
        let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for _ in 0..<2000 {
            let date = Date(timeIntervalSince1970: Double(Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &rng)) / 1000)
            let text = date.formatted(withFraction)
            let expected = try withFraction.parse(text)
            #expect(abs((Timestamp.parse(text) ?? .distantPast).timeIntervalSince(expected)) < 0.000_5, "\(text)")
            let whole = String(text.prefix(19)) + "Z"
            #expect(Timestamp.parse(whole) == (try Date.ISO8601FormatStyle().parse(whole)), "\(whole)")
        }
        #expect(Timestamp.parse("2024-01-02T03:04:05.123456Z").map(Timestamp.format) == "2024-01-02T03:04:05.123Z")
        // What airlock writes reads back to the same text (stored timestamps are compared as text), and is
        // what the formatter writes for a whole millisecond.
        for _ in 0..<5000 {
            let ms = Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &rng)
            let text = Timestamp.format(Date(timeIntervalSince1970: Double(ms) / 1000))
            #expect(Timestamp.parse(text).map(Timestamp.format) == text, "\(text)")
            #expect(text == Date(timeIntervalSince1970: Double(ms) / 1000 + 0.000_1).formatted(withFraction), "\(ms)")
        }
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0.9996)) == "1970-01-01T00:00:01.000Z", "rounded, not truncated")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.parse("2024-02-29T00:00:00Z") != nil)
        // Impossible dates are left to the formatters (which roll them over, as they always did here).
        let formatter = Date.ISO8601FormatStyle()
        for odd in ["2023-02-29T00:00:00Z", "2024-01-01T24:00:00Z", "2024-04-31T12:00:00Z"] {
            #expect(Timestamp.parse(odd) == (try? formatter.parse(odd)), "\(odd)")
        }
        #expect(Timestamp.parse("2024-01-02T03:04:05") != nil, "a bare time, UTC implied, still reads (through the formatter)")
    }
}
