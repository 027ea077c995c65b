import AirlockCatalog
public import AirlockCore
import AirlockPolicy
import AirlockStore
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

    public init(upstreamURL: String, environments: [TargetEnvironment], versionsPerRequirement: Int = 3, maxFileSize: Int64 = 4 << 30, maxConnections: Int = 8) {
        self.upstreamURL = upstreamURL
        self.environments = environments
        self.versionsPerRequirement = versionsPerRequirement
        self.maxFileSize = maxFileSize
        self.maxConnections = maxConnections
    }
}

/// What a finished sync did.
public struct SyncReport: Codable, Sendable {
    public var snapshot: Snapshot
    public var manifest: String
    public var projects: Int
    public var releases: Int
    public var files: Int
    public var downloaded: Int
    public var reused: Int
    public var indexRequests: Int
    public var indexNotModified: Int
    public var seconds: Double
}

/// Mirrors a selection of PyPI projects with their dependency closure:
/// plan (read indexes, pick versions and files, follow `Requires-Dist`) → fetch (parallel, verified,
/// into the blob store) → record and evaluate (catalog, policy) → publish one snapshot atomically.
/// A sync that fails publishes nothing; the blobs it finished stay for the next run.
public struct PyPISync: Sendable {
    let dataDirectory: String
    let catalog: SQLiteCatalog
    let store: any BlobStore
    let evaluator: any ReleaseEvaluator
    let logger: Logger

    public init(dataDirectory: String, catalog: SQLiteCatalog, store: any BlobStore, evaluator: any ReleaseEvaluator, logger: Logger) {
        self.dataDirectory = dataDirectory
        self.catalog = catalog
        self.store = store
        self.evaluator = evaluator
        self.logger = logger
    }

    /// Adds `requirements` to the stored selection (or replaces it), then syncs the whole selection.
    public func run(adding requirements: [Requirement], replace: Bool, options: PyPISyncOptions, progress: SyncProgress) async throws -> SyncReport {
        let started = Date()
        let lock = try SyncLock(dataDirectory: dataDirectory)
        defer { withExtendedLifetime(lock) {} }
        try store.removeAbandonedStaging()
        if let bad = requirements.first(where: { $0.url != nil }) {
            throw AirlockError(.invalidArgument, "requirement '\(bad)' is a direct URL reference; airlock mirrors index projects only")
        }
        let selectionText = try mergedSelection(requirements, replace: replace)
        guard !selectionText.isEmpty else {
            throw AirlockError(.invalidArgument, "nothing to sync: give requirements (e.g. 'requests>=2') or -r requirements.txt; the stored selection is empty")
        }
        let selection = try selectionText.map(Requirement.init(parsing:))

        let fetcher = HTTPFetcher(maxConnectionsPerHost: options.maxConnections, logger: logger)
        let upstream = try PyPIUpstream(url: options.upstreamURL, fetcher: fetcher, cache: CatalogResponseCache(catalog: catalog))
        let files = DistributionFetcher(
            store: store, fetcher: fetcher, catalog: catalog, inspector: ArchiveInspector(), progress: progress, maxFileSize: options.maxFileSize)

        progress.phase("resolving")
        let evaluator = self.evaluator
        let resolver = DependencyResolver(upstream: upstream, files: files, environments: options.environments, logger: logger) { release in
            // Judged before download, on what the index says; the recorded decision uses the stored files.
            let planned = release.files.map { release.distribution($0, digest: $0.sha256 ?? Digest.of([]), size: $0.size ?? 0) }
            return evaluator.evaluate(release.facts(files: planned), at: started).verdict == .approve
        }
        let releases = try await resolver.resolve(selection, versionsPerRequirement: options.versionsPerRequirement)

        let allFiles = releases.flatMap { r in r.files.map { (r.project, $0) } }
        progress.phase("fetching", total: allFiles.count)
        let stored = try await SyncSteps.fetchEach(
            allFiles, parallel: options.maxConnections * 2, progress: progress, logger: logger, key: { $0.1.url }
        ) { project, file in try await files.ensure(file, project: project) }
        progress.finish()

        let now = Date()
        let maintainerChanges = SyncSteps.newMaintainerEmails(Self.maintained(releases))
        let otherProjects = try SyncSteps.projectsByEmail(Self.maintained(releases), recorded: catalog.projectEmails(.pypi))
        var dependents: [String: Int] = [:]
        for r in releases { for d in r.dependsOn where d != r.project.normalized { dependents[d, default: 0] += 1 } }
        let records: [ReleaseRecord] = releases.map { r in
            let key = "\(r.project.normalized)==\(r.version)"
            let distributions = r.files.map { f in
                let s = stored[f.url]!
                return r.distribution(f, digest: s.digest, size: s.size, metadataDigest: s.metadataDigest)
            }
            let emails = r.metadataEmails.union(r.people.map(PolicyEngine.emails) ?? [])
            let others = Set(emails.flatMap { otherProjects[$0] ?? [] }).subtracting([r.project.normalized]).sorted()
            let facts = r.facts(
                files: distributions, newMaintainerEmails: maintainerChanges[key] ?? [], dependents: dependents[r.project.normalized] ?? 0,
                maintainersOtherProjects: others)
            let decision = evaluator.evaluate(facts, at: now)
            return ReleaseRecord(
                project: r.project, people: r.people, version: r.version.description, requiresDist: r.requiresDist,
                files: zip(distributions, r.files).map { ($0, $1.url) }, decision: decision,
                facts: DecisionFacts(
                    firstUpload: r.history.firstUpload, lastUpload: r.history.lastUpload, releaseCount: r.history.releaseCount,
                    licenseExpression: r.license?.description, licenseDeclared: r.declaredLicense, selectedBy: r.selectedBy,
                    newMaintainerEmails: facts.newMaintainerEmails, dependents: facts.dependents,
                    maintainersOtherProjects: facts.maintainersOtherProjects))
        }
        let (snapshot, manifestPath) = try SyncSteps.publish(.pypi, records, catalog: catalog, evaluator: evaluator, dataDirectory: dataDirectory, at: now)
        let counts = upstream.requestCounts
        let report = SyncReport(
            snapshot: snapshot, manifest: manifestPath, projects: Set(releases.map(\.project)).count, releases: releases.count,
            files: allFiles.count, downloaded: await files.downloaded, reused: await files.reused,
            indexRequests: counts.requests, indexNotModified: counts.notModified, seconds: Date().timeIntervalSince(started))
        logger.info(
            "snapshot published",
            metadata: [
                "snapshot": "\(snapshot.id)", "files": "\(report.files)", "downloaded": "\(report.downloaded)", "reused": "\(report.reused)",
                "index_not_modified": "\(counts.notModified)/\(counts.requests)",
            ])
        return report
    }

    /// The maintainer signals' view of PyPI releases.
    static func maintained(_ releases: [ResolvedRelease]) -> [MaintainedRelease<PythonVersion>] {
        releases.map {
            MaintainedRelease(
                project: $0.project.normalized, version: $0.version, emails: $0.metadataEmails,
                projectEmails: $0.metadataEmails.union($0.people.map(PolicyEngine.emails) ?? []))
        }
    }

    private func mergedSelection(_ requirements: [Requirement], replace: Bool) throws -> [String] {
        try catalog.updateSelection(.pypi, adding: requirements.map(\.description), replace: replace, at: Date())
        return try catalog.selection(.pypi)
    }
}
