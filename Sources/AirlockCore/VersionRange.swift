/// The versions an override applies to, written in the ecosystem's own syntax: empty for every
/// version, a bare version for exactly that one, or a range (`>=1.0,<2` for PyPI, `>= 1.0, < 2.0` for CRAN).
public struct VersionRange: Sendable, Hashable, CustomStringConvertible {
    public let ecosystem: Ecosystem
    public let description: String

    /// Checks the range reads in the ecosystem's syntax; the error names what is wrong.
    public init(_ text: String, ecosystem: Ecosystem) throws {
        self.ecosystem = ecosystem
        self.description = text.trimmingWhitespace()
        if description.isEmpty { return }
        switch ecosystem {
        case .pypi:
            guard PythonVersion(description) != nil || VersionSpecifierSet(description) != nil else {
                throw AirlockError(.invalidArgument, "'\(description)' is neither a PEP 440 version nor a specifier set such as '>=1.0,<2'")
            }
        case .cran:
            guard RVersion(description) != nil || (try? Self.rConstraints(description)) != nil else {
                throw AirlockError(.invalidArgument, "'\(description)' is neither an R version nor a range such as '>= 1.0, < 2.0'")
            }
        }
    }

    /// Every version.
    public var isAll: Bool { description.isEmpty }

    public func contains(_ version: String) -> Bool {
        if description.isEmpty { return true }
        switch ecosystem {
        case .pypi:
            guard let v = PythonVersion(version) else { return false }
            if let exact = PythonVersion(description) { return v == exact }
            return VersionSpecifierSet(description)?.contains(v, prereleases: true) ?? false
        case .cran:
            guard let v = RVersion(version) else { return false }
            if let exact = RVersion(description) { return v == exact }
            return (try? Self.rConstraints(description))?.allSatisfy { $0.accepts(v) } ?? false
        }
    }

    /// `>= 1.0, < 2.0` as one constraint per clause.
    private static func rConstraints(_ text: String) throws -> [RDependency] {
        let clauses = text.split(separator: ",").map { $0.trimmingWhitespace() }
        guard !clauses.isEmpty else { throw AirlockError(.invalidArgument, "empty range") }
        return try clauses.map { clause in
            guard let d = try RDependency.parseField("x (\(clause))", source: "range").first, d.constraint != nil else {
                throw AirlockError(.invalidArgument, "cannot read '\(clause)'")
            }
            return d
        }
    }
}
