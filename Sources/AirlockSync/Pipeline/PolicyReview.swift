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
        return PolicyEngine(
            try PolicyFile.parse(source.text, path: source.path), feeds: try await FeedImporter.load(from: catalog, ecosystem: ecosystem))
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
    public func check(project: String, version: String?, engine: PolicyEngine, at now: Date) async throws -> [(
        release: StoredRelease, decision: Decision
    )] {
        let releases = try await catalog.storedReleases(ecosystem, project: ProjectName.normalize(project), version: version)
        guard !releases.isEmpty else {
            throw AirlockError(.notFound, "no recorded release of '\(project)\(version.map { "==\($0)" } ?? "")' in the catalog; sync it first")
        }
        var decided: [(release: StoredRelease, decision: Decision)] = []
        let served = try await servedAttestations()
        for release in releases { decided.append((release, engine.evaluate(try await facts(release, served: served), at: now))) }
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
        let served = try await servedAttestations()
        for (name, release) in newest { out[name] = try await facts(release, served: served) }
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
        let served = try await servedAttestations()
        for release in try await catalog.storedReleases(ecosystem, project: nil, version: nil) {
            let facts = try await facts(release, served: served)
            let before = current.evaluate(facts, at: now)
            let after = proposed.evaluate(facts, at: now)
            guard before.verdict != after.verdict else { continue }
            changes.append(
                Change(
                    project: release.project.normalized, version: release.version, from: before.verdict, to: after.verdict, fromScore: before.score,
                    toScore: after.score))
        }
        return changes
    }

    /// A recorded release's facts, with the content findings stored for its files, its verified publisher
    /// and the publisher the project's earlier served releases established (as a sync would decide it).
    private func facts(_ release: StoredRelease, served: [String: [AttestedRelease]]) async throws -> ReleaseFacts {
        var facts = ReleaseFacts(release, ecosystem: ecosystem)
        for file in release.files {
            facts.contentFindings += try await catalog.contentScan(ofFile: file.digest)?.findings ?? []
            if facts.attestation == nil, let p = try await catalog.provenance(ofFile: file.digest) {
                facts.attestation = AttestedRelease(version: release.version, publisher: p.publisher, signedAt: p.signedAt)
            }
        }
        facts.attestedBefore = (served[release.project.normalized] ?? []).filter { VersionOrder.older($0.version, release.version, ecosystem) }
            .max { VersionOrder.older($0.version, $1.version, ecosystem) }
        return facts
    }

    private func servedAttestations() async throws -> [String: [AttestedRelease]] { try await catalog.attestedReleasesServed(ecosystem) }
}

extension ReleaseCatalog {
    /// The attested releases some snapshot served, by project: the identities publishing is compared with.
    func attestedReleasesServed(_ ecosystem: Ecosystem) async throws -> [String: [AttestedRelease]] {
        var out: [String: [AttestedRelease]] = [:]
        for row in try await servedAttestations(ecosystem) {
            out[row.project, default: []].append(
                AttestedRelease(version: row.version, publisher: row.provenance.publisher, signedAt: row.provenance.signedAt))
        }
        return out
    }
}
