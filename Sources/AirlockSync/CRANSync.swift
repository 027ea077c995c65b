import AirlockCatalog
public import AirlockCore
import AirlockPolicy
import AirlockStore
import AirlockUpstream
public import Foundation
public import Logging

/// What a sync of a CRAN-like repository mirrors.
public struct CRANSyncOptions: Sendable {
    public var upstreamURL: String
    /// Newest versions kept per selected package; dependencies get the newest match per requirer.
    public var versionsPerPackage: Int
    /// Also mirror the `Suggests` of the selected packages.
    public var withSuggests: Bool
    public var maxFileSize: Int64
    public var maxConnections: Int

    public init(upstreamURL: String, versionsPerPackage: Int = 3, withSuggests: Bool = false, maxFileSize: Int64 = 1 << 30, maxConnections: Int = 8) {
        self.upstreamURL = upstreamURL
        self.versionsPerPackage = versionsPerPackage
        self.withSuggests = withSuggests
        self.maxFileSize = maxFileSize
        self.maxConnections = maxConnections
    }
}

/// A version of an R package the sync examined, with what the policy decides it on.
struct CRANRelease: Sendable {
    let tarball: CRANTarball
    let stored: StoredTarball
    let selectedBy: String
    let people: ProjectPeople
    /// Every e-mail the DESCRIPTION names (Maintainer and Authors@R).
    let emails: Set<String>
    let uploadTime: Date?
    let history: ProjectHistory
    /// The packages it needs from the repository (Depends, Imports, LinkingTo; Suggests when asked).
    let dependencies: [RDependency]

    var project: ProjectName { ProjectName(normalized: tarball.package, display: tarball.package) }

    var distribution: Distribution {
        Distribution(
            ecosystem: .cran, project: project, version: tarball.version.description, filename: tarball.filename, kind: .rSource,
            digest: stored.digest, size: stored.size, uploadTime: uploadTime, metadataDigest: stored.packagesRecordDigest)
    }

    var license: LicenseExpression? { stored.description["License"].flatMap { LicenseExpression.declared(rLicense: $0) } }

    func facts(newMaintainerEmails: [String] = [], dependents: Int = 0, maintainersOtherProjects: [String] = []) -> ReleaseFacts {
        ReleaseFacts(
            ecosystem: .cran, project: project, version: tarball.version.description, files: [distribution], people: people, selectedBy: selectedBy,
            history: history, license: license, declaredLicense: stored.description["License"], newMaintainerEmails: newMaintainerEmails,
            dependents: dependents, maintainersOtherProjects: maintainersOtherProjects)
    }
}

/// Mirrors R packages from a CRAN-like repository with their `Depends`/`Imports`/`LinkingTo` closure
/// (packages shipped with R are left out), decides each version with the same policy engine as PyPI,
/// and publishes one CRAN snapshot atomically. A sync that fails publishes nothing.
public struct CRANSync: Sendable {
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

    /// Adds `packages` (`pkg` or `pkg (>= 1.2)`) to the stored selection (or replaces it), then syncs it all.
    public func run(adding packages: [String], replace: Bool, options: CRANSyncOptions, progress: SyncProgress) async throws -> SyncReport {
        let started = Date()
        let lock = try SyncLock(dataDirectory: dataDirectory)
        defer { withExtendedLifetime(lock) {} }
        try store.removeAbandonedStaging()
        let wanted = try packages.flatMap { try RDependency.parseField($0, source: "package argument '\($0)'") }
        if let shipped = wanted.first(where: { RDependency.shippedWithR.contains($0.name) }) {
            throw AirlockError(.invalidArgument, "'\(shipped.name)' ships with R itself; airlock mirrors repository packages only")
        }
        try catalog.updateSelection(.cran, adding: wanted.map(\.description), replace: replace, at: started)
        let selection = try catalog.selection(.cran).flatMap { try RDependency.parseField($0, source: "stored CRAN selection") }
        guard !selection.isEmpty else {
            throw AirlockError(.invalidArgument, "nothing to sync: name R packages (e.g. 'data.table' or 'Rcpp (>= 1.0)'); the stored selection is empty")
        }

        let fetcher = HTTPFetcher(maxConnectionsPerHost: options.maxConnections, logger: logger)
        let upstream = try CRANUpstream(url: options.upstreamURL, fetcher: fetcher)
        let tarballs = CRANFetcher(store: store, fetcher: fetcher, catalog: catalog, progress: progress, maxFileSize: options.maxFileSize)
        progress.phase("resolving and fetching")
        let evaluator = self.evaluator
        let resolver = CRANResolver(upstream: upstream, tarballs: tarballs, withSuggests: options.withSuggests, logger: logger) { release in
            evaluator.evaluate(release.facts(), at: started).verdict == .approve
        }
        let releases = try await resolver.resolve(selection, versionsPerPackage: options.versionsPerPackage)
        progress.finish()

        let now = Date()
        let maintained = releases.map {
            MaintainedRelease(project: $0.tarball.package, version: $0.tarball.version, emails: $0.emails, projectEmails: $0.emails)
        }
        let maintainerChanges = SyncSteps.newMaintainerEmails(maintained)
        let otherProjects = try SyncSteps.projectsByEmail(maintained, recorded: catalog.projectEmails(.cran))
        var dependents: [String: Int] = [:]
        for r in releases { for d in Set(r.dependencies.map(\.name)) where d != r.tarball.package { dependents[d, default: 0] += 1 } }
        let records: [ReleaseRecord] = releases.map { r in
            let others = Set(r.emails.flatMap { otherProjects[$0] ?? [] }).subtracting([r.tarball.package]).sorted()
            let facts = r.facts(
                newMaintainerEmails: maintainerChanges["\(r.tarball.package)==\(r.tarball.version)"] ?? [],
                dependents: dependents[r.tarball.package] ?? 0, maintainersOtherProjects: others)
            return ReleaseRecord(
                project: r.project, people: r.people, version: r.tarball.version.description, requiresDist: r.dependencies.map(\.description),
                files: [(r.distribution, r.tarball.url)], decision: evaluator.evaluate(facts, at: now),
                facts: DecisionFacts(
                    firstUpload: r.history.firstUpload, lastUpload: r.history.lastUpload, releaseCount: r.history.releaseCount,
                    licenseExpression: facts.license?.description, licenseDeclared: facts.declaredLicense, selectedBy: r.selectedBy,
                    newMaintainerEmails: facts.newMaintainerEmails, dependents: facts.dependents, maintainersOtherProjects: others))
        }
        let (snapshot, manifest) = try SyncSteps.publish(.cran, records, catalog: catalog, evaluator: evaluator, dataDirectory: dataDirectory, at: now)
        let report = SyncReport(
            snapshot: snapshot, manifest: manifest, projects: Set(releases.map(\.tarball.package)).count, releases: releases.count,
            files: releases.count, downloaded: await tarballs.downloaded, reused: await tarballs.reused, indexRequests: 0, indexNotModified: 0,
            seconds: Date().timeIntervalSince(started))
        logger.info(
            "snapshot published",
            metadata: ["ecosystem": "cran", "snapshot": "\(snapshot.id)", "files": "\(report.files)", "downloaded": "\(report.downloaded)", "reused": "\(report.reused)"])
        return report
    }
}

/// Follows `Depends`, `Imports` and `LinkingTo` (and `Suggests` of the selection when asked) to the
/// closure, honouring version constraints. Selected packages keep their newest N passing versions;
/// each dependency keeps the newest passing version that meets its requirer's constraint.
struct CRANResolver {
    let upstream: CRANUpstream
    let tarballs: CRANFetcher
    let withSuggests: Bool
    let logger: Logger
    let passes: @Sendable (CRANRelease) -> Bool
    private let index = CRANIndexMemo()

    init(upstream: CRANUpstream, tarballs: CRANFetcher, withSuggests: Bool, logger: Logger, passes: @escaping @Sendable (CRANRelease) -> Bool) {
        self.upstream = upstream
        self.tarballs = tarballs
        self.withSuggests = withSuggests
        self.logger = logger
        self.passes = passes
    }

    struct Want: Sendable {
        let dependency: RDependency
        let origin: String
        let count: Int
        let optional: Bool
        var key: String { "\(dependency)|\(count)" }
    }

    func resolve(_ selection: [RDependency], versionsPerPackage: Int) async throws -> [CRANRelease] {
        var releases: [String: CRANRelease] = [:]
        var order: [String] = []
        var seen = Set<String>()
        var level = selection.map { Want(dependency: $0, origin: "the selection", count: versionsPerPackage, optional: false) }
        while !level.isEmpty {
            level = level.filter { seen.insert($0.key).inserted }
            let results = try await withThrowingTaskGroup(of: [(CRANRelease, [Want])].self) { group in
                for want in level { group.addTask { try await self.select(want) } }
                var all: [[(CRANRelease, [Want])]] = []
                for try await r in group { all.append(r) }
                return all.flatMap { $0 }
            }
            var next: [Want] = []
            for (release, deps) in results {
                if releases[release.tarball.url] == nil {
                    releases[release.tarball.url] = release
                    order.append(release.tarball.url)
                }
                next += deps
            }
            level = next
        }
        return order.map { releases[$0]! }
    }

    private func select(_ want: Want) async throws -> [(CRANRelease, [Want])] {
        let dep = want.dependency
        let candidates = try await index.versions(of: dep.name, upstream)
        guard !candidates.isEmpty else {
            if want.optional {
                logger.warning("suggested package is not in the upstream repository", metadata: ["package": "\(dep.name)", "suggested_by": "\(want.origin)"])
                return []
            }
            throw AirlockError(.resolution, "R package '\(dep.name)' (required by \(want.origin)) is not in the upstream repository \(upstream.contribURL)")
        }
        let matching = candidates.filter { dep.accepts($0.version) }
        guard !matching.isEmpty else {
            let available = candidates.prefix(10).map(\.version.description).joined(separator: ", ")
            throw AirlockError(.resolution, "no version of R package '\(dep.name)' satisfies '\(dep)' (required by \(want.origin)); upstream has: \(available)")
        }
        let history = ProjectHistory(
            firstUpload: candidates.compactMap(\.listedAt).min(), lastUpload: candidates.compactMap(\.listedAt).max(), releaseCount: candidates.count)
        var out: [(CRANRelease, [Want])] = []
        var passing = 0
        for tarball in matching {
            let release = try await self.release(tarball, want: want, history: history)
            let passed = passes(release)
            let deps = release.dependencies.map { Want(dependency: $0, origin: "\(tarball.package) \(tarball.version)", count: 1, optional: false) }
                + suggested(release, want: want)
            out.append((release, passed ? deps : []))
            if passed { passing += 1 }
            if want.count > 0 && (passing >= want.count || out.count >= want.count + DependencyResolver.maxHeldBack) { break }
        }
        if passing == 0 {
            logger.warning("no examined version passes the policy", metadata: ["package": "\(dep)", "required_by": "\(want.origin)", "examined": "\(out.count)"])
        }
        return out
    }

    private func suggested(_ release: CRANRelease, want: Want) -> [Want] {
        guard withSuggests, want.origin == "the selection", let field = release.stored.description["Suggests"],
            let deps = try? RDependency.parseField(field, source: release.tarball.filename)
        else { return [] }
        return deps.filter { !RDependency.shippedWithR.contains($0.name) }.map {
            Want(dependency: $0, origin: "\(release.tarball.package) \(release.tarball.version) (Suggests)", count: 1, optional: true)
        }
    }

    private func release(_ tarball: CRANTarball, want: Want, history: ProjectHistory) async throws -> CRANRelease {
        let stored = try await tarballs.ensure(tarball)
        let d = stored.description
        var dependencies: [RDependency] = []
        for field in ["Depends", "Imports", "LinkingTo"] {
            guard let value = d[field] else { continue }
            dependencies += try RDependency.parseField(value, source: "\(tarball.filename) \(field)").filter { !RDependency.shippedWithR.contains($0.name) }
        }
        let maintainer = d["Maintainer"].map(Self.nameAndEmail)
        let people = ProjectPeople(
            author: d["Author"].map { String($0.split(separator: "\n").first ?? "") }, maintainer: maintainer?.name, maintainerEmail: maintainer?.email)
        var emails = Set(PolicyEngine.emails(people))
        if let authors = d["Authors@R"] {
            for m in authors.matches(of: /email\s*=\s*"([^"]+)"/) { emails.insert(String(m.1).lowercased()) }
        }
        let uploaded = d["Date/Publication"].flatMap(Self.rDate) ?? d["Packaged"].flatMap(Self.rDate) ?? tarball.listedAt
        var known = history
        if let uploaded {
            known.firstUpload = min(known.firstUpload ?? uploaded, uploaded)
            known.lastUpload = max(known.lastUpload ?? uploaded, uploaded)
        }
        return CRANRelease(
            tarball: tarball, stored: stored,
            selectedBy: want.origin == "the selection" ? want.dependency.description : "\(want.dependency) via \(want.origin)",
            people: people, emails: emails, uploadTime: uploaded, history: known, dependencies: dependencies)
    }

    /// `Jane Doe <jane@example.org>` → name and e-mail.
    static func nameAndEmail(_ text: String) -> (name: String, email: String?) {
        guard let open = text.firstIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close else { return (text, nil) }
        return (text[..<open].trimmingWhitespace(), String(text[text.index(after: open)..<close]).trimmingWhitespace())
    }

    /// R's timestamps: `2024-01-15 10:20:03 UTC`, or `Packaged:`'s `2024-01-15 10:20:03 UTC; builder`.
    static func rDate(_ text: String) -> Date? {
        guard let m = text.firstMatch(of: /(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/) else { return nil }
        return Timestamp.parse("\(m.1)T\(m.2)Z")
    }
}

/// The upstream's `PACKAGES` and Archive listings, read once per sync.
actor CRANIndexMemo {
    private var current: Task<[String: [CRANTarball]], any Error>?
    private var versions: [String: Task<[CRANTarball], any Error>] = [:]

    /// Every version upstream has of `package`, current and archived, newest first.
    func versions(of package: String, _ upstream: CRANUpstream) async throws -> [CRANTarball] {
        if let t = versions[package] { return try await t.value }
        let all = current ?? Task { try await upstream.currentPackages() }
        current = all
        let t = Task {
            let now = try await all.value[package] ?? []
            let nowVersions = Set(now.map(\.version))
            let archived = try await upstream.archived(package).filter { !nowVersions.contains($0.version) }
            return (now + archived).sorted { $0.version > $1.version }
        }
        versions[package] = t
        return try await t.value
    }
}
