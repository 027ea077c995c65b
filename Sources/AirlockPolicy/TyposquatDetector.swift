public import AirlockCore

/// Finds names that imitate protected (popular) names: one typing slip away (insertion, deletion,
/// substitution, transposition), separators moved, or letters that look alike (`rn`/`m`, `vv`/`w`,
/// `1`/`l`, `0`/`o`). A protected name itself is never flagged, nor is another protected name.
public struct TyposquatDetector: Sendable {
    private let protected: Set<String>
    private let byLength: [Int: [String]]
    private let maxDistance: Int

    public init(protected names: [String], maxDistance: Int) {
        let normalized = Set(names.map(ProjectName.normalize))
        self.protected = normalized
        self.byLength = Dictionary(grouping: normalized, by: \.count)
        self.maxDistance = maxDistance
    }

    /// The protected name `name` imitates, and how; nil when it imitates none.
    public func imitation(of name: String) -> (target: String, how: String)? {
        let normalized = ProjectName.normalize(name)
        let lowered = name.lowercased()
        if protected.contains(normalized) {
            // The same project, unless the spelling hides it behind stray separators (`requests_`).
            let separators: Set<Character> = ["-", "_", "."]
            if let f = lowered.first, let l = lowered.last, separators.contains(f) || separators.contains(l) {
                return (normalized, "separator confusion")
            }
            return nil
        }
        let bare = Self.withoutSeparators(normalized)
        let lookalike = Self.folded(bare)
        for length in (normalized.count - maxDistance - 1)...(normalized.count + maxDistance + 1) {
            for target in byLength[length] ?? [] {
                let targetBare = Self.withoutSeparators(target)
                if bare == targetBare { return (target, "separator confusion") }
                if lookalike == Self.folded(targetBare) { return (target, "look-alike letters") }
                if maxDistance > 0, Self.distance(normalized, target, limit: maxDistance) <= maxDistance {
                    return (target, "edit distance \(Self.distance(normalized, target, limit: maxDistance))")
                }
            }
        }
        return nil
    }

    static func withoutSeparators(_ s: String) -> String { s.filter { $0 != "-" } }

    static func folded(_ s: String) -> String {
        s.replacingAll("rn", with: "m").replacingAll("vv", with: "w").replacingAll("cl", with: "d")
            .map { c -> Character in c == "1" ? "l" : c == "0" ? "o" : c }.reduce(into: "") { $0.append($1) }
    }

    /// Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions), capped at `limit + 1`.
    static func distance(_ a: String, _ b: String, limit: Int) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        if abs(x.count - y.count) > limit { return limit + 1 }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...max(x.count, 1) where !x.isEmpty {
            current[0] = i
            var rowMin = current[0]
            for j in 1..<(y.count + 1) {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                var d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d = min(d, previous2[j - 2] + 1) }
                current[j] = d
                rowMin = min(rowMin, d)
            }
            if rowMin > limit { return limit + 1 }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return x.isEmpty ? y.count : previous[y.count]
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
