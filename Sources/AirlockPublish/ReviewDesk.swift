public import AirlockCatalog
public import AirlockCore
import AirlockLockfile
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
                        throw AirlockError(
                            .resolution,
                            "'\(dep.project)', a dependency of \(project) \(release.version), has never been synced; sync it before approving")
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

    /// Approves exactly the versions a lockfile pins (each must be recorded, not revoked, and, when the
    /// lockfile has hashes, have a recorded file with one of them), with the unserved closure they need
    /// and the lockfile leaves out: one override per release, in one transaction with one audit event
    /// that lists every pin and what the policy alone did with it. Then publishes, and checks the lockfile
    /// against the new snapshot. Any problem refuses the whole lockfile, naming every pin at fault.
    public func approve(
        lockfile name: String, bytes: [UInt8], reason: String, expiresAt: Date?, actor: String
    ) async throws -> LockfileApproval {
        try await refuseOnReplica("approve")
        let pins = try Lockfile.parse(bytes, path: name)
        let ecosystems = Set(pins.map(\.ecosystem))
        guard let ecosystem = ecosystems.first, ecosystems.count == 1 else {
            throw AirlockError(.invalidArgument, ecosystems.isEmpty ? "\(name) pins no package" : "\(name) pins packages of more than one ecosystem")
        }
        var problems: [String] = []
        var approvals: [LockfileApproval.Pin] = []
        for pin in pins {
            let version = LockfileCheck.canonical(pin.version, ecosystem)
            guard
                let review = try await catalog.releaseReviews(ecosystem, project: pin.project).first(where: {
                    LockfileCheck.canonical($0.version, ecosystem) == version
                })
            else {
                problems.append(
                    "\(pin.source): \(pin.project) \(pin.version) was never mirrored; sync it first (airlock sync \(ecosystem.rawValue) --lockfile \(name))"
                )
                continue
            }
            if let revocation = review.revocation {
                problems.append("\(pin.source): \(pin.project) \(review.version) was revoked by \(revocation.actor): \(revocation.reason)")
                continue
            }
            if !pin.hashes.isEmpty {
                let recorded = try await catalog.recordedDigests(ecosystem, project: pin.project)[review.version] ?? []
                guard !recorded.isDisjoint(with: pin.hashes) else {
                    problems.append(
                        "\(pin.source): no recorded file of \(pin.project) \(review.version) has a hash the lockfile pins (recorded sha256 \(recorded.map { $0.hex.prefix(12) + "…" }.sorted().joined(separator: ", ")))"
                    )
                    continue
                }
            }
            approvals.append(LockfileApproval.Pin(review, source: pin.source))
        }
        var pinned = Set(approvals.map(\.project))
        for approval in approvals where problems.isEmpty {
            for dep in try await queue.closure(ecosystem, project: approval.project, version: approval.version)
            where !dep.served && pinned.insert(dep.project).inserted {
                guard !dep.version.isEmpty else {
                    problems.append(
                        "'\(dep.project)', which \(approval.project) \(approval.version) needs and the lockfile does not pin, has never been synced")
                    continue
                }
                approvals.append(LockfileApproval.Pin(dep, source: "needed by \(approval.project) \(approval.version)"))
            }
        }
        guard problems.isEmpty else {
            throw AirlockError(.invalidArgument, "nothing approved from \(name):\n  " + problems.joined(separator: "\n  "))
        }
        let requests = try approvals.map {
            OverrideRequest(
                project: $0.project, versions: try VersionRange($0.version, ecosystem: ecosystem), action: .approve, reason: reason,
                expiresAt: expiresAt)
        }
        let batch = AuditBatch(
            action: "lockfile.approved", object: "\(ecosystem.rawValue)/\(name.split(separator: "/").last ?? "")",
            details: [
                "reason": reason.trimmingWhitespace(), "expires": expiresAt.map(Timestamp.format) ?? "never", "lockfile_sha256": Digest.of(bytes).hex,
                "pins": approvals.map { "\($0.project) \($0.version) (\($0.source)): the policy alone: \($0.policy)" }.joined(separator: "; "),
            ])
        let overrides = try await catalog.addOverrides(ecosystem, requests, actor: actor, at: Date(), batch: batch)
        for (i, o) in overrides.enumerated() { approvals[i].overrideID = o.id }
        let snapshot = try await publisher.republish(ecosystem, actor: actor)
        let check = try await LockfileCheck(catalog: catalog).check(pins, ecosystem: ecosystem, snapshot: .id(snapshot.id))
        return LockfileApproval(ecosystem: ecosystem, lockfile: name, pins: approvals, snapshot: snapshot.id, check: check)
    }

    /// Withdraws an override (audited) and publishes without it.
    public func withdraw(override id: Int64, reason: String, actor: String) async throws -> (Override, Snapshot) {
        try await refuseOnReplica("withdraw")
        let o = try await catalog.withdrawOverride(id: id, reason: reason, actor: actor, at: Date())
        return (o, try await publisher.republish(o.ecosystem, actor: actor))
    }

    public func deny(_ ecosystem: Ecosystem, project: String, versions: String, reason: String, expiresAt: Date?, actor: String) async throws -> (
        Override, Snapshot
    ) {
        try await refuseOnReplica("deny")
        let request = OverrideRequest(
            project: project, versions: try VersionRange(versions, ecosystem: ecosystem), action: .deny, reason: reason, expiresAt: expiresAt)
        let o = try await catalog.addOverrides(ecosystem, [request], actor: actor, at: Date())[0]
        return await (o, try publisher.republish(ecosystem, actor: actor))
    }

    /// Revokes a release from every snapshot. On a replica too (an emergency cannot wait for the
    /// next bundle): there no snapshot is published, since revocations apply to every snapshot as it is read.
    public func revoke(_ ecosystem: Ecosystem, project: String, version: String, reason: String, actor: String) async throws -> (Revocation, Snapshot)
    {
        let r = try await catalog.revoke(ecosystem, project: project, version: version, reason: reason, actor: actor, at: Date())
        if try await catalog.replicaOrigin() != nil, let latest = try await catalog.snapshot(ecosystem, .latest) { return (r, latest) }
        return await (r, try publisher.republish(ecosystem, actor: actor))
    }

    /// Approving, denying and withdrawing belong to the connected side: a replica serves its decisions as they arrive.
    private func refuseOnReplica(_ act: String) async throws {
        guard let replica = try await catalog.replicaOrigin() else { return }
        throw AirlockError(
            .forbidden,
            "this airlock is an air-gapped replica of \(replica.origin): \(act) there, then carry the decision over with airlock export and airlock import"
        )
    }
}

/// What approving a lockfile did: the overrides made, what the policy alone had decided of each, and
/// the lockfile checked against the snapshot published after.
public struct LockfileApproval: Codable, Sendable {
    public struct Pin: Codable, Sendable {
        public let project: String
        public let version: String
        /// Its place in the lockfile, or which pin needs it.
        public let source: String
        /// What the policy alone decided: `approved and served`, `held for review: …`, `denied: …`.
        public let policy: String
        public internal(set) var overrideID: Int64 = 0

        init(_ review: ReleaseReview, source: String) {
            project = review.project
            version = review.version
            self.source = source
            policy = Self.describe(review)
        }

        static func describe(_ review: ReleaseReview) -> String {
            guard let decision = review.decision else { return "not decided" }
            switch decision.verdict {
            case .approve: return review.served ? "approved and served" : "approved, held back (a dependency is not served)"
            case .review: return "held for review: " + decision.heldBecause
            case .deny: return "denied: " + decision.heldBecause
            }
        }
    }

    public let ecosystem: Ecosystem
    public let lockfile: String
    public let pins: [Pin]
    public let snapshot: Int64
    public let check: LockfileCheck.Report
}
