public import AirlockCore
import Foundation

/// Finds names that imitate protected (popular) names: a typing slip away (insertion, deletion,
/// substitution, transposition), separators moved, letters that look alike (`rn`/`m`, `vv`/`w`,
/// `1`/`l`, `0`/`o`), or a popular name with a usual affix (`requests-api`, `python-numpy`, `numpys`).
/// A protected name itself is never flagged, nor is another protected name.
///
/// Names come in tiers. `protected` (the policy's list and the feed's most downloaded names) is guarded
/// closely: one slip (for names of 4 characters or more), two for long names (10 or more), and affixes.
/// One slip from a protected name of 6 characters or more, or from a `closelyGuarded` one, is `strong`;
/// the rest is `weak`: likelier a coincidence. `known` (every other name the feed ranks, the standard
/// library) is guarded against one slip in names of 5 characters or more, and against affixes, weakly.
/// Weakly too: a protected name cut short by up to three letters (`reques`), the most popular names
/// with up to four letters glued on (`easyrequests`), and names shaped like an operating system's
/// development packages (`liblapack-dev`: dependency confusion with apt or yum).
///
/// Lookups cost a few hash probes, not a scan: every name is indexed by its separator-free form, its
/// look-alike folding, and each one-character deletion of it (long protected names by each
/// two-character deletion too); two names within one edit share a deletion.
public struct TyposquatDetector: Sendable {
    /// How an imitation was found, and how strongly it points at its target.
    public struct Imitation: Sendable, Equatable {
        public enum Kind: Sendable {
            /// A slip, moved separators, or look-alike letters: `rule:typosquat`.
            case typo
            /// A popular name with an affix: `rule:combosquat`.
            case combo
            /// Shaped like an operating system's package (`libfoo-dev`): `rule:system_name`.
            case system
        }

        public let target: String
        public let how: String
        public let kind: Kind
        /// A protected target and a close imitation; false: a ranked target, two slips, or an affix.
        public let strong: Bool
    }

    private let protected: Set<String>
    private let known: Set<String>
    private let byBareForm: [String: String]
    private let byFoldedForm: [String: String]
    private let byDeletion: [String: [String]]
    private let byDoubleDeletion: [String: [String]]
    private let byTruncation: [String: String]
    private let maxDistance: Int
    /// Protected names a short slip still counts against as strong: the most popular ones.
    private let closelyGuarded: Set<String>

    /// The top-level modules of Python's standard library (4 characters or more): protected names on PyPI.
    public static let pythonStandardLibrary: [String] = {
        guard let url = Bundle.module.url(forResource: "python-stdlib", withExtension: "txt"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else {
            fatalError("the standard library list is missing from the AirlockPolicy bundle")
        }
        return text.textLines.filter { !$0.hasPrefix("#") && !$0.isEmpty }.map(String.init)
    }()

    static let prefixes = ["python-", "py-"]
    static let suffixes = ["-py", "-python", "-lib", "-sdk", "-api", "-dev", "-tools", "-utils", "-client", "-cli"]

    /// `closelyGuarded` (a subset of `protected`, say the policy's list and the feed's top 100) keeps
    /// one slip in a short name (4 or 5 characters) strong; for other protected names it is weak.
    public init(protected names: [String], closelyGuarded: [String] = [], known others: [String] = [], maxDistance: Int) {
        let normalized = Set(names.map(ProjectName.normalize))
        self.closelyGuarded = Set(closelyGuarded.map(ProjectName.normalize))
        let rest = Set(others.map(ProjectName.normalize)).subtracting(normalized)
        self.protected = normalized
        self.known = rest
        self.maxDistance = maxDistance
        var bare: [String: String] = [:]
        var folded: [String: String] = [:]
        var deletions: [String: [String]] = [:]
        var doubles: [String: [String]] = [:]
        var truncations: [String: String] = [:]
        // Protected names first, so a form both share names the protected one.
        for name in normalized.sorted() + rest.sorted() {
            let b = Self.withoutSeparators(name)
            if bare[b] == nil { bare[b] = name }
            if folded[Self.folded(b)] == nil { folded[Self.folded(b)] = name }
            let minimum = normalized.contains(name) ? 4 : 5
            if name.utf8.count >= minimum {
                for d in Self.deletions(name) + [name] { deletions[d, default: []].append(name) }
            }
            if maxDistance > 1, normalized.contains(name), name.utf8.count >= 10 {
                for d in Set(Self.deletions(name).flatMap(Self.deletions)) { doubles[d, default: []].append(name) }
            }
            if normalized.contains(name) {
                for cut in 1...3 where name.utf8.count - cut >= 5 {
                    let prefix = String(name.dropLast(cut))
                    if !prefix.hasSuffix("-"), truncations[prefix] == nil { truncations[prefix] = name }
                }
            }
        }
        self.byTruncation = truncations
        self.byBareForm = bare
        self.byFoldedForm = folded
        self.byDeletion = deletions
        self.byDoubleDeletion = doubles
    }

    /// The name `name` imitates, and how; nil when it imitates none.
    public func imitation(of name: String) -> Imitation? {
        let normalized = ProjectName.normalize(name)
        if protected.contains(normalized) || known.contains(normalized) {
            // The same project, unless the spelling hides it behind stray separators (`requests_`).
            let separators: Set<Character> = ["-", "_", "."]
            if let f = name.first, let l = name.last, separators.contains(f) || separators.contains(l) {
                return Imitation(target: normalized, how: "separator confusion", kind: .typo, strong: protected.contains(normalized))
            }
            return nil
        }
        let bare = Self.withoutSeparators(normalized)
        if let target = byBareForm[bare] {
            return Imitation(target: target, how: "separator confusion", kind: .typo, strong: protected.contains(target))
        }
        if let target = byFoldedForm[Self.folded(bare)] {
            return Imitation(target: target, how: "look-alike letters", kind: .typo, strong: protected.contains(target))
        }
        guard maxDistance > 0 else { return nil }
        var candidates = Set<String>()
        for key in Self.deletions(normalized) + [normalized] { candidates.formUnion(byDeletion[key] ?? []) }
        // Protected before ranked, shorter distances first; ties by name, so the answer is stable.
        for target in candidates.sorted(by: { (protected.contains($0) ? 0 : 1, $0) < (protected.contains($1) ? 0 : 1, $1) }) {
            guard Self.distance(normalized, target, limit: 1) <= 1 else { continue }
            if protected.contains(target) {
                let strong = target.utf8.count >= 6 || closelyGuarded.contains(target)
                return Imitation(target: target, how: "edit distance 1", kind: .typo, strong: strong)
            }
            let slip = Slip(normalized, from: target)
            if slip.countsAgainstRankedName(of: target.utf8.count) {
                return Imitation(target: target, how: "edit distance 1: \(slip.rawValue)", kind: .typo, strong: false)
            }
        }
        if maxDistance > 1, normalized.utf8.count >= 9 {
            var far = Set<String>()
            let ones = Self.deletions(normalized)
            for key in Set(ones + ones.flatMap(Self.deletions)) { far.formUnion(byDoubleDeletion[key] ?? []) }
            for target in far.sorted() where Self.distance(normalized, target, limit: 2) <= 2 {
                return Imitation(target: target, how: "edit distance 2", kind: .typo, strong: false)
            }
        }
        if let target = byTruncation[normalized] { return Imitation(target: target, how: "'\(target)' cut short", kind: .typo, strong: false) }
        if let target = combo(normalized) {
            return Imitation(target: target.name, how: "'\(target.name)' with '\(target.affix)'", kind: .combo, strong: false)
        }
        if Self.looksLikeSystemPackage(normalized) {
            return Imitation(target: normalized, how: "named like an operating system's development package", kind: .system, strong: false)
        }
        return nil
    }

    /// What one slip turned a name into another: the slips a hand makes (a doubled, swapped or dropped
    /// letter) or the ones an honest new name as often shows (another letter in place of one, one more).
    enum Slip: String {
        case doubled = "a letter doubled"
        case swapped = "two letters swapped"
        case dropped = "a letter dropped"
        case added = "a letter added"
        case replaced = "a letter replaced"

        /// `name` is one edit from `target`.
        init(_ name: String, from target: String) {
            let a = Array(name.utf8)
            let b = Array(target.utf8)
            if a.count == b.count + 1 {
                let i = b.indices.first { a[$0] != b[$0] } ?? b.count
                self = (i > 0 && a[i] == a[i - 1]) || (i + 1 < a.count && a[i] == a[i + 1]) ? .doubled : .added
            } else if a.count + 1 == b.count {
                self = .dropped
            } else {
                let i = a.indices.first { a[$0] != b[$0] } ?? 0
                self = i + 1 < a.count && a[i] == b[i + 1] && a[i + 1] == b[i] ? .swapped : .replaced
            }
        }

        /// Against a name the feed merely ranks (not a protected one), measured on 5,000 long-tail names and
        /// 400 malicious ones: doubled and swapped letters are imitations (25 malicious, no long-tail name);
        /// a dropped letter counts from 6 characters; another or an added letter only in names of 6 or 7
        /// characters, where imitations still outnumber honest names (`amail` beside `email`, `certificast`
        /// beside `certificates` are honest).
        func countsAgainstRankedName(of length: Int) -> Bool {
            switch self {
            case .doubled, .swapped: true
            case .dropped: length >= 6
            case .added, .replaced: (6...7).contains(length)
            }
        }
    }

    /// `lib…-dev` and its siblings: Debian's and Red Hat's names for C libraries' packages, which a
    /// build script may try to pip-install by mistake (dependency confusion). No PyPI project needs one.
    static func looksLikeSystemPackage(_ name: String) -> Bool {
        guard name.hasPrefix("lib"), name.utf8.count > 7 else { return false }
        return ["-dev", "-devel", "-extra", "-common", "-bin", "-data"].contains { name.hasSuffix($0) }
    }

    /// A protected or ranked name with a usual prefix or suffix; a protected one with a version digit
    /// or a plural `s`; one of the most popular names with up to four letters glued on.
    private func combo(_ name: String) -> (name: String, affix: String)? {
        for prefix in Self.prefixes where name.hasPrefix(prefix) {
            let rest = String(name.dropFirst(prefix.count))
            if protected.contains(rest) || known.contains(rest) { return (rest, prefix) }
        }
        for suffix in Self.suffixes where name.hasSuffix(suffix) {
            let rest = String(name.dropLast(suffix.count))
            if protected.contains(rest) || known.contains(rest) { return (rest, suffix) }
        }
        let bytes = Array(name.utf8)
        for glued in 1...4 where bytes.count - glued >= 6 {
            let head = bytes.prefix(glued)
            let tail = bytes.suffix(glued)
            let isLetters = { (part: ArraySlice<UInt8>) in part.allSatisfy { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") } }
            if isLetters(head), case let rest = String(decoding: bytes.dropFirst(glued), as: UTF8.self), closelyGuarded.contains(rest) {
                return (rest, String(decoding: head, as: UTF8.self))
            }
            if isLetters(tail), case let rest = String(decoding: bytes.dropLast(glued), as: UTF8.self), closelyGuarded.contains(rest) {
                return (rest, String(decoding: tail, as: UTF8.self))
            }
        }
        if let last = name.last, last.isNumber || last == "s" {
            var rest = String(name.dropLast())
            if rest.hasSuffix("-") { rest.removeLast() }
            if rest.utf8.count >= 4, protected.contains(rest) { return (rest, String(last)) }
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
            case (UInt8(ascii: "r"), UInt8(ascii: "n")):
                out.append(UInt8(ascii: "m"))
                i += 2
            case (UInt8(ascii: "v"), UInt8(ascii: "v")):
                out.append(UInt8(ascii: "w"))
                i += 2
            case (UInt8(ascii: "c"), UInt8(ascii: "l")):
                out.append(UInt8(ascii: "d"))
                i += 2
            case (UInt8(ascii: "1"), _):
                out.append(UInt8(ascii: "l"))
                i += 1
            case (UInt8(ascii: "0"), _):
                out.append(UInt8(ascii: "o"))
                i += 1
            default:
                out.append(b[i])
                i += 1
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
        let x = Array(a.utf8)
        let y = Array(b.utf8)
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
