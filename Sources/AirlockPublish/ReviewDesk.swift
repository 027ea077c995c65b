public import AirlockCatalog
public import AirlockCore
public import Foundation

/// The reviewers' acts, shared by the API, the web UI and the CLI: each records its override or
/// revocation (audited) and publishes a new snapshot at once, so the requester can install right away.
public struct ReviewDesk: Sendable {
    let catalog: any ReviewCatalog & SnapshotCatalog
    let publisher: SnapshotPublisher
    let queue: ReviewQueue

    public init(catalog: any ReviewCatalog & PublishCatalog & SnapshotCatalog, dataDirectory: String) {
        self.catalog = catalog
        self.publisher = SnapshotPublisher(catalog: catalog, dataDirectory: dataDirectory)
        self.queue = ReviewQueue(catalog: catalog)
    }

    /// Approves a release range; with `withDependencies`, also the newest recorded version of every
    /// dependency in its closure that the latest snapshot does not serve — all in one transaction, or none.
    public func approve(
        _ ecosystem: Ecosystem, project: String, versions: String, reason: String, expiresAt: Date?, withDependencies: Bool, actor: String
    ) async throws -> (overrides: [Override], snapshot: Snapshot) {
        try await refuseOnReplica("approve")
        let range = try VersionRange(versions, ecosystem: ecosystem)
        var requests = [OverrideRequest(project: project, versions: range, action: .approve, reason: reason, expiresAt: expiresAt)]
        if withDependencies {
            var added = Set<ReleaseKey>()
            for release in try await catalog.releaseReviews(ecosystem, project: project) where range.contains(release.version) {
                for dep in try await queue.closure(ecosystem, project: project, version: release.version) where !dep.served {
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
        let overrides = try await catalog.addOverrides(ecosystem, requests, actor: actor, at: Date())
        return await (overrides, try publisher.republish(ecosystem, actor: actor))
    }

    public func deny(_ ecosystem: Ecosystem, project: String, versions: String, reason: String, expiresAt: Date?, actor: String) async throws -> (Override, Snapshot) {
        try await refuseOnReplica("deny")
        let request = OverrideRequest(
            project: project, versions: try VersionRange(versions, ecosystem: ecosystem), action: .deny, reason: reason, expiresAt: expiresAt)
        let o = try await catalog.addOverrides(ecosystem, [request], actor: actor, at: Date())[0]
        return await (o, try publisher.republish(ecosystem, actor: actor))
    }

    /// Revokes a release from every snapshot. On a replica too (an emergency cannot wait for the
    /// next bundle): there no snapshot is published, since revocations apply to every snapshot as it is read.
    public func revoke(_ ecosystem: Ecosystem, project: String, version: String, reason: String, actor: String) async throws -> (Revocation, Snapshot) {
        let r = try await catalog.revoke(ecosystem, project: project, version: version, reason: reason, actor: actor, at: Date())
        if try await catalog.replicaOrigin() != nil, let latest = try await catalog.snapshot(ecosystem, .latest) { return (r, latest) }
        return await (r, try publisher.republish(ecosystem, actor: actor))
    }

    /// Approving and denying belong to the connected side: a replica serves its decisions as they arrive.
    private func refuseOnReplica(_ act: String) async throws {
        guard let replica = try await catalog.replicaOrigin() else { return }
        throw AirlockError(
            .forbidden,
            "this airlock is an air-gapped replica of \(replica.origin): \(act) there, then carry the decision over with airlock export and airlock import")
    }
}
