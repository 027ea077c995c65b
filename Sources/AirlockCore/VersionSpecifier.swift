/// One PEP 440 version clause, such as `>=1.26`, `~=2.2`, `==1.*` or `!=3.0.1`.
public struct VersionSpecifier: Hashable, Sendable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        case compatible = "~="
        case arbitrary = "==="
        case equal = "=="
        case notEqual = "!="
        case lessOrEqual = "<="
        case greaterOrEqual = ">="
        case less = "<"
        case greater = ">"
    }

    public let op: Operator
    /// The version text as written (kept for `===` and for display).
    public let text: String
    public let version: PythonVersion?
    /// `==1.*` and `!=1.*` match by prefix.
    public let wildcard: Bool

    public init?(_ raw: String) {
        let s = raw.trimmingWhitespace()
        guard let op = Operator.allCases.first(where: { s.hasPrefix($0.rawValue) }) else { return nil }
        var rest = String(s.dropFirst(op.rawValue.count)).trimmingWhitespace()
        guard !rest.isEmpty else { return nil }
        self.op = op
        self.text = rest
        if op == .arbitrary {
            self.version = nil
            self.wildcard = false
            return
        }
        var wildcard = false
        if rest.hasSuffix(".*") {
            guard op == .equal || op == .notEqual else { return nil }
            wildcard = true
            rest.removeLast(2)
        }
        guard let v = PythonVersion(rest) else { return nil }
        if op == .compatible && v.release.count < 2 { return nil }
        if wildcard && !v.local.isEmpty { return nil }
        self.version = v
        self.wildcard = wildcard
    }

    public var description: String { op.rawValue + text }

    /// True when the clause names a pre-release, which lets pre-releases match the whole set.
    public var mentionsPrerelease: Bool { version?.isPrerelease ?? false }

    public func contains(_ candidate: PythonVersion) -> Bool {
        guard let v = version else { return candidate.description == text.lowercased() }
        switch op {
        case .arbitrary:
            return false
        case .equal:
            return wildcard ? prefixMatches(candidate, v) : equalMatches(candidate, v)
        case .notEqual:
            return !(wildcard ? prefixMatches(candidate, v) : equalMatches(candidate, v))
        case .compatible:
            let prefix = PythonVersion(epoch: v.epoch, release: Array(v.release.dropLast()))
            return candidate.publicVersion >= v && prefixMatches(candidate, prefix)
        case .lessOrEqual:
            return candidate.publicVersion <= v
        case .greaterOrEqual:
            return candidate.publicVersion >= v
        case .less:
            guard candidate.publicVersion < v else { return false }
            // `<V` excludes pre-releases of V itself unless V is a pre-release.
            if !v.isPrerelease && candidate.isPrerelease && candidate.baseVersion == v.baseVersion { return false }
            return true
        case .greater:
            guard candidate.publicVersion > v else { return false }
            // `>V` excludes post-releases of V unless V is one, and local versions of V.
            if !v.isPostrelease && candidate.isPostrelease && candidate.baseVersion == v.baseVersion { return false }
            if !candidate.local.isEmpty && candidate.publicVersion == v { return false }
            return true
        }
    }

    private func equalMatches(_ candidate: PythonVersion, _ v: PythonVersion) -> Bool {
        v.local.isEmpty ? candidate.publicVersion == v : candidate == v
    }

    private func prefixMatches(_ candidate: PythonVersion, _ prefix: PythonVersion) -> Bool {
        guard candidate.epoch == prefix.epoch else { return false }
        var release = candidate.release
        while release.count < prefix.release.count { release.append(0) }
        guard Array(release.prefix(prefix.release.count)) == prefix.release else { return false }
        // `==1.0rc1.*`-style prefixes also pin the pre/post/dev parts they name.
        if let pre = prefix.pre, candidate.pre != pre { return false }
        if let post = prefix.post, candidate.post != post { return false }
        if let dev = prefix.dev, candidate.dev != dev { return false }
        return true
    }
}

/// A comma-separated set of clauses (`>=1.26,<2`): a version matches when every clause does.
public struct VersionSpecifierSet: Hashable, Sendable, CustomStringConvertible {
    public let clauses: [VersionSpecifier]

    public static let any = VersionSpecifierSet(clauses: [])

    public init(clauses: [VersionSpecifier]) { self.clauses = clauses }

    public init?(_ raw: String) {
        let parts = raw.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
        var clauses: [VersionSpecifier] = []
        for p in parts {
            guard let c = VersionSpecifier(p) else { return nil }
            clauses.append(c)
        }
        self.clauses = clauses
    }

    public var isEmpty: Bool { clauses.isEmpty }
    public var description: String { clauses.map(\.description).joined(separator: ",") }

    /// Whether `v` matches; pre-releases match only when asked for or named by a clause.
    public func contains(_ v: PythonVersion, prereleases: Bool? = nil) -> Bool {
        let allowPre = prereleases ?? clauses.contains(where: \.mentionsPrerelease)
        if v.isPrerelease && !allowPre { return false }
        return clauses.allSatisfy { $0.contains(v) }
    }
}
