public import AirlockCore
public import Foundation

/// The read side the serving endpoint needs: published snapshots and what each serves. The endpoint
/// sees nothing else, so it cannot serve what no snapshot holds.
public protocol SnapshotCatalog: Sendable {
    /// The snapshot a selector names, or nil when none matches.
    func snapshot(_ ecosystem: Ecosystem, _ selector: SnapshotSelector) async throws -> Snapshot?
    /// Every published snapshot of an ecosystem, oldest first.
    func snapshots(_ ecosystem: Ecosystem) async throws -> [Snapshot]
    /// Every distribution a snapshot serves (revoked releases left out).
    func servedFiles(in snapshot: Snapshot) async throws -> [Distribution]
    /// The distribution with this digest and filename if any published snapshot serves it.
    func servedFile(digest: Digest, filename: String) async throws -> Distribution?
    /// Changes whenever a release is revoked or a snapshot expires: cached views must then be rebuilt.
    func withdrawalStamp() async throws -> Int64
    /// The upstream project pages syncs read, by project: what each mirrored project tracks (PEP 708)
    /// and its status (PEP 792).
    func upstreamProjects(_ ecosystem: Ecosystem) async throws -> [String: UpstreamProject]
    /// The revocation covering the file with this digest, if it was revoked.
    func revocation(ofFile digest: Digest) async throws -> Revocation?
    /// The R binaries recorded for a distribution (nil: every one) and package (nil: every one); each is
    /// served only beside the source release a snapshot serves.
    func binaries(distro: String?, package: String?) async throws -> [RBinary]
}

/// What a sync reads and writes: releases with their files, facts and decisions, the stored
/// selection, the active policy, imported feeds and the upstream response cache.
public protocol ReleaseCatalog: Sendable {
    /// Records releases, their files and decisions in one transaction; returns each release's ids.
    func record(_ ecosystem: Ecosystem, _ releases: [ReleaseRecord], at: Date) async throws -> [RecordedRelease]
    /// The core-metadata digest recorded for a file with this content digest, if any.
    func metadataDigest(ofFile digest: Digest) async throws -> Digest?
    /// The content and metadata digests last recorded for a file fetched from `upstreamURL`.
    func recordedFile(upstreamURL: String) async throws -> RecordedFile?
    /// The requirements a sync of this ecosystem mirrors, in the order they were added.
    func selection(_ ecosystem: Ecosystem) async throws -> [String]
    /// Adds requirements to the selection, or replaces it whole.
    func updateSelection(_ ecosystem: Ecosystem, adding requirements: [String], replace: Bool, at: Date) async throws
    /// The projects of the last sync's releases (normalized names): what the next sync will likely read again.
    func candidateProjects(_ ecosystem: Ecosystem) async throws -> [String]
    /// The author and maintainer e-mail fields of every project recorded for an ecosystem.
    func projectEmails(_ ecosystem: Ecosystem) async throws -> [(project: String, people: ProjectPeople)]
    /// The policy file the last snapshot with a policy was published under.
    func activePolicy(_ ecosystem: Ecosystem) async throws -> PolicySource?
    /// Recorded releases (of one project, optionally one version), each with its latest decision.
    func storedReleases(_ ecosystem: Ecosystem, project: String?, version: String?) async throws -> [StoredRelease]
    /// What the content scanner found in the file with this digest (`scanner` is its version), if it looked.
    func contentScan(ofFile digest: Digest) async throws -> (scanner: Int, findings: [ContentFinding])?
    func storeContentScan(ofFile digest: Digest, scanner: Int, findings: [ContentFinding]) async throws
    /// The verified PEP 740 provenance of the file with this digest, if it came with one.
    func provenance(ofFile digest: Digest) async throws -> FileProvenance?
    func storeProvenance(_ provenance: FileProvenance, ofFile digest: Digest) async throws
    /// Every release of an ecosystem that some snapshot has served and whose files came with verified
    /// provenance: the identities a project's publishing is compared with.
    func servedAttestations(_ ecosystem: Ecosystem) async throws -> [(project: String, version: String, provenance: FileProvenance)]
    /// Records upstream project pages whose place or status changed (replacing what was recorded of them;
    /// `observed_at` is when the current status was first seen).
    func recordUpstreamProjects(_ ecosystem: Ecosystem, _ projects: [UpstreamProject], at: Date) async throws
    /// Records R binaries (replacing what was recorded for the same package, version, distribution and R minor version).
    func recordBinaries(_ binaries: [RBinary], at: Date) async throws
    /// A stored upstream response, for a conditional request.
    func cachedResponse(url: String) async throws -> StoredResponse?
    func storeResponse(url: String, _ response: StoredResponse) async throws
}

/// Imported feeds: download counts and advisories, decided on without fetching anything.
public protocol FeedCatalog: Sendable {
    /// Replaces the download counts of an ecosystem with an imported feed.
    func replacePopularity(_ ecosystem: Ecosystem, _ downloads: [String: Int], source: String, digest: Digest, at: Date) async throws
    /// Download counts per project, or nil when no popularity feed was imported.
    func popularity(_ ecosystem: Ecosystem) async throws -> [String: Int]?
    /// Adds (or updates, by id and project) advisories, each kept as its JSON document.
    func storeAdvisories(_ ecosystem: Ecosystem, _ advisories: [StoredAdvisory], source: String, digest: Digest, at: Date) async throws
    /// Every stored advisory document of an ecosystem, in a stable order.
    func advisoryDocuments(_ ecosystem: Ecosystem) async throws -> [String]
    /// Replaces the Sigstore trusted root that provenance is verified against.
    func storeTrustedRoot(_ document: [UInt8], source: String, digest: Digest, at: Date) async throws
    /// The imported Sigstore trusted root; nil when none was imported (the shipped public-good root applies).
    func trustedRoot() async throws -> [UInt8]?
}

/// What reviewers and the endpoint's access control read and write: the audit log, tokens, demand,
/// overrides, revocations and releases as reviewers see them. Publishing is `PublishCatalog`'s.
public protocol ReviewCatalog: Sendable {
    /// Appends one event on its own (events with no other write, such as failed logins).
    func audit(actor: String, action: String, object: String, details: [String: String], at: Date) async throws
    /// Events, newest first, skipping the `offset` newest.
    func auditEvents(limit: Int, offset: Int) async throws -> [AuditEvent]
    /// How many events the log holds.
    func auditCount() async throws -> Int
    /// Walks the whole chain of the audit log; each anchor (a head a signed manifest recorded) must be in it.
    func verifyAudit(anchors: [AuditHead]) async throws -> AuditVerification

    /// Creates a token and returns its secret, shown once; only its SHA-256 is stored.
    func createToken(name: String, role: Role, expiresAt: Date?, actor: String, at: Date) async throws -> (token: APIToken, secret: String)
    func tokens() async throws -> [APIToken]
    func revokeToken(id: Int64, actor: String, at: Date) async throws
    /// The token whose secret this is, valid or not (callers check `isValid`).
    func token(secret: String) async throws -> APIToken?

    /// Adds counted requests the endpoint could not serve, in one transaction.
    func recordMisses(_ misses: [Miss]) async throws
    func misses(_ ecosystem: Ecosystem?) async throws -> [Miss]

    /// Records overrides in one transaction, or none, each with its audit event, or, given `batch`, with
    /// that one event for them all (naming their ids). Each must name recorded releases.
    func addOverrides(_ ecosystem: Ecosystem, _ requests: [OverrideRequest], actor: String, at: Date, batch: AuditBatch?) async throws -> [Override]
    /// Every override, withdrawn and expired ones too, oldest first.
    func overrides(_ ecosystem: Ecosystem?, project: String?) async throws -> [Override]
    /// Withdraws an active override (it stays on record, no longer applying), with its audit event.
    func withdrawOverride(id: Int64, reason: String, actor: String, at: Date) async throws -> Override
    /// Every recorded project of an ecosystem, by name.
    func projectNames(_ ecosystem: Ecosystem) async throws -> [String]
    /// The content digests of every recorded file of a project, by version.
    func recordedDigests(_ ecosystem: Ecosystem, project: String) async throws -> [String: Set<Digest>]
    /// The stored metadata (core metadata, or a CRAN package's `PACKAGES` record) of a project's files, by version.
    func recordedMetadata(_ ecosystem: Ecosystem, project: String) async throws -> [String: Digest]

    /// Adds counted downloads (per file and day) in one transaction.
    func recordDownloads(_ counts: [DownloadCount]) async throws
    /// Download counts of every file on each day from `since` (a `YYYY-MM-DD` day) on.
    func downloads(since day: String) async throws -> [DownloadCount]
    /// Revokes a release from every snapshot at once, with its audit event.
    func revoke(_ ecosystem: Ecosystem, project: String, version: String, reason: String, actor: String, at: Date) async throws -> Revocation
    func revocations(_ ecosystem: Ecosystem?) async throws -> [Revocation]

    /// Every recorded release of a project, oldest first, with its decision under the active policy,
    /// whether the latest snapshot serves it, and any revocation.
    func releaseReviews(_ ecosystem: Ecosystem, project: String) async throws -> [ReleaseReview]
    /// Projects with a release the active policy holds for review, or that clients asked for.
    func projectsToReview(_ ecosystem: Ecosystem) async throws -> [String]
    /// Releases the last publication held back as not installable, with why.
    func heldReleases(_ ecosystem: Ecosystem) async throws -> [ReleaseKey: HeldRelease]
    /// What the last sync could not bring in.
    func setAside(_ ecosystem: Ecosystem) async throws -> [SetAsideRelease]
    /// The connected side this data directory replicates (it was made by importing bundles), or nil
    /// when it syncs from an upstream. A replica takes no approve or deny.
    func replicaOrigin() async throws -> ReplicaOrigin?
    /// The target environments the last sync resolved for (`python|platform`; empty for CRAN or never synced).
    func syncTargets(_ ecosystem: Ecosystem) async throws -> [String]
}

extension SnapshotCatalog {
    /// Every R binary recorded for a distribution.
    public func binaries(distro: String) async throws -> [RBinary] { try await binaries(distro: distro, package: nil) }

    /// The R binaries a snapshot serves (none for PyPI).
    public func servedBinaries(in snapshot: Snapshot, files: [Distribution]) async throws -> [RBinary] {
        snapshot.ecosystem == .cran ? RBinary.served(by: snapshot, files: files, from: try await binaries(distro: nil, package: nil)) : []
    }

    /// What changed from snapshot `a` to snapshot `b` of one ecosystem: releases, files and R binaries
    /// (the files each serves read here unless given).
    public func diff(_ a: Snapshot, _ b: Snapshot, files: (from: [Distribution], to: [Distribution])? = nil) async throws -> SnapshotDiff {
        let binaries = a.ecosystem == .cran ? try await binaries(distro: nil, package: nil) : []
        if let files { return SnapshotDiff(from: a, fromFiles: files.from, to: b, toFiles: files.to, binaries: binaries) }
        return SnapshotDiff(from: a, fromFiles: try await servedFiles(in: a), to: b, toFiles: try await servedFiles(in: b), binaries: binaries)
    }
}

extension ReviewCatalog {
    /// The newest events.
    public func auditEvents(limit: Int) async throws -> [AuditEvent] { try await auditEvents(limit: limit, offset: 0) }

    /// Records overrides, each with its own audit event.
    public func addOverrides(_ ecosystem: Ecosystem, _ requests: [OverrideRequest], actor: String, at: Date) async throws -> [Override] {
        try await addOverrides(ecosystem, requests, actor: actor, at: at, batch: nil)
    }
}

/// The one write that makes a snapshot: inside a single transaction the catalog gathers the state
/// the publish rule needs, lets `rule` decide, and stores the result. See `SnapshotPublisher`.
public protocol PublishCatalog: Sendable {
    /// Publishes one snapshot: applies `request` (a sync's candidates and policy, if any), reads the
    /// state, asks `rule` what to serve and, when that differs from what the latest snapshot serves
    /// (files or yank reasons, or R binaries recorded since), stores a new snapshot and calls `beforeCommit`
    /// with it, what it serves and the audit chain's head (to write its manifest). Otherwise it only records that the state was checked, and returns the
    /// latest snapshot with `isNew` false. If anything throws, nothing is published.
    func publish(
        _ request: PublishRequest, rule: @Sendable (PublishState) throws -> PublishPlan,
        beforeCommit: @Sendable (Snapshot, SnapshotContents, PublishPlan, AuditHead) throws -> Void
    ) async throws -> (snapshot: Snapshot, isNew: Bool)
    /// When the ecosystem's state was last checked by a publication, new snapshot or not.
    func lastChecked(_ ecosystem: Ecosystem) async throws -> Date?
}

/// Everything the composition root hands out: one catalog playing every role.
/// Retention: expiring old snapshots and knowing which blobs the rest still need.
public protocol RetentionCatalog: Sendable {
    /// Every snapshot not expired, of every ecosystem, oldest first.
    func retainedSnapshots() async throws -> [Snapshot]
    /// Expires snapshots (no selector finds them, nothing is served through them) with one audit
    /// event, in one transaction.
    func expire(_ ids: [Int64], actor: String, at: Date) async throws
    /// The digests of every blob still needed: the files (and their metadata) of every retained
    /// snapshot but those in `expiring`, and of every release the last sync of an ecosystem resolved
    /// (review acts publish from them).
    func referencedBlobs(expiring: Set<Int64>) async throws -> Set<String>
}

public typealias Catalog = SnapshotCatalog & ReleaseCatalog & FeedCatalog & ReviewCatalog & PublishCatalog & RetentionCatalog & TransferCatalog
