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
        let stored = try await fetchAll(allFiles, with: files, parallel: options.maxConnections * 2, progress: progress)
        progress.finish()

        let now = Date()
        let maintainerChanges = Self.newMaintainerEmails(releases)
        let otherProjects = try Self.projectsByEmail(releases, recorded: catalog.projectEmails(.pypi))
        var dependents: [String: Int] = [:]
        for r in releases { for d in r.dependsOn where d != r.project.normalized { dependents[d, default: 0] += 1 } }
        var decisions: [String: Decision] = [:]
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
            decisions[key] = decision
            return ReleaseRecord(
                project: r.project, people: r.people, version: r.version.description, requiresDist: r.requiresDist,
                files: zip(distributions, r.files).map { ($0, $1.url) }, decision: decision,
                facts: DecisionFacts(
                    firstUpload: r.history.firstUpload, lastUpload: r.history.lastUpload, releaseCount: r.history.releaseCount,
                    licenseExpression: r.license?.description, licenseDeclared: r.declaredLicense, selectedBy: r.selectedBy,
                    newMaintainerEmails: facts.newMaintainerEmails, dependents: facts.dependents,
                    maintainersOtherProjects: facts.maintainersOtherProjects))
        }
        let ids = try catalog.record(.pypi, records, at: now)
        var served = Set<Int64>()
        var yanking: [Int64: String] = [:]
        for (record, fileIDs) in zip(records, ids) {
            if record.decision.verdict == .approve { served.formUnion(fileIDs) }
            if let reason = record.decision.serveYanked {
                served.formUnion(fileIDs)
                for id in fileIDs { yanking[id] = reason }
            }
        }

        let writer = ManifestWriter(directory: dataDirectory + "/snapshots")
        var manifestPath = ""
        let policyFile = (evaluator as? PolicyEngine).map { (path: $0.loaded.path, text: $0.loaded.text) }
        let snapshot = try catalog.publishSnapshot(
            .pypi, serving: served, yanking: yanking, policyDigest: evaluator.policyDigest, at: now, activating: policyFile) { snapshot, files in
            manifestPath = try writer.write(snapshot, files: files, decisions: decisions)
        }
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

    /// For each project's newest mirrored release: e-mails its metadata names that no older mirrored
    /// release of the project does (a takeover signal on a mature project).
    static func newMaintainerEmails(_ releases: [ResolvedRelease]) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for (_, versions) in Dictionary(grouping: releases, by: \.project.normalized) where versions.count > 1 {
            let sorted = versions.sorted { $0.version < $1.version }
            let newest = sorted.last!
            let earlier = sorted.dropLast().reduce(into: Set<String>()) { $0.formUnion($1.metadataEmails) }
            let fresh = newest.metadataEmails.subtracting(earlier)
            if !fresh.isEmpty { out["\(newest.project.normalized)==\(newest.version)"] = fresh.sorted() }
        }
        return out
    }

    /// E-mail → projects naming it, over this sync's releases and every project recorded before.
    static func projectsByEmail(_ releases: [ResolvedRelease], recorded: [(project: String, people: ProjectPeople)]) -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        for (project, people) in recorded { for e in PolicyEngine.emails(people) { out[e, default: []].insert(project) } }
        for r in releases {
            for e in r.metadataEmails.union(r.people.map(PolicyEngine.emails) ?? []) { out[e, default: []].insert(r.project.normalized) }
        }
        return out
    }

    private func mergedSelection(_ requirements: [Requirement], replace: Bool) throws -> [String] {
        try catalog.updateSelection(.pypi, adding: requirements.map(\.description), replace: replace, at: Date())
        return try catalog.selection(.pypi)
    }

    /// Fetches every file, a bounded number at once; reports every failure, not just the first.
    private func fetchAll(_ all: [(ProjectName, UpstreamFile)], with files: DistributionFetcher, parallel: Int, progress: SyncProgress) async throws -> [String: StoredFile] {
        var stored: [String: StoredFile] = [:]
        var failures: [String] = []
        try await withThrowingTaskGroup(of: (String, Result<StoredFile, AirlockError>).self) { group in
            var pending = all[...]
            func startNext() {
                guard let (project, file) = pending.popFirst() else { return }
                group.addTask {
                    do {
                        return (file.url, .success(try await files.ensure(file, project: project)))
                    } catch let e as AirlockError {
                        return (file.url, .failure(e))
                    }
                }
            }
            for _ in 0..<max(parallel, 1) { startNext() }
            while let (url, result) = try await group.next() {
                progress.fileDone()
                switch result {
                case .success(let s): stored[url] = s
                case .failure(let e):
                    failures.append(e.message)
                    logger.error("file rejected", metadata: ["url": "\(url)", "error": "\(e.message)"])
                }
                startNext()
            }
        }
        if !failures.isEmpty {
            throw AirlockError(.network, "sync failed; nothing was published. \(failures.count) file(s) could not be mirrored:\n  " + failures.joined(separator: "\n  "))
        }
        return stored
    }
}
