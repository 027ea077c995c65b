import AirlockCore
import AirlockPolicy
import AirlockUpstream
import Logging

/// A release the sync will mirror, with the files chosen for the target environments.
struct ResolvedRelease: Sendable {
    let project: ProjectName
    let version: PythonVersion
    let files: [UpstreamFile]
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
}

extension ResolvedRelease {
    /// One of this release's files as the catalog records it, with the digest and size it has.
    func distribution(_ f: UpstreamFile, digest: Digest, size: Int64, metadataDigest: Digest? = nil) -> Distribution {
        Distribution(
            ecosystem: .pypi, project: project, version: version.description, filename: f.filename,
            kind: f.filename.hasSuffix(".whl") ? .wheel : .sdist, digest: digest, size: size,
            uploadTime: f.uploadTime, requiresPython: f.requiresPython, yanked: f.yanked, metadataDigest: metadataDigest)
    }

    /// What the policy decides this release on.
    func facts(files: [Distribution], newMaintainerEmails: [String] = [], dependents: Int = 0, maintainersOtherProjects: [String] = []) -> ReleaseFacts {
        ReleaseFacts(
            ecosystem: .pypi, project: project, version: version.description, files: files, people: people, selectedBy: selectedBy,
            history: history, license: license, declaredLicense: declaredLicense, newMaintainerEmails: newMaintainerEmails, dependents: dependents,
            maintainersOtherProjects: maintainersOtherProjects)
    }
}

/// Follows requirements through `Requires-Dist` to the full closure the target environments need.
///
/// Requested requirements keep their newest N matching versions; each dependency requirement keeps
/// the newest version that matches it (what pip would pick), for every release that requires it.
/// Markers are evaluated per target environment and requested extra; wheels no target can install are
/// left out, and an sdist is kept when some target has no wheel.
struct DependencyResolver {
    let upstream: PyPIUpstream
    let files: DistributionFetcher
    let environments: [TargetEnvironment]
    let logger: Logger
    /// Whether the policy would serve a release; versions it would not are recorded, and older ones
    /// taken in their place, so the index carries the newest version that passes.
    let passes: @Sendable (ResolvedRelease) -> Bool
    private let memo = ResolverMemo()
    /// How many versions past the wanted count may be examined when newer ones do not pass.
    static let maxHeldBack = 5

    init(
        upstream: PyPIUpstream, files: DistributionFetcher, environments: [TargetEnvironment], logger: Logger,
        passes: @escaping @Sendable (ResolvedRelease) -> Bool = { _ in true }
    ) {
        self.upstream = upstream
        self.files = files
        self.environments = environments
        self.logger = logger
        self.passes = passes
    }

    struct Want: Sendable {
        let requirement: Requirement
        let origin: String
        let count: Int
        var key: String { "\(requirement.name.normalized)|\(requirement.specifier)|\(requirement.extras.sorted())|\(count)" }
    }

    func resolve(_ top: [Requirement], versionsPerRequirement: Int) async throws -> [ResolvedRelease] {
        var releases: [String: ResolvedRelease] = [:]
        var order: [String] = []
        var seen = Set<String>()
        var level = top.map { Want(requirement: $0, origin: "the selection", count: versionsPerRequirement) }
        while !level.isEmpty {
            level = level.filter { seen.insert($0.key).inserted }
            let results = try await withThrowingTaskGroup(of: [(ResolvedRelease, [Want])].self) { group in
                for want in level { group.addTask { try await self.select(want) } }
                var all: [[(ResolvedRelease, [Want])]] = []
                for try await r in group { all.append(r) }
                return all.flatMap { $0 }
            }
            var next: [Want] = []
            for (release, deps) in results {
                let key = "\(release.project.normalized)==\(release.version)"
                if releases[key] == nil {
                    releases[key] = release
                    order.append(key)
                }
                next += deps
            }
            level = next
        }
        return order.map { releases[$0]! }
    }

    /// Picks the versions a requirement keeps and the requirements each of them brings in.
    private func select(_ want: Want) async throws -> [(ResolvedRelease, [Want])] {
        let req = want.requirement
        guard let index = try await memo.index(req.name, upstream) else {
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
        let candidates: [(PythonVersion, [UpstreamFile])] = matching.compactMap { v in
            let files = chooseFiles(byVersion[v]!)
            if files.isEmpty || (!exactPin && files.allSatisfy({ $0.yanked != nil })) { return nil }
            return (v, files)
        }
        guard !candidates.isEmpty else {
            let available = ordered.prefix(10).map(\.description).joined(separator: ", ")
            let targets = environments.map(\.description).joined(separator: ", ")
            throw AirlockError(
                .resolution,
                "no version of '\(req.name.display)' matching '\(req.specifier.isEmpty ? "any" : req.specifier.description)' installs on \(targets) (required by \(want.origin)); upstream has: \(available.isEmpty ? "no installable files" : available)")
        }
        // Newest first: every release examined is recorded (and decided), but only those that pass
        // bring in their dependencies and count toward the versions wanted.
        var out: [(ResolvedRelease, [Want])] = []
        var passing = 0
        for (version, files) in candidates {
            let (release, deps) = try await self.release(req.name, version, files, index: index, want: want)
            let passed = passes(release)
            out.append((release, passed ? deps : []))
            if passed { passing += 1 }
            if want.count > 0 && (passing >= want.count || out.count >= want.count + Self.maxHeldBack) { break }
        }
        if passing == 0 {
            logger.warning(
                "no examined version passes the policy", metadata: ["requirement": "\(req)", "required_by": "\(want.origin)", "examined": "\(out.count)"])
        }
        return out
    }

    private func release(_ name: ProjectName, _ version: PythonVersion, _ files: [UpstreamFile], index: ProjectIndex, want: Want) async throws -> (ResolvedRelease, [Want]) {
        let label = "\(name.display)==\(version)"
        let metadata = try await coreMetadata(of: files, project: name)
        let requirements = try metadata.requirements(source: label)
        if requirements.isEmpty && !files.contains(where: { $0.filename.hasSuffix(".whl") }) && (metadata.value("Metadata-Version") ?? "1.0") < "2.2" {
            logger.warning("sdist-only release declares no dependencies in its metadata; if it has any, they are not mirrored", metadata: ["release": "\(label)"])
        }
        let extras = want.requirement.extras.union([""])
        let deps = requirements.filter { dep in
            guard let marker = dep.marker else { return true }
            return environments.contains { env in
                var vars = env.markerEnvironment
                return extras.contains { extra in
                    vars["extra"] = extra
                    return marker.evaluate(vars)
                }
            }
        }
        let release = ResolvedRelease(
            project: ProjectName(normalized: name.normalized, display: metadata.name.isEmpty ? name.display : metadata.name),
            version: version, files: files, selectedBy: want.origin == "the selection" ? want.requirement.description : "\(want.requirement) via \(want.origin)",
            requiresDist: metadata.values("Requires-Dist"), people: index.people ?? metadata.people,
            history: Self.history(of: index, project: name),
            license: LicenseExpression.declared(expression: metadata.value("License-Expression"), license: metadata.value("License"), classifiers: metadata.values("Classifier")),
            declaredLicense: metadata.value("License-Expression") ?? metadata.value("License"),
            metadataEmails: Set(PolicyEngine.emails(metadata.people)), dependsOn: Set(deps.map(\.name.normalized)))
        return (release, deps.map { Want(requirement: $0, origin: label, count: 1) })
    }

    /// Core metadata of a release: the upstream's PEP 658 file when offered, else read from a wheel
    /// (or the sdist) itself, which the fetch phase then reuses.
    private func coreMetadata(of files: [UpstreamFile], project: ProjectName) async throws -> CoreMetadata {
        let wheels = files.filter { $0.filename.hasSuffix(".whl") }
        let bytes: [UInt8]
        let source: String
        if let wheel = wheels.first(where: \.hasCoreMetadata) {
            bytes = try await memo.coreMetadata(wheel, upstream)
            source = wheel.filename + ".metadata"
        } else {
            let file = wheels.first ?? files[0]
            bytes = try await self.files.ensure(file, project: project).metadata ?? []
            source = file.filename
        }
        return try CoreMetadata(parsing: String(decoding: bytes, as: UTF8.self), source: source)
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

/// Index pages and metadata files fetched once per sync, however many requirers ask.
actor ResolverMemo {
    private var indexes: [String: Task<ProjectIndex?, any Error>] = [:]
    private var metadata: [String: Task<[UInt8], any Error>] = [:]

    func index(_ name: ProjectName, _ upstream: PyPIUpstream) async throws -> ProjectIndex? {
        if let t = indexes[name.normalized] { return try await t.value }
        let t = Task { try await upstream.project(name) }
        indexes[name.normalized] = t
        return try await t.value
    }

    func coreMetadata(_ file: UpstreamFile, _ upstream: PyPIUpstream) async throws -> [UInt8] {
        if let t = metadata[file.url] { return try await t.value }
        let t = Task { try await upstream.coreMetadata(for: file) }
        metadata[file.url] = t
        return try await t.value
    }
}
