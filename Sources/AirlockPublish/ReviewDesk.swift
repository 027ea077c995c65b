public import AirlockCatalog
public import AirlockCore
public import Foundation

/// The reviewers' acts, shared by the API, the web UI and the CLI: each records its override or
/// revocation (audited) and publishes a new snapshot at once, so the requester can install right away.
public struct ReviewDesk: Sendable {
    let catalog: any ReviewCatalog
    let publisher: SnapshotPublisher
    let queue: ReviewQueue

    public init(catalog: any ReviewCatalog & PublishCatalog, dataDirectory: String) {
        self.catalog = catalog
        self.publisher = SnapshotPublisher(catalog: catalog, dataDirectory: dataDirectory)
        self.queue = ReviewQueue(catalog: catalog)
    }

    /// Approves a release range; with `withDependencies`, also the newest recorded version of every
    /// dependency in its closure that the latest snapshot does not serve — all in one transaction, or none.
    public func approve(
        _ ecosystem: Ecosystem, project: String, versions: String, reason: String, expiresAt: Date?, withDependencies: Bool, actor: String
    ) throws -> (overrides: [Override], snapshot: Snapshot) {
        let range = try VersionRange(versions, ecosystem: ecosystem)
        var requests = [OverrideRequest(project: project, versions: range, action: .approve, reason: reason, expiresAt: expiresAt)]
        if withDependencies {
            var added = Set<ReleaseKey>()
            for release in try catalog.releaseReviews(ecosystem, project: project) where range.contains(release.version) {
                for dep in try queue.closure(ecosystem, project: project, version: release.version) where !dep.served {
                    guard !dep.version.isEmpty else {
                        throw AirlockError(.resolution, "'\(dep.project)', a dependency of \(project) \(release.version), has never been synced; sync it before approving")
                    }
                    guard added.insert(ReleaseKey(dep.project, dep.version)).inserted else { continue }
                    requests.append(
                        OverrideRequest(
                            project: dep.project, versions: try VersionRange(dep.version, ecosystem: ecosystem), action: .approve, reason: reason,
                            expiresAt: expiresAt))
                }
            }
        }
        let overrides = try catalog.addOverrides(ecosystem, requests, actor: actor, at: Date())
        return (overrides, try publisher.republish(ecosystem, actor: actor))
    }

    public func deny(_ ecosystem: Ecosystem, project: String, versions: String, reason: String, expiresAt: Date?, actor: String) throws -> (Override, Snapshot) {
        let request = OverrideRequest(
            project: project, versions: try VersionRange(versions, ecosystem: ecosystem), action: .deny, reason: reason, expiresAt: expiresAt)
        let o = try catalog.addOverrides(ecosystem, [request], actor: actor, at: Date())[0]
        return (o, try publisher.republish(ecosystem, actor: actor))
    }

    public func revoke(_ ecosystem: Ecosystem, project: String, version: String, reason: String, actor: String) throws -> (Revocation, Snapshot) {
        let r = try catalog.revoke(ecosystem, project: project, version: version, reason: reason, actor: actor, at: Date())
        return (r, try publisher.republish(ecosystem, actor: actor))
    }
}
