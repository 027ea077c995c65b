import AirlockCatalog
import AirlockCore
import AirlockPolicy
import AirlockUpstream
import Logging

/// A PyPI release the sync will mirror, with the files chosen for the target environments.
struct ResolvedRelease: Sendable {
    let project: ProjectName
    let version: PythonVersion
    let upstreamFiles: [UpstreamFile]
    let selectedBy: String
    let requiresDist: [String]?
    let people: ProjectPeople?
    /// When the project released, over every version upstream.
    let history: ProjectHistory
    let license: LicenseExpression?
    let declaredLicense: String?
    /// Author and maintainer e-mails this release's own metadata names.
    let metadataEmails: Set<String>
    /// Projects this release depends on in the target environments.
    let dependsOn: Set<String>
    /// `Requires-Python` of its core metadata: served for files the index gave none (PEP 503 upstreams).
    let metadataRequiresPython: String?
    /// Its files once stored (empty until the fetch phase).
    var stored: [String: StoredFile] = [:]

    /// One of this release's files as the catalog records it, with the digest and size it has.
    func distribution(_ f: UpstreamFile, digest: Digest, size: Int64, metadataDigest: Digest? = nil) -> Distribution {
        Distribution(
            ecosystem: .pypi, project: project, version: version.description, filename: f.filename,
            kind: f.filename.hasSuffix(".whl") ? .wheel : .sdist, digest: digest, size: size,
            uploadTime: f.uploadTime, requiresPython: f.requiresPython ?? metadataRequiresPython, yanked: f.yanked, metadataDigest: metadataDigest)
    }

    /// The files as the index declares them, before download.
    var plannedFiles: [Distribution] { upstreamFiles.map { distribution($0, digest: $0.sha256 ?? Digest.of([]), size: $0.size ?? 0) } }
}

extension ResolvedRelease: SyncedRelease {
    var artifacts: [PublishState.Artifact] {
        upstreamFiles.map { PublishState.Artifact(filename: $0.filename, requiresPython: $0.requiresPython ?? metadataRequiresPython) }
    }

    var files: [(distribution: Distribution, upstreamURL: String)] {
        upstreamFiles.map { f in
            let s = stored[f.url]!
            return (distribution(f, digest: s.digest, size: s.size, metadataDigest: s.metadataDigest), f.url)
        }
    }

    func facts(newMaintainerEmails: [String] = [], dependents: Int = 0, maintainersOtherProjects: [String] = []) -> ReleaseFacts {
        ReleaseFacts(
            ecosystem: .pypi, project: project, version: version.description, files: stored.isEmpty ? plannedFiles : files.map(\.distribution),
            people: people, selectedBy: selectedBy, history: history, license: license, declaredLicense: declaredLicense,
            newMaintainerEmails: newMaintainerEmails, dependents: dependents, maintainersOtherProjects: maintainersOtherProjects)
    }
}

/// PyPI's side of the closure resolver: versions from the simple index, files chosen for the target
/// environments, requirements from core metadata with markers evaluated per target and requested extra.
/// Wheels no target can install are left out, and an sdist is kept when some target has no wheel.
struct PyPIResolver: ResolverAdapter {
    let upstream: any PyPIIndexReader
    let files: PyPIFileFetcher
    let environments: [TargetEnvironment]
    let logger: Logger
    /// Whether the policy would serve a release, judged on what the index says.
    let passesPolicy: @Sendable (ResolvedRelease) -> Bool
    private let indexes = TaskMemo<ProjectIndex?>()
    private let metadataFiles = TaskMemo<[UInt8]>()

    init(
        upstream: any PyPIIndexReader, files: PyPIFileFetcher, environments: [TargetEnvironment], logger: Logger,
        passes: @escaping @Sendable (ResolvedRelease) -> Bool = { _ in true }
    ) {
        self.upstream = upstream
        self.files = files
        self.environments = environments
        self.logger = logger
        self.passesPolicy = passes
    }

    struct Candidate: Sendable {
        let version: PythonVersion
        let files: [UpstreamFile]
        let index: ProjectIndex
    }

    func key(_ want: Want<Requirement>) -> String {
        let r = want.requirement
        return "\(r.name.normalized)|\(r.specifier)|\(r.extras.sorted())|\(want.count)"
    }

    func project(_ want: Want<Requirement>) -> String { want.requirement.name.normalized }

    var allTargets: Set<String> { Set(environments.map(DependencyNeeds.stored)) }

    /// The targets with a wheel they accept, or an sdist whose `Requires-Python` they meet.
    func targets(of c: Candidate) -> Set<String> {
        Set(
            environments.filter { env in
                c.files.contains { env.installs(filename: $0.filename, requiresPython: $0.requiresPython) }
            }.map(DependencyNeeds.stored))
    }

    func describe(_ c: Candidate, _ want: Want<Requirement>) -> (version: String, filename: String?) {
        (c.version.description, c.files.first { $0.hasCoreMetadata }?.filename ?? c.files.first?.filename)
    }

    func passes(_ release: ResolvedRelease) -> Bool { passesPolicy(release) }

    func candidates(_ want: Want<Requirement>) async throws -> [Candidate] {
        let req = want.requirement
        guard let index = try await indexes.value(req.name.normalized, { [upstream] in try await upstream.project(req.name) }) else {
            throw AirlockError(.resolution, "project '\(req.name.display)' (required by \(want.origin)) does not exist on the upstream \(upstream.simpleRoot)")
        }
        var byVersion: [PythonVersion: [UpstreamFile]] = [:]
        for file in index.files {
            guard let parsed = DistributionFilename(file.filename, project: req.name), parsed.project == req.name else { continue }
            byVersion[parsed.version, default: []].append(file)
        }
        let ordered = byVersion.keys.sorted(by: >)
        var matching = ordered.filter { req.specifier.contains($0) }
        if matching.isEmpty { matching = ordered.filter { req.specifier.contains($0, prereleases: true) } }
        let exactPin = req.specifier.clauses.contains { $0.op == .equal && !$0.wildcard } || req.specifier.clauses.contains { $0.op == .arbitrary }
        let candidates: [Candidate] = matching.compactMap { v in
            let files = chooseFiles(byVersion[v, default: []])
            if files.isEmpty || (!exactPin && files.allSatisfy({ $0.yanked != nil })) { return nil }
            return Candidate(version: v, files: files, index: index)
        }
        guard !candidates.isEmpty else {
            let available = ordered.prefix(10).map(\.description).joined(separator: ", ")
            let targets = environments.map(\.description).joined(separator: ", ")
            throw AirlockError(
                .resolution,
                "no version of '\(req.name.display)' matching '\(req.specifier.isEmpty ? "any" : req.specifier.description)' installs on \(targets) (required by \(want.origin)); upstream has: \(available.isEmpty ? "no installable files" : available)")
        }
        return candidates
    }

    func examine(_ c: Candidate, _ want: Want<Requirement>) async throws -> (ResolvedRelease, [Want<Requirement>]) {
        let name = want.requirement.name
        let label = "\(name.display)==\(c.version)"
        let metadata = try await coreMetadata(of: c.files, project: name)
        let requirements = try metadata.requirements(source: label)
        if requirements.isEmpty && !c.files.contains(where: { $0.filename.hasSuffix(".whl") }) && (metadata.value("Metadata-Version") ?? "1.0") < "2.2" {
            logger.warning("sdist-only release declares no dependencies in its metadata; if it has any, they are not mirrored", metadata: ["release": "\(label)"])
        }
        let deps = requirements.filter { DependencyNeeds.applies($0, on: environments, extras: want.requirement.extras) }
        let release = ResolvedRelease(
            project: ProjectName(normalized: name.normalized, display: metadata.name.isEmpty ? name.display : metadata.name),
            version: c.version, upstreamFiles: c.files, selectedBy: want.selectedBy, requiresDist: metadata.values("Requires-Dist"),
            people: c.index.people ?? metadata.people, history: Self.history(of: c.index, project: name),
            license: LicenseExpression.declared(expression: metadata.value("License-Expression"), license: metadata.value("License"), classifiers: metadata.values("Classifier")),
            declaredLicense: metadata.value("License-Expression") ?? metadata.value("License"),
            metadataEmails: Set(PolicyEngine.emails(metadata.people)), dependsOn: Set(deps.map(\.name.normalized)),
            metadataRequiresPython: metadata.requiresPython)
        return (release, deps.map { Want(requirement: $0, origin: .dependency(of: label), count: 1) })
    }

    /// Core metadata of a release: the upstream's PEP 658 file when offered, else read from a wheel
    /// (or the sdist) itself, which the fetch phase then reuses.
    private func coreMetadata(of files: [UpstreamFile], project: ProjectName) async throws -> CoreMetadata {
        let wheels = files.filter { $0.filename.hasSuffix(".whl") }
        let bytes: [UInt8]
        let source: String
        if let wheel = wheels.first(where: \.hasCoreMetadata) {
            bytes = try await metadataFiles.value(wheel.url) { [upstream] in try await upstream.coreMetadata(for: wheel) }
            source = wheel.filename + ".metadata"
        } else {
            let file = wheels.first ?? files[0]
            bytes = try await self.files.ensure(file, project: project).metadata ?? []
            source = file.filename
        }
        return try CoreMetadata(bytes: bytes, source: source)
    }

    /// First and last upload over every version the upstream lists, and how many versions there are.
    static func history(of index: ProjectIndex, project: ProjectName) -> ProjectHistory {
        let times = index.files.compactMap(\.uploadTime)
        let versions = Set(index.files.compactMap { DistributionFilename($0.filename, project: project)?.version })
        return ProjectHistory(firstUpload: times.min(), lastUpload: times.max(), releaseCount: versions.count)
    }

    /// The files of one release that some target environment installs.
    func chooseFiles(_ files: [UpstreamFile]) -> [UpstreamFile] {
        var wheels: [UpstreamFile] = []
        var coveredEnvironments = Set<TargetEnvironment>()
        for file in files where file.filename.hasSuffix(".whl") {
            guard let parsed = DistributionFilename(file.filename) else { continue }
            let fits = environments.filter { $0.accepts(parsed.tags) && $0.satisfies(requiresPython: file.requiresPython) }
            if !fits.isEmpty {
                wheels.append(file)
                coveredEnvironments.formUnion(fits)
            }
        }
        let uncovered = environments.filter { !coveredEnvironments.contains($0) }
        let sdists = uncovered.isEmpty ? [] : files.filter { f in
            !f.filename.hasSuffix(".whl") && DistributionFilename(f.filename) != nil && uncovered.contains { $0.satisfies(requiresPython: f.requiresPython) }
        }
        return wheels + sdists
    }
}
