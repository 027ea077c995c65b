import AirlockCatalog
import AirlockCore
import AirlockPolicy
import AirlockPublish
import AirlockStore
import Foundation
import Logging

/// A release a sync resolved and fetched, as the shared tail of the pipeline sees it, whatever its ecosystem.
protocol SyncedRelease: Sendable {
    associatedtype Version: Comparable
    var project: ProjectName { get }
    var version: Version { get }
    var people: ProjectPeople? { get }
    /// The e-mails the release's own metadata names.
    var metadataEmails: Set<String> { get }
    /// Projects it depends on in the target environments.
    var dependsOn: Set<String> { get }
    /// When its project released, over every version upstream.
    var history: ProjectHistory { get }
    /// Declared dependencies as recorded (`Requires-Dist` lines, or R dependency entries).
    var requiresDist: [String]? { get }
    /// Its stored files, each with the upstream URL it came from.
    var files: [(distribution: Distribution, upstreamURL: String)] { get }
    /// Its files as installers choose them (which targets can install it; empty: every target).
    var artifacts: [PublishState.Artifact] { get }
    /// What the policy decides it on, given the signals computed over the whole sync.
    func facts(newMaintainerEmails: [String], dependents: Int, maintainersOtherProjects: [String]) -> ReleaseFacts
    /// Its verified publisher (PEP 740), when its files came with attestations.
    var attestation: AttestedRelease? { get }
}

extension SyncedRelease {
    var key: ReleaseKey { ReleaseKey(project.normalized, "\(version)") }
    /// CRAN publishes no attestations.
    var attestation: AttestedRelease? { nil }
    /// Every e-mail naming the project: this release's metadata and the upstream's project record.
    var projectEmails: Set<String> { metadataEmails.union(people.map(PolicyEngine.emails) ?? []) }
}

/// The end of every sync, the same for each ecosystem: maintainer signals and dependents computed
/// over all resolved releases, each release decided, recorded, and one snapshot published through
/// the `SnapshotPublisher` with the sync's releases as candidates.
struct SyncPipeline {
    let ecosystem: Ecosystem
    let catalog: any ReleaseCatalog & SnapshotCatalog
    /// Where earlier releases' metadata is read from (a previous release's project URL).
    let store: any BlobStore
    let publisher: SnapshotPublisher
    let evaluator: any ReleaseEvaluator
    let logger: Logger

    /// Resolves the closure, fetches it (`fetch` returns what it stored and what it set aside), and
    /// resolves again without the releases that were set aside, refused once their files were read, or
    /// could not be installed from what the policy passes, so the newest installable version of each
    /// requirement is the one kept.
    func resolveInstallable<A: ResolverAdapter>(
        _ adapter: A, _ top: [Want<A.Requirement>], targets: [String], extras: [String: [String]],
        fetch: ([A.Release]) async throws -> (releases: [A.Release], setAside: [SetAsideRelease])
    ) async throws -> (releases: [A.Release], setAside: [SetAsideRelease]) {
        var excluded = Set<ReleaseKey>()
        var setAside = Set<SetAsideRelease>()
        for round in 1... {
            let resolver = ClosureResolver(adapter: adapter, logger: logger, excluded: excluded)
            let resolved = try await resolver.resolve(top)
            let passedBeforeFetch = Set(resolved.filter { adapter.passes($0) }.map(\.key))
            let (releases, failed) = try await fetch(resolved)
            setAside.formUnion(await resolver.setAside.entries + failed)
            let failedKeys = Set(failed.map { ReleaseKey($0.project, $0.version) })
            let passing = Set(releases.filter { adapter.passes($0) }.map(\.key)).subtracting(excluded).subtracting(failedKeys)
            // A release the policy passed on the index but refuses once its files are read (a content
            // signal) counted as passing while resolving: the next round looks past it.
            let refusedOnContent = passedBeforeFetch.subtracting(passing).subtracting(excluded)
            let held = try Self.uninstallable(releases, passing: passing, ecosystem: ecosystem, targets: targets, extras: extras)
            let newly = held.union(failedKeys).union(refusedOnContent).subtracting(excluded)
            if newly.isEmpty || round == 4 { return (releases, setAside.sorted { ($0.project, $0.version) < ($1.project, $1.version) }) }
            logger.info("resolving again without releases that cannot be installed", metadata: ["round": "\(round + 1)", "held": "\(newly.count)"])
            excluded.formUnion(newly)
        }
        fatalError("unreachable")
    }

    /// What the sync did, logged as one structured line.
    func report<R: SyncedRelease>(
        _ outcome: (publication: Publication, records: [ReleaseRecord]), _ releases: [R], setAside: [SetAsideRelease], files: Int,
        transfers: TransferCounts,
        index: (requests: Int, notModified: Int) = (0, 0), started: Date
    ) async throws -> SyncReport {
        let publication = outcome.publication
        var report = SyncReport(
            snapshot: publication.snapshot, published: publication.isNew, manifest: publication.manifest, setAside: setAside,
            held: Dictionary(publication.held.map { ("\($0.key)", $0.value.reason) }, uniquingKeysWith: { first, _ in first }),
            projects: Set(releases.map(\.project.normalized)).count, releases: releases.count, files: files, downloaded: await transfers.downloaded,
            reused: await transfers.reused, indexRequests: index.requests, indexNotModified: index.notModified,
            seconds: Date().timeIntervalSince(started))
        report.summarize(outcome.records, served: try await catalog.servedFiles(in: publication.snapshot), popularityKnown: evaluator.knowsPopularity)
        logger.info(
            publication.isNew ? "snapshot published" : "nothing changed",
            metadata: [
                "ecosystem": "\(ecosystem.rawValue)", "snapshot": "\(report.snapshot.id)", "files": "\(files)", "downloaded": "\(report.downloaded)",
                "reused": "\(report.reused)", "held": "\(report.held.count)", "set_aside": "\(setAside.count)",
                "index_not_modified": "\(index.notModified)/\(index.requests)",
            ])
        return report
    }

    /// The releases among `passing` the publish rule would hold back as not installable.
    static func uninstallable<R: SyncedRelease>(
        _ releases: [R], passing: Set<ReleaseKey>, ecosystem: Ecosystem, targets: [String], extras: [String: [String]]
    ) throws -> Set<ReleaseKey> {
        let approve = Decision(verdict: .approve, score: 100, factors: [], policyDigest: "simulation")
        let hold = Decision(verdict: .review, score: 0, factors: [], policyDigest: "simulation")
        let state = PublishState(
            ecosystem: ecosystem, policyDigest: "simulation", targets: targets, extras: extras,
            releases: releases.enumerated().map { i, r in
                PublishState.Release(
                    id: Int64(i), key: r.key, isCandidate: true, decision: passing.contains(r.key) ? approve : hold, files: [Int64(i)],
                    requires: r.requiresDist ?? [],
                    artifacts: r.artifacts)
            }, overrides: [], revoked: [])
        return Set(try PublishRule.plan(state, at: Date()).held.keys)
    }

    func recordAndPublish<R: SyncedRelease>(
        _ releases: [R], targets: [String], extras: [String: [String]] = [:], setAside: [SetAsideRelease] = [], at now: Date
    ) async throws -> (publication: Publication, records: [ReleaseRecord]) {
        let changes = Self.newMaintainerEmails(releases)
        let byEmail = Self.projectsByEmail(releases, recorded: try await catalog.projectEmails(ecosystem))
        var dependents: [String: Int] = [:]
        for r in releases { for d in r.dependsOn where d != r.project.normalized { dependents[d, default: 0] += 1 } }
        let previous = try await previousReleases(releases)
        let publishedBefore = try await publisherBaselines(releases)
        let firstUploads = Dictionary(releases.map { ($0.project.normalized, $0.history.firstUpload) }, uniquingKeysWith: { a, b in a ?? b })
        let records = releases.map { r in
            let others = Set(r.projectEmails.flatMap { byEmail[$0] ?? [] }).subtracting([r.project.normalized]).sorted()
            var facts = r.facts(
                newMaintainerEmails: changes[r.key] ?? [], dependents: dependents[r.project.normalized] ?? 0, maintainersOtherProjects: others)
            facts.attestedBefore = publishedBefore[r.key]
            if let prior = previous[r.key] {
                facts.previousRelease = prior
                facts.newDependencies = r.dependsOn.subtracting(prior.dependencies).subtracting([r.project.normalized]).sorted().map {
                    ($0, firstUploads[$0] ?? nil)
                }
            }
            return ReleaseRecord(
                project: r.project, people: r.people, version: "\(r.version)", requiresDist: r.requiresDist, files: r.files,
                decision: evaluator.evaluate(facts, at: now), facts: DecisionFacts(facts))
        }
        let recorded = try await catalog.record(ecosystem, records, at: now)
        let policy = evaluator.policyFile.map { PolicySource(path: $0.path, text: $0.text) }
        let publication = try await publisher.publish(
            PublishRequest(
                ecosystem: ecosystem, actor: "sync", at: now,
                sync: .init(
                    candidates: recorded.map(\.releaseID), policyDigest: evaluator.policyDigest, policy: policy, targets: targets, extras: extras,
                    setAside: setAside)))
        return (publication, records)
    }

    /// For each project's newest release in the sync (where a takeover shows), the project's newest older
    /// release a sync approved before: its version, the content signals its files raised and the projects
    /// it depended on. Projects are looked up concurrently (a resync asks about every project of the closure).
    func previousReleases<R: SyncedRelease>(_ releases: [R]) async throws -> [ReleaseKey: PreviousRelease] {
        let newest = Dictionary(grouping: releases, by: \.project.normalized).compactMap { $0.value.max { $0.version < $1.version } }
        return try await withThrowingTaskGroup(of: (ReleaseKey, PreviousRelease)?.self) { group in
            var pending = newest[...]
            func startNext() {
                guard let r = pending.popFirst() else { return }
                let (key, project, current) = (r.key, r.project.normalized, "\(r.version)")
                group.addTask { [catalog, ecosystem] in
                    let older = try await catalog.storedReleases(ecosystem, project: project, version: nil)
                        .filter { $0.decision?.verdict == .approve && VersionOrder.older($0.version, current, ecosystem) }
                    guard let prior = older.max(by: { VersionOrder.older($0.version, $1.version, ecosystem) }) else { return nil }
                    var signals = Set<ContentSignal>()
                    for file in prior.files { signals.formUnion(try await catalog.contentScan(ofFile: file.digest)?.findings.map(\.signal) ?? []) }
                    // A wheel's core metadata is stored as its own blob; an unreadable one only means no URL to compare.
                    let metadata = prior.files.lazy.compactMap(\.metadataDigest).first.flatMap { [store] digest in
                        (try? store.read(digest)).flatMap { try? CoreMetadata(bytes: $0, source: digest.hex) }
                    }
                    let emails = [prior.people, metadata?.people].compactMap { $0 }.flatMap(PolicyEngine.emails)
                    return (
                        key,
                        PreviousRelease(
                            version: prior.version, signals: signals, dependencies: Self.dependencyNames(prior.requiresDist, ecosystem),
                            projectURLs: metadata?.projectURLs ?? [:], emails: Set(emails))
                    )
                }
            }
            for _ in 0..<8 { startNext() }
            var out: [ReleaseKey: PreviousRelease] = [:]
            while let found = try await group.next() {
                if let (key, previous) = found { out[key] = previous }
                startNext()
            }
            return out
        }
    }

    /// For each release, the publisher its project's earlier releases established: the newest earlier
    /// attested release a snapshot served, else (a project new to the mirror) the oldest attested
    /// release of this sync older than it. Never a release that was only held or denied: an identity
    /// a reviewer has not let through sets no baseline.
    func publisherBaselines<R: SyncedRelease>(_ releases: [R]) async throws -> [ReleaseKey: AttestedRelease] {
        let served = try await catalog.attestedReleasesServed(ecosystem)
        let inSync = Dictionary(grouping: releases.compactMap { r in r.attestation.map { (r.project.normalized, $0) } }, by: \.0).mapValues {
            $0.map(\.1)
        }
        var out: [ReleaseKey: AttestedRelease] = [:]
        for r in releases {
            let project = r.project.normalized
            let version = "\(r.version)"
            let older = { (a: AttestedRelease) in VersionOrder.older(a.version, version, self.ecosystem) }
            if let newest = (served[project] ?? []).filter(older).max(by: { VersionOrder.older($0.version, $1.version, ecosystem) }) {
                out[r.key] = newest
            } else if let first = (inSync[project] ?? []).filter(older).min(by: { VersionOrder.older($0.version, $1.version, ecosystem) }) {
                out[r.key] = first
            }
        }
        return out
    }

    /// The projects declared dependency lines name (normalized), whatever their markers; lines that do
    /// not parse name nothing (they were checked when recorded).
    static func dependencyNames(_ declared: [String], _ ecosystem: Ecosystem) -> Set<String> {
        switch ecosystem {
        case .pypi: Set(declared.compactMap { try? Requirement(parsing: $0).name.normalized })
        case .cran: Set(declared.flatMap { (try? RDependency.parseField($0, source: "stored dependency field")) ?? [] }.map(\.name))
        }
    }

    /// For each project's newest mirrored release: e-mails its metadata names that no older mirrored
    /// release of the project does (a takeover signal on a mature project).
    static func newMaintainerEmails<R: SyncedRelease>(_ releases: [R]) -> [ReleaseKey: [String]] {
        var out: [ReleaseKey: [String]] = [:]
        for (_, versions) in Dictionary(grouping: releases, by: \.project.normalized) where versions.count > 1 {
            let sorted = versions.sorted { $0.version < $1.version }
            let newest = sorted.last!
            let earlier = sorted.dropLast().reduce(into: Set<String>()) { $0.formUnion($1.metadataEmails) }
            let fresh = newest.metadataEmails.subtracting(earlier)
            if !fresh.isEmpty { out[newest.key] = fresh.sorted() }
        }
        return out
    }

    /// E-mail → projects naming it, over this sync's releases and every project recorded before.
    static func projectsByEmail<R: SyncedRelease>(_ releases: [R], recorded: [(project: String, people: ProjectPeople)]) -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        for (project, people) in recorded { for e in PolicyEngine.emails(people) { out[e, default: []].insert(project) } }
        for r in releases { for e in r.projectEmails { out[e, default: []].insert(r.project.normalized) } }
        return out
    }

    /// Runs `fetch` over every item, `parallel` at once. Failures that condemn one file are returned
    /// by key; any other failure (the upstream unreachable) fails the sync, naming every failed file.
    static func fetchEach<Item: Sendable, Result: Sendable>(
        _ items: [Item], parallel: Int, progress: SyncProgress, logger: Logger, key: @escaping @Sendable (Item) -> String,
        fetch: @escaping @Sendable (Item) async throws -> Result
    ) async throws -> (done: [String: Result], setAside: [String: AirlockError]) {
        var done: [String: Result] = [:]
        var setAside: [String: AirlockError] = [:]
        var failures: [String] = []
        try await withThrowingTaskGroup(of: (String, Swift.Result<Result, AirlockError>).self) { group in
            var pending = items[...]
            func startNext() {
                guard let item = pending.popFirst() else { return }
                group.addTask {
                    do {
                        return (key(item), .success(try await fetch(item)))
                    } catch let e as AirlockError {
                        return (key(item), .failure(e))
                    }
                }
            }
            for _ in 0..<max(parallel, 1) { startNext() }
            while let (url, result) = try await group.next() {
                progress.fileDone()
                switch result {
                case .success(let s): done[url] = s
                case .failure(let e) where e.setsAsideRelease:
                    setAside[url] = e
                    logger.error("file set aside", metadata: ["url": "\(url)", "check": "\(e.code)", "error": "\(e.message)"])
                case .failure(let e):
                    failures.append(e.message)
                    logger.error("file could not be fetched", metadata: ["url": "\(url)", "error": "\(e.message)"])
                }
                startNext()
            }
        }
        if !failures.isEmpty {
            throw AirlockError(
                .network,
                "sync failed; nothing was published. \(failures.count) file(s) could not be mirrored:\n  " + failures.joined(separator: "\n  "))
        }
        return (done, setAside)
    }
}

extension DecisionFacts {
    /// The facts beyond files and people, kept so a decision can be made again.
    init(_ f: ReleaseFacts) {
        self.init(
            firstUpload: f.history.firstUpload, lastUpload: f.history.lastUpload, releaseCount: f.history.releaseCount,
            licenseExpression: f.license?.description, licenseDeclared: f.declaredLicense, selectedBy: f.selectedBy,
            newMaintainerEmails: f.newMaintainerEmails, dependents: f.dependents, maintainersOtherProjects: f.maintainersOtherProjects)
    }
}

extension ReleaseFacts {
    /// A recorded release's facts, to decide it again (`airlock policy check|test`).
    init(_ r: StoredRelease, ecosystem: Ecosystem) {
        self.init(
            ecosystem: ecosystem, project: r.project, version: r.version, files: r.files, people: r.people, selectedBy: r.facts.selectedBy,
            history: ProjectHistory(firstUpload: r.facts.firstUpload, lastUpload: r.facts.lastUpload, releaseCount: r.facts.releaseCount),
            license: r.facts.licenseExpression.flatMap(LicenseExpression.parse), declaredLicense: r.facts.licenseDeclared,
            newMaintainerEmails: r.facts.newMaintainerEmails, dependents: r.facts.dependents,
            maintainersOtherProjects: r.facts.maintainersOtherProjects)
    }
}
