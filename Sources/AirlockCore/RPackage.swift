/// An R package version (`1.2-3`, `0.10.1`): integers separated by `.` or `-`, compared component
/// by component, as R's `package_version` does.
public struct RVersion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let components: [Int]
    /// The version as written.
    public let description: String

    public init?(_ text: String) {
        let trimmed = text.trimmingWhitespace()
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
            .flatMap { $0.split(separator: "-", omittingEmptySubsequences: false) }
        guard !parts.isEmpty else { return nil }
        var components: [Int] = []
        for p in parts {
            guard !p.isEmpty, p.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(p) else { return nil }
            components.append(n)
        }
        self.components = components
        self.description = trimmed
    }

    public static func < (a: RVersion, b: RVersion) -> Bool {
        for (x, y) in zip(a.components, b.components) where x != y { return x < y }
        return a.components.count < b.components.count
    }

    public static func == (a: RVersion, b: RVersion) -> Bool { a.components == b.components }
    public func hash(into h: inout Hasher) { h.combine(components) }
}

/// One entry of an R dependency field (`Depends`, `Imports`, `LinkingTo`, `Suggests`):
/// `pkg`, or `pkg (>= 1.2)`.
public struct RDependency: Hashable, Sendable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        case greaterOrEqual = ">="
        case lessOrEqual = "<="
        case greater = ">"
        case less = "<"
        case equal = "=="
        case notEqual = "!="
    }

    public let name: String
    public let constraint: (op: Operator, version: RVersion)?

    public init(name: String, constraint: (op: Operator, version: RVersion)? = nil) {
        self.name = name
        self.constraint = constraint
    }

    /// Whether `version` satisfies the constraint (any version does when there is none).
    public func accepts(_ version: RVersion) -> Bool {
        guard let (op, wanted) = constraint else { return true }
        switch op {
        case .greaterOrEqual: return version >= wanted
        case .lessOrEqual: return version <= wanted
        case .greater: return version > wanted
        case .less: return version < wanted
        case .equal: return version == wanted
        case .notEqual: return version != wanted
        }
    }

    public var description: String {
        guard let (op, v) = constraint else { return name }
        return "\(name) (\(op.rawValue) \(v))"
    }

    public static func == (a: RDependency, b: RDependency) -> Bool { a.description == b.description }
    public func hash(into h: inout Hasher) { h.combine(description) }

    /// Parses a whole field (`R (>= 4.0), methods, Rcpp (>= 1.0.7)`); `source` names it in errors.
    /// `R` itself is kept: callers decide what to do with it.
    public static func parseField(_ field: String, source: String) throws -> [RDependency] {
        try field.split(separator: ",").compactMap { entry -> RDependency? in
            let text = entry.trimmingWhitespace()
            if text.isEmpty { return nil }
            guard let open = text.firstIndex(of: "(") else {
                guard isPackageName(text) else { throw AirlockError(.malformedMetadata, "\(source): '\(text)' is not a package name") }
                return RDependency(name: text)
            }
            let name = text[..<open].trimmingWhitespace()
            guard text.hasSuffix(")"), isPackageName(name) else {
                throw AirlockError(.malformedMetadata, "\(source): cannot read dependency '\(text)'; expected 'pkg' or 'pkg (>= 1.0)'")
            }
            let inner = text[text.index(after: open)..<text.index(before: text.endIndex)].trimmingWhitespace()
            guard let op = Operator.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count }).first(where: { inner.hasPrefix($0.rawValue) }),
                let version = RVersion(String(inner.dropFirst(op.rawValue.count)))
            else {
                throw AirlockError(.malformedMetadata, "\(source): cannot read the version constraint '(\(inner))' of '\(name)'")
            }
            return RDependency(name: name, constraint: (op, version))
        }
    }

    /// R package names: letters, digits and dots, starting with a letter, not ending in a dot.
    public static func isPackageName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII, s.last != "." else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == ".") }
    }

    /// Packages that ship with R itself (base and recommended): never mirrored, never required from a repository.
    public static let shippedWithR: Set<String> = [
        "R", "base", "compiler", "datasets", "graphics", "grDevices", "grid", "methods", "parallel", "splines", "stats", "stats4",
        "tcltk", "tools", "utils", "KernSmooth", "MASS", "Matrix", "boot", "class", "cluster", "codetools", "foreign", "lattice",
        "mgcv", "nlme", "nnet", "rpart", "spatial", "survival",
    ]
}
