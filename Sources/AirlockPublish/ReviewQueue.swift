public import AirlockCatalog
public import AirlockCore
import Foundation

/// What reviewers read: the queue of releases waiting for a decision, and what approving a release
/// would pull in.
public struct ReviewQueue: Sendable {
    let catalog: any ReviewCatalog

    public init(catalog: any ReviewCatalog) { self.catalog = catalog }

    /// Releases the policy held for review, projects clients asked for that the catalog knows but no
    /// snapshot serves, and what the last sync set aside, by demand, then by risk (lowest score first).
    /// Each entry lists the releases held back until it is served, so one approval can unblock a chain.
    public func entries() async throws -> [QueueEntry] {
        let demand = Dictionary(grouping: try await catalog.misses(nil), by: { "\($0.ecosystem.rawValue)/\($0.project)" })
        var out: [QueueEntry] = []
        for ecosystem in Ecosystem.allCases {
            let held = try await catalog.heldReleases(ecosystem)
            func unblocks(_ project: String) -> [String] {
                var found: [String] = []
                var frontier = [project]
                var seen: Set<String> = [project]
                while let next = frontier.popLast() {
                    for (key, h) in held where h.blockedBy == next {
                        found.append(key.description)
                        if seen.insert(key.project).inserted { frontier.append(key.project) }
                    }
                }
                return found.sorted()
            }
            for s in try await catalog.setAside(ecosystem) {
                out.append(
                    QueueEntry(
                        ecosystem: ecosystem, project: s.project, version: s.version, verdict: .review, score: 0, demand: 0, lastRequested: nil,
                        reason: "set-aside", detail: "\(s.check): \(s.error)", unblocks: unblocks(s.project)))
            }
            for project in try await catalog.projectsToReview(ecosystem) {
                let releases = try await catalog.releaseReviews(ecosystem, project: project)
                let blocking = unblocks(project)
                // A project with a served version waits only if a newer one holds others back.
                guard !releases.contains(where: \.served) || !blocking.isEmpty else { continue }
                guard
                    let held = releases.last(where: { $0.decision?.verdict == .review && $0.revocation == nil })
                        ?? releases.last(where: { $0.revocation == nil })
                else { continue }
                let asked = demand["\(ecosystem.rawValue)/\(project)"] ?? []
                out.append(
                    QueueEntry(
                        ecosystem: ecosystem, project: project, version: held.version, verdict: held.decision?.verdict ?? .review,
                        score: held.decision?.score ?? 0, demand: asked.reduce(0) { $0 + $1.count }, lastRequested: asked.map(\.lastSeen).max(),
                        reason: held.decision?.verdict == .review ? "policy" : "requested", unblocks: blocking))
            }
        }
        return out.sorted { ($0.demand, -$0.score, $0.project) > ($1.demand, -$1.score, $1.project) }
    }

    /// What approving a release would pull in: its dependencies on the synced targets (markers
    /// evaluated as the resolver does), recursively, each as the newest recorded version meeting the
    /// requirement, with its own decision. Dependencies the catalog has never recorded are listed with no version.
    public func closure(_ ecosystem: Ecosystem, project: String, version: String) async throws -> [ReleaseReview] {
        let targets = try DependencyNeeds.targets(try await catalog.syncTargets(ecosystem))
        guard let root = try await catalog.releaseReviews(ecosystem, project: project).first(where: { $0.version == version }) else {
            throw AirlockError(.notFound, "\(ecosystem.rawValue) release '\(project) \(version)' is not in the catalog")
        }
        var out: [ReleaseReview] = []
        var seen: Set<String> = [project]
        var pending = [root]
        while let next = pending.popLast() {
            for need in try DependencyNeeds.needs(next.dependencies, ecosystem, targets: targets, extras: []) where seen.insert(need.project).inserted
            {
                let candidates = try await catalog.releaseReviews(ecosystem, project: need.project).filter {
                    need.accepts($0.version) && $0.revocation == nil
                }
                guard let pick = candidates.last else {
                    out.append(
                        ReleaseReview(
                            ecosystem: ecosystem, project: need.project, version: "", decision: nil, served: false, revocation: nil, dependencies: [])
                    )
                    continue
                }
                out.append(pick)
                pending.append(pick)
            }
        }
        return out
    }
}
