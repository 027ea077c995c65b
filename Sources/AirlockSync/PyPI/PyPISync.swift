import AirlockCatalog
public import AirlockCore
public import AirlockPolicy
import AirlockProvenance
public import AirlockPublish
public import AirlockStore
import AirlockUpstream
public import Foundation
public import Logging

/// What a sync of PyPI mirrors and for which machines.
public struct PyPISyncOptions: Sendable {
    public var upstreamURL: String
    public var environments: [TargetEnvironment]
    /// Newest versions kept per requested requirement; dependencies get the newest match per requirer.
    public var versionsPerRequirement: Int
    public var maxFileSize: Int64
    public var maxConnections: Int
    /// Redirects, time limits and unhashed files.
    public var limits = UpstreamLimits()
    /// Proxy, CA, client certificate, credentials, headers, request rate.
    public var access = UpstreamAccess()

    public init(
        upstreamURL: String, environments: [TargetEnvironment], versionsPerRequirement: Int = 3, maxFileSize: Int64 = 4 << 30, maxConnections: Int = 8
    ) {
        self.upstreamURL = upstreamURL
        self.environments = environments
        self.versionsPerRequirement = versionsPerRequirement
        self.maxFileSize = maxFileSize
        self.maxConnections = maxConnections
    }
}

/// What a finished sync did.
public struct SyncReport: Codable, Sendable {
    /// The new snapshot, or the latest one when nothing changed.
    public var snapshot: Snapshot
    /// Whether the sync published a new snapshot (false: nothing served changed).
    public var published: Bool
    public var manifest: String
    /// Releases (or dependencies) the sync could not bring in, with the check that failed.
    public var setAside: [SetAsideRelease]
    /// Releases held back because they could not be installed from the snapshot, with why.
    public var held: [String: String]
    public var projects: Int
    public var releases: Int
    public var files: Int
    public var downloaded: Int
    public var reused: Int
    public var indexRequests: Int
    public var indexNotModified: Int
    /// Index documents not requested at all: their project's PyPI serial had not changed.
    public var indexUnchanged: Int = 0
    /// Every HTTP request made to the upstream (pages, metadata files, downloads, redirects, retries).
    public var upstreamRequests: Int = 0
    /// R binaries mirrored beside the served sources (CRAN with a binary upstream only).
    public var binaries: BinaryReport?
    public var seconds: Double
    /// Facts the upstream's index did not give, and what stands in for them.
    public var upstreamGaps: [String] = []
    /// What the new (or current) snapshot serves, whatever the sync brought in.
    public var served = ServedCounts()
    /// This sync's releases by verdict.
    public var approved = 0, heldForReview = 0, denied = 0
    /// What decided the releases not approved (`rule:cooldown`, `score`, …), most common first.
    public var holdReasons: [ReasonCount] = []
    /// Facts the policy could not use, and what to do about them.
    public var missingFacts: [String] = []

    public struct ServedCounts: Codable, Sendable {
        public var releases = 0, projects = 0, files = 0
    }

    public struct ReasonCount: Codable, Sendable {
        public let reason: String
        public let releases: Int
    }

    /// Fills the served counts, the verdicts and why releases were held, and the facts that were missing.
    mutating func summarize(_ records: [ReleaseRecord], served: [Distribution], popularityKnown: Bool) {
        self.served = ServedCounts(
            releases: Set(served.map { "\($0.project.normalized) \($0.version)" }).count, projects: Set(served.map(\.project.normalized)).count,
            files: served.count)
        var reasons: [String: Int] = [:]
        for r in records {
            switch r.decision.verdict {
            case .approve: approved += 1
            case .review: heldForReview += 1
            case .deny: denied += 1
            }
            if r.decision.verdict != .approve { reasons[r.decision.decidedBy, default: 0] += 1 }
        }
        holdReasons = reasons.map { ReasonCount(reason: $0.key, releases: $0.value) }.sorted { ($0.releases, $1.reason) > ($1.releases, $0.reason) }
        let untimed = records.filter { r in r.files.allSatisfy { $0.distribution.uploadTime == nil || $0.distribution.uploadTimeObserved } }.count
        if untimed > 0 {
            missingFacts.append(
                "\(untimed) of \(records.count) releases have no upload time from the upstream: age and cooldown score them as new (mirror from an index that gives upload times, or review them)"
            )
        }
        let unnamed = records.filter { r in
            r.people.map { $0.author == nil && $0.maintainer == nil && $0.authorEmail == nil && $0.maintainerEmail == nil } ?? true
        }.count
        if unnamed > 0 { missingFacts.append("\(unnamed) of \(records.count) releases name no author or maintainer: they earn no maintainer points") }
        if !popularityKnown {
            missingFacts.append(
                "no popularity feed is imported: popularity is not scored (airlock feeds import popularity FILE, or popularity_feed in airlock.toml)")
        }
    }
}

/// Where a sync works: the data directory (whose sync lock it holds), its catalog and store, and the
/// policy deciding releases. The lock is taken before the catalog is opened, so two syncs never even
/// migrate one catalog at once.
public struct SyncContext: Sendable {
    public let lock: DataDirectoryLock
    public let dataDirectory: String
    public let catalog: any ReleaseCatalog & PublishCatalog & SnapshotCatalog
    public let store: any BlobStore
    public let evaluator: any ReleaseEvaluator
    public let logger: Logger
    /// The imported Sigstore trusted root (nil: none imported, the shipped public-good root applies).
    public var importedTrustedRoot: [UInt8]?

    public init(
        lock: DataDirectoryLock, dataDirectory: String, catalog: any ReleaseCatalog & PublishCatalog & SnapshotCatalog, store: any BlobStore,
        evaluator: any ReleaseEvaluator,
        logger: Logger
    ) {
        self.lock = lock
        self.dataDirectory = dataDirectory
        self.catalog = catalog
        self.store = store
        self.evaluator = evaluator
        self.logger = logger
    }

    /// Publishes a CRAN snapshot serving the binaries recorded since the latest one (a snapshot serves
    /// only binaries recorded before its publication, so its bytes never change).
    public func publishRecordedBinaries(actor: String) async throws -> Publication {
        try await SnapshotPublisher(catalog: catalog, dataDirectory: dataDirectory).publish(
            PublishRequest(ecosystem: .cran, actor: actor, at: Date()))
    }

    func trustedRoot() async throws -> TrustedRoot {
        guard let importedTrustedRoot else { return try TrustedRoot.publicGood() }
        do { return try TrustedRoot(json: importedTrustedRoot) } catch {
            throw AirlockError(.catalog, "the imported Sigstore trusted root does not read back: \(error)")
        }
    }

    func pipeline(_ ecosystem: Ecosystem) -> SyncPipeline {
        SyncPipeline(
            ecosystem: ecosystem, catalog: catalog, store: store, publisher: SnapshotPublisher(catalog: catalog, dataDirectory: dataDirectory),
            evaluator: evaluator, logger: logger)
    }
}

/// Mirrors a selection of PyPI projects with their dependency closure:
/// resolve (read indexes, pick versions and files, follow `Requires-Dist`) → fetch (parallel, verified,
/// into the blob store) → record and decide → publish one snapshot atomically.
/// A sync that fails publishes nothing; the blobs it finished stay for the next run.
public struct PyPISync: Sendable {
    let context: SyncContext

    public init(_ context: SyncContext) { self.context = context }

    /// Adds `requirements` to the stored selection (or replaces it), then syncs the whole selection.
    public func run(adding requirements: [Requirement], replace: Bool, options: PyPISyncOptions, progress: SyncProgress) async throws -> SyncReport {
        let started = Date()
        let (catalog, store, logger) = (context.catalog, context.store, context.logger)
        try store.removeAbandonedStaging()
        if let bad = requirements.first(where: { $0.url != nil }) {
            throw AirlockError(.invalidArgument, "requirement '\(bad)' is a direct URL reference; airlock mirrors index projects only")
        }
        try await catalog.updateSelection(.pypi, adding: requirements.map(\.description), replace: replace, at: Date())
        let selection = try await catalog.selection(.pypi).map(Requirement.init(parsing:))
        guard !selection.isEmpty else {
            throw AirlockError(
                .invalidArgument, "nothing to sync: give requirements (e.g. 'requests>=2') or -r requirements.txt; the stored selection is empty")
        }

        let fetcher = HTTPFetcher(
            maxConnectionsPerHost: options.maxConnections, upstream: options.upstreamURL, limits: options.limits, access: options.access,
            logger: logger)
        let upstream = try PyPIUpstream(url: options.upstreamURL, fetcher: fetcher, cache: CatalogResponseCache(catalog: catalog))
        let files = PyPIFileFetcher(
            download: VerifiedDownload(store: store, fetcher: fetcher, progress: progress, maxFileSize: options.maxFileSize), catalog: catalog,
            inspector: ArchiveInspector(),
            provenance: ProvenanceCheck(
                verifier: AttestationVerifier(root: try await context.trustedRoot()), fetcher: fetcher, store: store, catalog: catalog),
            allowUnhashed: options.limits.allowUnhashed)

        progress.phase("resolving")
        let evaluator = context.evaluator
        let adapter = PyPIResolver(upstream: upstream, files: files, environments: options.environments, logger: logger) { release in
            // Judged before download, on what the index says; the recorded decision uses the stored files.
            evaluator.evaluate(release.facts(), at: started).verdict == .approve
        }
        await adapter.prefetch(try await catalog.candidateProjects(.pypi))
        let pipeline = context.pipeline(.pypi)
        let targets = options.environments.map(DependencyNeeds.stored)
        let extras = Dictionary(selection.map { ($0.name.normalized, $0.extras.sorted()) }, uniquingKeysWith: { Array(Set($0 + $1)).sorted() })
        var fileCount = 0
        let (releases, setAside) = try await pipeline.resolveInstallable(
            adapter, selection.map { Want(requirement: $0, origin: .selection, count: options.versionsPerRequirement) }, targets: targets,
            extras: extras
        ) { resolved in
            let allFiles = resolved.flatMap { r in r.upstreamFiles.map { (r.project, $0) } }
            fileCount = allFiles.count
            progress.phase("fetching", total: allFiles.count)
            let (stored, failed) = try await SyncPipeline.fetchEach(
                allFiles, parallel: options.maxConnections * 2, progress: progress, logger: logger, key: { $0.1.url }
            ) { project, file in try await files.ensure(file, project: project) }
            progress.finish()
            var kept: [ResolvedRelease] = []
            var setAside: [SetAsideRelease] = []
            for var r in resolved {
                if let (file, error) = r.upstreamFiles.lazy.compactMap({ f in failed[f.url].map { (f, $0) } }).first {
                    setAside.append(
                        SetAsideRelease(
                            project: r.project.normalized, version: r.version.description, filename: file.filename, check: error.code.name,
                            error: error.message,
                            requiredBy: r.selectedBy))
                    continue
                }
                r.stored = Dictionary(r.upstreamFiles.compactMap { f in stored[f.url].map { (f.url, $0) } }, uniquingKeysWith: { first, _ in first })
                kept.append(r)
            }
            return (kept, setAside)
        }

        // Only what changed is written: a resync in which nothing did writes nothing here.
        let known = try await catalog.upstreamProjects(.pypi)
        try await catalog.recordUpstreamProjects(.pypi, adapter.upstreamProjects.filter { known[$0.name] != $0 }, at: Date())
        let outcome = try await pipeline.recordAndPublish(releases, targets: targets, extras: extras, setAside: setAside, at: Date())
        var report = try await pipeline.report(
            outcome, releases, setAside: setAside, files: fileCount, transfers: files.counts,
            index: (upstream.requestCounts.requests, upstream.requestCounts.notModified), started: started)
        report.indexUnchanged = upstream.requestCounts.unchangedSerial
        report.upstreamRequests = fetcher.requestsPerformed
        report.upstreamGaps = Self.gaps(in: releases, upstream: options.upstreamURL)
        for gap in report.upstreamGaps { logger.warning("upstream index lacks a field", metadata: ["gap": "\(gap)"]) }
        return report
    }

    /// What PEP 503 upstreams (pypiserver, devpi, Artifactory) leave out that clients rely on, and what
    /// airlock serves instead: the core metadata's `Requires-Python`, and the time it first saw a file
    /// as its `upload-time` (marked `upload_time_source: mirror` in the snapshot manifest).
    static func gaps(in releases: [ResolvedRelease], upstream: String) -> [String] {
        let files = releases.flatMap(\.upstreamFiles)
        var gaps: [String] = []
        let untimed = files.filter { $0.uploadTime == nil }.count
        if untimed > 0 {
            gaps.append(
                "\(upstream) gives no upload time for \(untimed) of \(files.count) files: they are served with the time airlock first saw them "
                    + "(the policy's age and cooldown cannot use it; mirror from an index that gives upload times, such as PyPI's JSON API)")
        }
        let filled = releases.reduce(0) { n, r in
            n + (r.metadataRequiresPython == nil ? 0 : r.upstreamFiles.filter { $0.requiresPython == nil }.count)
        }
        if filled > 0 {
            gaps.append("\(upstream) gives no Requires-Python for \(filled) of \(files.count) files: served from their core metadata")
        }
        return gaps
    }
}
