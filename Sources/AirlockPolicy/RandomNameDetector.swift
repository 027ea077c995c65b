public import AirlockCore

/// Names that read as random keystrokes (`kjfgjsfgj`, `jxzspwqwup`, `sdgsdghsdhd12`): throwaway names,
/// a mark of uploads made to be installed by a script rather than found by a person, which real projects
/// rarely take. A name is read by its letter triples against every name the popularity feed knows (and
/// the standard library's): it reads as random when three of its triples are runs of consonants no
/// known name has (`kjf`, `sfg`), or four of its triples appear in no known name, and those make up at
/// least a quarter of its triples. Only as good as the feed is large, so it stays silent below 5,000 names.
/// Measured with `airlock policy eval` (bench/RESULTS.md): 13 of 400 real malicious names the other
/// name rules missed, 23 of 5,000 long-tail names.
public struct RandomNameDetector: Sendable {
    /// Every letter triple of the known names: a bit per `a…z` triple (26³).
    private let seen: [Bool]
    /// How many names it learned from; below `minimumNames` it judges none.
    public let knownNames: Int

    public static let minimumNames = 5000

    public init(knownNames: [String]) {
        var seen = [Bool](repeating: false, count: 26 * 26 * 26)
        var count = 0
        for name in knownNames {
            count += 1
            Self.triples(of: name) { seen[$0] = true }
        }
        self.seen = seen
        self.knownNames = count
    }

    /// What makes `name` read as random: its triples no known name has; nil when it does not.
    public func randomness(of name: String) -> (unseen: [String], triples: Int)? {
        guard knownNames >= Self.minimumNames else { return nil }
        var unseen: [String] = []
        var consonantRuns = 0
        var total = 0
        Self.triples(of: name) { index in
            total += 1
            guard !seen[index] else { return }
            let letters = Self.letters(of: index)
            unseen.append(String(decoding: letters, as: UTF8.self))
            if !letters.contains(where: Self.isVowel) { consonantRuns += 1 }
        }
        guard consonantRuns >= 3 || unseen.count >= 4, total > 0, Double(unseen.count) / Double(total) >= 0.25 else { return nil }
        return (unseen, total)
    }

    /// Calls `body` with the index of each triple of consecutive ASCII letters (case folded) in `name`.
    private static func triples(of name: String, _ body: (Int) -> Void) {
        var a = -1
        var b = -1
        for byte in name.utf8 {
            let lower = byte | 0x20
            guard lower >= UInt8(ascii: "a"), lower <= UInt8(ascii: "z") else {
                (a, b) = (-1, -1)
                continue
            }
            let c = Int(lower - UInt8(ascii: "a"))
            if a >= 0 { body((a * 26 + b) * 26 + c) }
            (a, b) = (b, c)
        }
    }

    private static func letters(of index: Int) -> [UInt8] {
        [UInt8(index / 676), UInt8(index / 26 % 26), UInt8(index % 26)].map { $0 + UInt8(ascii: "a") }
    }

    private static func isVowel(_ letter: UInt8) -> Bool { "aeiouy".utf8.contains(letter) }
}
