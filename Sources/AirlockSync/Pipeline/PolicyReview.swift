public import AirlockCatalog
public import AirlockCore
public import AirlockPolicy
public import Foundation

/// Decides recorded releases again, without syncing or publishing: what a policy says about one
/// project (`airlock policy check`), and which releases a policy change would flip (`airlock policy test`).
public struct PolicyReview: Sendable {
    let catalog: any ReleaseCatalog & FeedCatalog
    let ecosystem: Ecosystem

    public init(catalog: any ReleaseCatalog & FeedCatalog, ecosystem: Ecosystem) {
        self.catalog = catalog
        self.ecosystem = ecosystem
    }

    /// The policy the latest snapshot was published under, with the imported feeds.
    public func activeEngine() async throws -> PolicyEngine? {
        guard let source = try await catalog.activePolicy(ecosystem) else { return nil }
        return PolicyEngine(try PolicyFile.parse(source.text, path: source.path), feeds: try await FeedImporter.load(from: catalog, ecosystem: ecosystem))
    }

    /// A policy file under the imported feeds.
    public func engine(policyFile path: String) async throws -> PolicyEngine {
        try await engine(PolicyFile.load(path))
    }

    /// A loaded policy (the built-in default, say) under the imported feeds.
    public func engine(_ policy: LoadedPolicy) async throws -> PolicyEngine {
        PolicyEngine(policy, feeds: try await FeedImporter.load(from: catalog, ecosystem: ecosystem))
    }

    /// Every recorded release of `project` (or one version), decided now under `engine`.
    public func check(project: String, version: String?, engine: PolicyEngine, at now: Date) async throws -> [(release: StoredRelease, decision: Decision)] {
        let releases = try await catalog.storedReleases(ecosystem, project: ProjectName.normalize(project), version: version)
        guard !releases.isEmpty else {
            throw AirlockError(.notFound, "no recorded release of '\(project)\(version.map { "==\($0)" } ?? "")' in the catalog; sync it first")
        }
        var decided: [(release: StoredRelease, decision: Decision)] = []
        for release in releases { decided.append((release, engine.evaluate(try await facts(release), at: now))) }
        return decided
    }

    /// The facts of each recorded project's newest release (by normalized name), with its stored content
    /// findings: what `policy eval --data` decides a known name under instead of assumed facts.
    public func newestFacts() async throws -> [String: ReleaseFacts] {
        var newest: [String: StoredRelease] = [:]
        for release in try await catalog.storedReleases(ecosystem, project: nil, version: nil) {
            let name = release.project.normalized
            if let kept = newest[name], !VersionOrder.older(kept.version, release.version, ecosystem) { continue }
            newest[name] = release
        }
        var out: [String: ReleaseFacts] = [:]
        for (name, release) in newest { out[name] = try await facts(release) }
        return out
    }

    /// One release whose verdict a policy change flips.
    public struct Change: Codable, Sendable, Hashable {
        public var project: String
        public var version: String
        public var from: Verdict
        public var to: Verdict
        public var fromScore: Double
        public var toScore: Double
    }

    /// The releases whose verdict differs between `current` and `proposed`, both decided at `now`
    /// so that only the policy change shows, not the passing of time.
    public func changes(from current: PolicyEngine, to proposed: PolicyEngine, at now: Date) async throws -> [Change] {
        var changes: [Change] = []
        for release in try await catalog.storedReleases(ecosystem, project: nil, version: nil) {
            let facts = try await facts(release)
            let before = current.evaluate(facts, at: now), after = proposed.evaluate(facts, at: now)
            guard before.verdict != after.verdict else { continue }
            changes.append(
                Change(
                    project: release.project.normalized, version: release.version, from: before.verdict, to: after.verdict, fromScore: before.score,
                    toScore: after.score))
        }
        return changes
    }

    /// A recorded release's facts, with the content findings stored for its files.
    private func facts(_ release: StoredRelease) async throws -> ReleaseFacts {
        var facts = ReleaseFacts(release, ecosystem: ecosystem)
        for file in release.files {
            facts.contentFindings += try await catalog.contentScan(ofFile: file.digest)?.findings ?? []
        }
        return facts
    }
}
