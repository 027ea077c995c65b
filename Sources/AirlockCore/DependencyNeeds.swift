import Synchronization

/// One dependency a release needs from the same repository: the project and the versions it accepts.
public struct DependencyNeed: Sendable {
    /// Normalized project name (PEP 503 for PyPI; R package names as written).
    public let project: String
    /// As declared, for messages (`lazy-importer>=0.1`, `rlang (>= 1.1.0)`).
    public let requirement: String
    /// Extras of the dependency asked for (PyPI `dep[extra]`).
    public let extras: Set<String>
    public let accepts: @Sendable (String) -> Bool
}

/// Which declared dependencies a release needs, per ecosystem: PEP 508 requirements whose markers hold
/// on some target environment (with the extras asked for), or R's `Depends`/`Imports`/`LinkingTo`
/// minus the packages that ship with R. The resolver, the publish rule and the review closure all
/// read dependencies through here, so they agree.
public enum DependencyNeeds {
    /// The targets a sync resolves for when none are given: CPython 3.10–3.13 on manylinux x86_64.
    public static let defaultTargets = ["3.10", "3.11", "3.12", "3.13"].map { "\($0)|manylinux_2_28_x86_64" }

    /// Whether a requirement applies on at least one target with one of the extras (the empty extra: none).
    public static func applies(_ requirement: Requirement, on targets: [TargetEnvironment], extras: Set<String>) -> Bool {
        guard let marker = requirement.marker else { return true }
        return targets.contains { env in
            var vars = env.markerEnvironment
            return extras.union([""]).contains { extra in
                vars["extra"] = extra
                return marker.evaluate(vars)
            }
        }
    }

    /// Targets stored as `python|platform`; one that does not read back is an error naming it (the
    /// catalog never stores one that did not parse, so it was damaged).
    public static func targets(_ stored: [String]) throws -> [TargetEnvironment] {
        try (stored.isEmpty ? defaultTargets : stored).map { text in
            let parts = text.split(separator: "|", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw AirlockError(.catalog, "stored target '\(text)' is not 'python|platform'") }
            return try TargetEnvironment(python: parts[0], platform: parts[1])
        }
    }

    /// PyPI needs already worked out: every resolution round and the publish rule ask again for the
    /// same releases' needs on the same targets. Bounded by the distinct dependency lists of a process's syncs.
    private static let workedOut = Mutex<[NeedsKey: [[DependencyNeed]]]>([:])
    private struct NeedsKey: Hashable {
        let declared: [String]
        let perTargets: [[TargetEnvironment]]
        let extras: Set<String>
    }

    /// A target as stored.
    public static func stored(_ target: TargetEnvironment) -> String { "\(target.pythonVersion)|\(target.platform)" }

    /// The needs of a release whose declared dependencies are `declared` (as the catalog keeps them).
    /// Every line was checked when the release was read, so one that does not parse now is an error
    /// naming it, never a dependency silently dropped.
    public static func needs(_ declared: [String], _ ecosystem: Ecosystem, targets: [TargetEnvironment], extras: Set<String>) throws
        -> [DependencyNeed]
    {
        try needs(declared, ecosystem, perTargets: [targets], extras: extras)[0]
    }

    /// The needs on each of several sets of targets, the declared lines parsed once for all of them.
    public static func needs(_ declared: [String], _ ecosystem: Ecosystem, perTargets: [[TargetEnvironment]], extras: Set<String>) throws
        -> [[DependencyNeed]]
    {
        switch ecosystem {
        case .pypi:
            let key = NeedsKey(declared: declared, perTargets: perTargets, extras: extras)
            if let known = workedOut.withLock({ $0[key] }) { return known }
            let requirements = try declared.map { line in
                do {
                    return try Requirement(parsing: line)
                } catch {
                    throw AirlockError(.catalog, "stored dependency '\(line)' does not parse: \(error)")
                }
            }
            let needs = perTargets.map { targets in
                requirements.filter { applies($0, on: targets, extras: extras) }.map { req in
                    DependencyNeed(
                        project: req.name.normalized, requirement: "\(req.name.display)\(req.specifier)", extras: req.extras,
                        accepts: { v in PythonVersion(v).map { req.specifier.contains($0, prereleases: true) } ?? false })
                }
            }
            workedOut.withLock { $0[key] = needs }
            return needs
        case .cran:
            let needs = try declared.flatMap { try RDependency.parseField($0, source: "stored dependency field") }
                .filter { !RDependency.shippedWithR.contains($0.name) }
                .map { dep in
                    DependencyNeed(
                        project: dep.name, requirement: dep.description, extras: [], accepts: { v in RVersion(v).map(dep.accepts) ?? false })
                }
            return perTargets.map { _ in needs }
        }
    }
}
