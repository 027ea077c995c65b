public import AirlockCore

/// Finds names that imitate protected (popular) names: one typing slip away (insertion, deletion,
/// substitution, transposition), separators moved, or letters that look alike (`rn`/`m`, `vv`/`w`,
/// `1`/`l`, `0`/`o`). A protected name itself is never flagged, nor is another protected name.
///
/// Lookups cost a few hash probes, not a scan: every protected name is indexed by its separator-free
/// form, its look-alike folding, and each one-character deletion of it; two names within one edit
/// share a deletion (or one is a deletion of the other).
public struct TyposquatDetector: Sendable {
    private let protected: Set<String>
    private let byBareForm: [String: String]
    private let byFoldedForm: [String: String]
    private let byDeletion: [String: [String]]
    private let maxDistance: Int

    public init(protected names: [String], maxDistance: Int) {
        let normalized = Set(names.map(ProjectName.normalize))
        self.protected = normalized
        self.maxDistance = maxDistance
        var bare: [String: String] = [:], folded: [String: String] = [:], deletions: [String: [String]] = [:]
        for name in normalized.sorted() {
            let b = Self.withoutSeparators(name)
            if bare[b] == nil { bare[b] = name }
            if folded[Self.folded(b)] == nil { folded[Self.folded(b)] = name }
            for d in Self.deletions(name) + [name] { deletions[d, default: []].append(name) }
        }
        self.byBareForm = bare
        self.byFoldedForm = folded
        self.byDeletion = deletions
    }

    /// The protected name `name` imitates, and how; nil when it imitates none.
    public func imitation(of name: String) -> (target: String, how: String)? {
        let normalized = ProjectName.normalize(name)
        if protected.contains(normalized) {
            // The same project, unless the spelling hides it behind stray separators (`requests_`).
            let separators: Set<Character> = ["-", "_", "."]
            if let f = name.first, let l = name.last, separators.contains(f) || separators.contains(l) {
                return (normalized, "separator confusion")
            }
            return nil
        }
        let bare = Self.withoutSeparators(normalized)
        if let target = byBareForm[bare] { return (target, "separator confusion") }
        if let target = byFoldedForm[Self.folded(bare)] { return (target, "look-alike letters") }
        guard maxDistance > 0 else { return nil }
        var candidates = Set<String>()
        for key in Self.deletions(normalized) + [normalized] { candidates.formUnion(byDeletion[key] ?? []) }
        if maxDistance > 1 {
            candidates.formUnion(protected.filter { abs($0.count - normalized.count) <= maxDistance })
        }
        for target in candidates.sorted() {
            let d = Self.distance(normalized, target, limit: maxDistance)
            if d <= maxDistance { return (target, "edit distance \(d)") }
        }
        return nil
    }

    static func withoutSeparators(_ s: String) -> String {
        guard s.utf8.contains(UInt8(ascii: "-")) else { return s }
        return String(decoding: s.utf8.filter { $0 != UInt8(ascii: "-") }, as: UTF8.self)
    }

    /// Folds look-alike letters: `rn`→`m`, `vv`→`w`, `cl`→`d`, `1`→`l`, `0`→`o`.
    static func folded(_ s: String) -> String {
        let b = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            let pair = i + 1 < b.count ? (b[i], b[i + 1]) : (b[i], 0)
            switch pair {
            case (UInt8(ascii: "r"), UInt8(ascii: "n")): out.append(UInt8(ascii: "m")); i += 2
            case (UInt8(ascii: "v"), UInt8(ascii: "v")): out.append(UInt8(ascii: "w")); i += 2
            case (UInt8(ascii: "c"), UInt8(ascii: "l")): out.append(UInt8(ascii: "d")); i += 2
            case (UInt8(ascii: "1"), _): out.append(UInt8(ascii: "l")); i += 1
            case (UInt8(ascii: "0"), _): out.append(UInt8(ascii: "o")); i += 1
            default: out.append(b[i]); i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Every string made by deleting one character (names are ASCII once normalized).
    static func deletions(_ s: String) -> [String] {
        let b = Array(s.utf8)
        guard b.count > 1 else { return [] }
        var buffer = [UInt8](repeating: 0, count: b.count - 1)
        return (0..<b.count).map { i in
            buffer.withUnsafeMutableBufferPointer { out in
                var k = 0
                for j in 0..<b.count where j != i {
                    out[k] = b[j]
                    k += 1
                }
            }
            return String(decoding: buffer, as: UTF8.self)
        }
    }

    /// Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions), capped at `limit + 1`.
    static func distance(_ a: String, _ b: String, limit: Int) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        if abs(x.count - y.count) > limit { return limit + 1 }
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            var rowMin = current[0]
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                var d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d = min(d, previous2[j - 2] + 1) }
                current[j] = d
                rowMin = min(rowMin, d)
            }
            if rowMin > limit { return limit + 1 }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[y.count]
    }
}
