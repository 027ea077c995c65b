import AirlockCatalog
import AirlockCore
import AirlockPolicy
import AirlockStore
import AirlockUpstream
import Logging
import Synchronization

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
    /// `Summary` of its core metadata ("" when it gives none).
    var summary = ""
    /// Where its core metadata says the project lives, by kind (source, home).
    var projectURLs: [String: String] = [:]
    /// The project's status as the upstream marks it (PEP 792).
    var projectStatus = ProjectStatus.active
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
        var facts = ReleaseFacts(
            ecosystem: .pypi, project: project, version: version.description, files: stored.isEmpty ? plannedFiles : files.map(\.distribution),
            people: people, selectedBy: selectedBy, history: history, license: license, declaredLicense: declaredLicense,
            newMaintainerEmails: newMaintainerEmails, dependents: dependents, maintainersOtherProjects: maintainersOtherProjects)
        facts.contentFindings = upstreamFiles.flatMap { stored[$0.url]?.findings ?? [] } + dependencyMismatch()
        facts.summary = summary
        facts.projectURLs = projectURLs
        facts.metadataEmails = metadataEmails
        facts.attestation = attestation
        facts.projectStatus = projectStatus
        return facts
    }

    var attestation: AttestedRelease? {
        upstreamFiles.lazy.compactMap { self.stored[$0.url]?.provenance }.first.map {
            AttestedRelease(version: version.description, publisher: $0.publisher, signedAt: $0.signedAt)
        }
    }

    /// PEP 643: an sdist whose core metadata (2.2 or later) does not mark `Requires-Dist` as `Dynamic`
    /// declares the same dependencies as every wheel of the release. A wheel that disagrees is named.
    func dependencyMismatch() -> [ContentFinding] {
        // Most releases mirror wheels only: nothing is parsed unless both kinds are stored.
        func metadata(_ f: UpstreamFile) -> CoreMetadata? { stored[f.url]?.metadata.flatMap { try? CoreMetadata(bytes: $0, source: f.filename) } }
        let wheels = upstreamFiles.filter { $0.filename.hasSuffix(".whl") }
        guard !wheels.isEmpty, let sdistFile = upstreamFiles.first(where: { !$0.filename.hasSuffix(".whl") }), let sdist = metadata(sdistFile),
            let version = sdist.value("Metadata-Version").flatMap(PythonVersion.init), version >= PythonVersion("2.2")!,
            !sdist.values("Dynamic").contains(where: { $0.trimmingWhitespace().lowercased() == "requires-dist" })
        else { return [] }
        func canonical(_ line: String) -> String { (try? Requirement(parsing: line)).map { "\($0)" } ?? line.trimmingWhitespace() }
        let declared = Set(sdist.values("Requires-Dist").map(canonical))
        for wheel in wheels.compactMap({ f in metadata(f).map { (filename: f.filename, metadata: $0) } }) {
            let theirs = Set(wheel.metadata.values("Requires-Dist").map(canonical))
            guard theirs != declared else { continue }
            let added = theirs.subtracting(declared).sorted()
            let dropped = declared.subtracting(theirs).sorted()
            let change = (added.map { "+\($0)" } + dropped.map { "-\($0)" }).joined(separator: ", ")
            return [
                ContentFinding(
                    signal: .dependencyMismatch, file: wheel.filename, member: "METADATA", line: nil, excerpt: change,
                    detail: "its Requires-Dist differs from the static one (metadata \(version)) of \(sdistFile.filename)")
            ]
        }
        return []
    }
}

/// PyPI's side of the closure resolver: versions from the simple index, files chosen for the target
/// environments, requirements from core metadata with markers evaluated per target and requested extra.
/// Wheels no target can install are left out, and an sdist is kept when some target has no wheel.
struct PyPIResolver: ResolverAdapter {
    let upstream: any PyPIIndexReader
    let files: PyPIFileFetcher
    let environments: [TargetEnvironment]
    /// `environments` as stored (`3.12|manylinux_2_28_x86_64`).
    private let storedTargets: [String]
    let logger: Logger
    /// Whether the policy would serve a release, judged on what the index says.
    let passesPolicy: @Sendable (ResolvedRelease) -> Bool
    private let indexes = TaskMemo<IndexedProject?>()
    private let pagesRead = PagesRead()
    private let metadata = TaskMemo<CoreMetadata>()
    /// Each release is read once per sync: every resolution round examines most of the same ones again.
    private let examined = TaskMemo<(ResolvedRelease, [Want<Requirement>])>()
    /// Verdicts by release, judged on the index alone (before download) or with the stored files' content.
    private let verdicts = Memo<String, Bool>()

    init(
        upstream: any PyPIIndexReader, files: PyPIFileFetcher, environments: [TargetEnvironment], logger: Logger,
        passes: @escaping @Sendable (ResolvedRelease) -> Bool = { _ in true }
    ) {
        self.upstream = upstream
        self.files = files
        self.environments = environments
        self.storedTargets = environments.map(DependencyNeeds.stored)
        self.logger = logger
        self.passesPolicy = passes
    }

    struct Candidate: Sendable {
        let version: PythonVersion
        let files: [UpstreamFile]
        /// The targets with a wheel they accept, or an sdist whose `Requires-Python` they meet.
        let targets: Set<String>
        let project: IndexedProject
    }

    /// A version's files some target installs, and those targets (as stored).
    typealias Installable = (files: [UpstreamFile], targets: Set<String>)

    /// A project's index as resolution reads it, worked out once per sync however many requirements and
    /// rounds ask: its versions newest first, its history, and the files of a version that some target
    /// installs — chosen the first time that version is asked about (a project can list thousands of
    /// files, and most of its versions no requirement reaches).
    final class IndexedProject: Sendable {
        let index: ProjectIndex
        let versions: [PythonVersion]
        let history: ProjectHistory
        /// Each version's files, as places in `index.files` (not copies: large projects list tens of thousands).
        private let files: [PythonVersion: [Int]]
        private let chosen = Mutex<[PythonVersion: Installable]>([:])
        private let choose: @Sendable ([UpstreamFile]) -> Installable

        init(index: ProjectIndex, files: [PythonVersion: [Int]], choose: @escaping @Sendable ([UpstreamFile]) -> Installable) {
            self.index = index
            self.files = files
            self.choose = choose
            self.versions = files.keys.sorted(by: >)
            let times = index.files.compactMap(\.uploadTime)
            self.history = ProjectHistory(firstUpload: times.min(), lastUpload: times.max(), releaseCount: files.count)
        }

        /// The files of `version` that some target installs, and those targets.
        func installable(_ version: PythonVersion) -> Installable {
            if let known = chosen.withLock({ $0[version] }) { return known }
            let picked = choose((files[version] ?? []).map { index.files[$0] })
            chosen.withLock { $0[version] = picked }
            return picked
        }
    }

    func key(_ want: Want<Requirement>) -> String {
        let r = want.requirement
        return "\(r.name.normalized)|\(r.specifier)|\(r.extras.sorted())|\(want.count)"
    }

    func project(_ want: Want<Requirement>) -> String { want.requirement.name.normalized }

    var allTargets: Set<String> { Set(storedTargets) }

    func targets(of c: Candidate) -> Set<String> { c.targets }

    func describe(_ c: Candidate, _ want: Want<Requirement>) -> (version: String, filename: String?) {
        (c.version.description, c.files.first { $0.hasCoreMetadata }?.filename ?? c.files.first?.filename)
    }

    /// Whether the policy passes the release, asked once per release and sync for what is known of it:
    /// the index's facts while resolving, those and the stored files' content once fetched.
    func passes(_ release: ResolvedRelease) -> Bool {
        verdicts.value("\(release.key)|\(release.stored.isEmpty ? "index" : "stored")") { passesPolicy(release) }
    }

    /// The matching versions newest first, each one's files chosen only when the resolver reaches it
    /// (with `--versions 1` that is the newest one or two of a project listing hundreds).
    func candidates(_ want: Want<Requirement>) async throws -> LazyFilterSequence<LazyMapSequence<[PythonVersion], Candidate>> {
        let req = want.requirement
        guard let indexed = try await indexes.value(req.name.normalized, read(req.name)) else {
            throw AirlockError(
                .resolution, "project '\(req.name.display)' (required by \(want.origin)) does not exist on the upstream \(upstream.simpleRoot)")
        }
        if let status = indexed.index.upstream?.status, status.isQuarantined {
            throw AirlockError(
                .quarantined,
                "project '\(req.name.display)' (required by \(want.origin)) is quarantined on the upstream\(status.reason.map { ": \($0)" } ?? ""); none of its files are mirrored"
            )
        }
        let ordered = indexed.versions
        var matching = ordered.filter { req.specifier.contains($0) }
        if matching.isEmpty { matching = ordered.filter { req.specifier.contains($0, prereleases: true) } }
        let exactPin = req.specifier.clauses.contains { $0.op == .equal && !$0.wildcard } || req.specifier.clauses.contains { $0.op == .arbitrary }
        let candidates = matching.lazy
            .map { v in
                let (files, targets) = indexed.installable(v)
                return Candidate(version: v, files: files, targets: targets, project: indexed)
            }
            .filter { c in !c.files.isEmpty && (exactPin || c.files.contains { $0.yanked == nil }) }
        guard candidates.first(where: { _ in true }) != nil else {
            let available = ordered.prefix(10).map(\.description).joined(separator: ", ")
            let targets = environments.map(\.description).joined(separator: ", ")
            throw AirlockError(
                .resolution,
                "no version of '\(req.name.display)' matching '\(req.specifier.isEmpty ? "any" : req.specifier.description)' installs on \(targets) (required by \(want.origin)); upstream has: \(available.isEmpty ? "no installable files" : available)"
            )
        }
        return candidates
    }

    func examine(_ c: Candidate, _ want: Want<Requirement>) async throws -> (ResolvedRelease, [Want<Requirement>]) {
        let key = "\(want.requirement.name.normalized)==\(c.version)|\(want.requirement.extras.sorted())|\(want.selectedBy)"
        return try await examined.value(key) { try await readRelease(c, want) }
    }

    private func readRelease(_ c: Candidate, _ want: Want<Requirement>) async throws -> (ResolvedRelease, [Want<Requirement>]) {
        let name = want.requirement.name
        let label = "\(name.display)==\(c.version)"
        let metadata = try await coreMetadata(of: c.files, project: name)
        let requirements = try metadata.requirements(source: label)
        if requirements.isEmpty && !c.files.contains(where: { $0.filename.hasSuffix(".whl") })
            && (metadata.value("Metadata-Version") ?? "1.0") < "2.2"
        {
            logger.warning(
                "sdist-only release declares no dependencies in its metadata; if it has any, they are not mirrored", metadata: ["release": "\(label)"]
            )
        }
        let deps = requirements.filter { DependencyNeeds.applies($0, on: environments, extras: want.requirement.extras) }
        let release = ResolvedRelease(
            project: ProjectName(normalized: name.normalized, display: metadata.name.isEmpty ? name.display : metadata.name),
            version: c.version, upstreamFiles: c.files, selectedBy: want.selectedBy, requiresDist: metadata.values("Requires-Dist"),
            people: c.project.index.people ?? metadata.people, history: c.project.history,
            license: LicenseExpression.declared(
                expression: metadata.value("License-Expression"), license: metadata.value("License"), classifiers: metadata.values("Classifier")),
            declaredLicense: metadata.value("License-Expression") ?? metadata.value("License"),
            metadataEmails: Set(PolicyEngine.emails(metadata.people)), dependsOn: Set(deps.map(\.name.normalized)),
            metadataRequiresPython: metadata.requiresPython, summary: metadata.value("Summary") ?? "", projectURLs: metadata.projectURLs,
            projectStatus: c.project.index.upstream?.status ?? .active)
        return (release, deps.map { Want(requirement: $0, origin: .dependency(of: label), count: 1) })
    }

    /// Core metadata of a release: the upstream's PEP 658 file when offered, else read from a wheel
    /// (or the sdist) itself, which the fetch phase then reuses. Read and parsed once per sync.
    private func coreMetadata(of files: [UpstreamFile], project: ProjectName) async throws -> CoreMetadata {
        let wheels = files.filter { $0.filename.hasSuffix(".whl") }
        if let wheel = wheels.first(where: \.hasCoreMetadata) {
            return try await metadata.value(wheel.url) { [upstream, store = self.files.download.store] in
                // A declared digest already in the store (kept by an earlier sync) needs no request.
                if let digest = wheel.coreMetadataSHA256, store.contains(digest), let kept = try? store.read(digest), Digest.of(kept) == digest {
                    return try CoreMetadata(bytes: kept, source: wheel.filename + ".metadata")
                }
                let fetched = try await upstream.coreMetadata(for: wheel)
                if wheel.coreMetadataSHA256 != nil { try store.put(fetched) }
                return try CoreMetadata(bytes: fetched, source: wheel.filename + ".metadata")
            }
        }
        let file = wheels.first ?? files[0]
        return try await metadata.value(file.url) { [fetcher = self.files] in
            try CoreMetadata(bytes: try await fetcher.ensure(file, project: project).metadata ?? [], source: file.filename)
        }
    }

    /// Starts reading the pages of projects an earlier sync resolved, all at once, so that resolution,
    /// which discovers projects level by level, finds them read or under way. A project no longer
    /// needed costs one request.
    func prefetch(_ projects: [String]) async {
        for project in projects {
            await indexes.start(project, read(ProjectName(project)))
        }
    }

    private func read(_ project: ProjectName) -> @Sendable () async throws -> IndexedProject? {
        { [upstream, self] in
            let index = try await upstream.project(project)
            if let found = index?.upstream { self.pagesRead.pages.withLock { $0[found.name] = found } }
            return index.map { self.indexed($0, project: project) }
        }
    }

    /// The project pages this sync read: where each is and the status it marks (recorded for serving).
    var upstreamProjects: [UpstreamProject] { pagesRead.pages.withLock { $0.values.sorted { $0.name < $1.name } } }

    /// The project pages read so far, by name.
    final class PagesRead: Sendable {
        let pages = Mutex<[String: UpstreamProject]>([:])
    }

    /// Groups a project's files by version: a wheel's version is its name's second part (each distinct
    /// spelling parsed once), an sdist's name is parsed whole; tags are read only for versions asked about.
    private func indexed(_ index: ProjectIndex, project: ProjectName) -> IndexedProject {
        var byVersion: [PythonVersion: [Int]] = [:]
        var versions: [Substring: PythonVersion?] = [:]
        var names: [Substring: Bool] = [:]
        for (place, file) in index.files.enumerated() {
            let version: PythonVersion?
            if file.filename.hasSuffix(".whl") {
                let parts = file.filename.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3 else { continue }
                let ours =
                    names[parts[0]]
                    ?? {
                        let v = ProjectName.normalize(String(parts[0])) == project.normalized
                        names[parts[0]] = v
                        return v
                    }()
                guard ours else { continue }
                version =
                    versions[parts[1]]
                    ?? {
                        let v = PythonVersion(String(parts[1]))
                        versions[parts[1]] = v
                        return v
                    }()
            } else {
                guard let parsed = DistributionFilename(file.filename, project: project), parsed.project == project else { continue }
                version = parsed.version
            }
            if let version { byVersion[version, default: []].append(place) }
        }
        return IndexedProject(index: index, files: byVersion) { [self] in chooseFiles($0) }
    }

    /// The files of one release that some target environment installs: the wheels some target accepts,
    /// and the sdists when a target has no wheel; and the targets those files install on. Each distinct
    /// `Requires-Python` is read once.
    private func chooseFiles(_ files: [UpstreamFile]) -> Installable {
        var admitted: [String?: [Bool]] = [:]
        func admits(_ requiresPython: String?) -> [Bool] {
            if let known = admitted[requiresPython] { return known }
            let each = environments.map { $0.satisfies(requiresPython: requiresPython) }
            admitted[requiresPython] = each
            return each
        }
        var wheels: [UpstreamFile] = []
        var covered = [Bool](repeating: false, count: environments.count)
        for file in files where file.filename.hasSuffix(".whl") {
            guard let parsed = DistributionFilename(file.filename) else { continue }
            let admits = admits(file.requiresPython)
            var fits = false
            for (i, env) in environments.enumerated() where admits[i] && env.accepts(parsed.tags) {
                covered[i] = true
                fits = true
            }
            if fits { wheels.append(file) }
        }
        var installs = covered
        var sdists: [UpstreamFile] = []
        if covered.contains(false) {
            for file in files where !file.filename.hasSuffix(".whl") {
                let admits = admits(file.requiresPython)
                guard environments.indices.contains(where: { !covered[$0] && admits[$0] }) else { continue }
                sdists.append(file)
                for i in environments.indices where admits[i] { installs[i] = true }
            }
        }
        return (wheels + sdists, Set(environments.indices.filter { installs[$0] }.map { storedTargets[$0] }))
    }
}
