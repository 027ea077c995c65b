import AirlockCatalog
import AirlockCore
import AirlockPolicy
import AirlockUpstream
import Foundation
import Logging

/// A version of an R package the sync examined, with what the policy decides it on.
struct CRANRelease: Sendable {
    let tarball: CRANTarball
    let stored: StoredTarball
    let selectedBy: String
    let people: ProjectPeople?
    /// Every e-mail the DESCRIPTION names (Maintainer and Authors@R).
    let metadataEmails: Set<String>
    let uploadTime: Date?
    let history: ProjectHistory
    /// The packages it needs from the repository (Depends, Imports, LinkingTo; Suggests when asked).
    let dependencies: [RDependency]

    var distribution: Distribution {
        Distribution(
            ecosystem: .cran, project: project, version: tarball.version.description, filename: tarball.filename, kind: .rSource,
            digest: stored.digest, size: stored.size, uploadTime: uploadTime, metadataDigest: stored.packagesRecordDigest)
    }

    var license: LicenseExpression? { stored.description["License"].flatMap { LicenseExpression.declared(rLicense: $0) } }
}

extension CRANRelease: SyncedRelease {
    /// Source packages: every target builds them.
    var artifacts: [PublishState.Artifact] { [] }

    var project: ProjectName { ProjectName(normalized: tarball.package, display: tarball.package) }
    var version: RVersion { tarball.version }
    var dependsOn: Set<String> { Set(dependencies.map(\.name)) }
    var requiresDist: [String]? { dependencies.map(\.description) }
    var files: [(distribution: Distribution, upstreamURL: String)] { [(distribution, tarball.url)] }

    func facts(newMaintainerEmails: [String] = [], dependents: Int = 0, maintainersOtherProjects: [String] = []) -> ReleaseFacts {
        var facts = ReleaseFacts(
            ecosystem: .cran, project: project, version: tarball.version.description, files: [distribution], people: people, selectedBy: selectedBy,
            history: history, license: license, declaredLicense: stored.description["License"], newMaintainerEmails: newMaintainerEmails,
            dependents: dependents, maintainersOtherProjects: maintainersOtherProjects)
        facts.contentFindings = stored.findings
        facts.summary = stored.description["Title"] ?? ""
        return facts
    }
}

/// CRAN's side of the closure resolver: versions from `PACKAGES` and the Archive listings, each
/// tarball fetched and its `DESCRIPTION` read for `Depends`, `Imports` and `LinkingTo` (and the
/// `Suggests` of the selection when asked); packages shipped with R are left out.
struct CRANResolver: ResolverAdapter {
    let upstream: any CRANIndexReader
    let tarballs: CRANFetcher
    let withSuggests: Bool
    let logger: Logger
    let passesPolicy: @Sendable (CRANRelease) -> Bool
    private let current = TaskMemo<[String: [CRANTarball]]>()
    private let versions = TaskMemo<[CRANTarball]>()

    init(upstream: any CRANIndexReader, tarballs: CRANFetcher, withSuggests: Bool, logger: Logger, passes: @escaping @Sendable (CRANRelease) -> Bool)
    {
        self.upstream = upstream
        self.tarballs = tarballs
        self.withSuggests = withSuggests
        self.logger = logger
        self.passesPolicy = passes
    }

    struct Candidate: Sendable {
        let tarball: CRANTarball
        let history: ProjectHistory
    }

    func key(_ want: Want<RDependency>) -> String { "\(want.requirement)|\(want.count)" }

    func project(_ want: Want<RDependency>) -> String { want.requirement.name }

    /// R source packages build on every target.
    var allTargets: Set<String> { [] }

    func targets(of c: Candidate) -> Set<String> { [] }

    func describe(_ c: Candidate, _ want: Want<RDependency>) -> (version: String, filename: String?) {
        (c.tarball.version.description, c.tarball.filename)
    }

    func passes(_ release: CRANRelease) -> Bool { passesPolicy(release) }

    func candidates(_ want: Want<RDependency>) async throws -> [Candidate] {
        let dep = want.requirement
        let all = try await available(dep.name)
        guard !all.isEmpty else {
            if want.optional {
                logger.warning(
                    "suggested package is not in the upstream repository", metadata: ["package": "\(dep.name)", "suggested_by": "\(want.origin)"])
                return []
            }
            throw AirlockError(
                .resolution, "R package '\(dep.name)' (required by \(want.origin)) is not in the upstream repository \(upstream.contribURL)")
        }
        let matching = all.filter { dep.accepts($0.version) }
        guard !matching.isEmpty else {
            let available = all.prefix(10).map(\.version.description).joined(separator: ", ")
            throw AirlockError(
                .resolution, "no version of R package '\(dep.name)' satisfies '\(dep)' (required by \(want.origin)); upstream has: \(available)")
        }
        let history = ProjectHistory(
            firstUpload: all.compactMap(\.listedAt).min(), lastUpload: all.compactMap(\.listedAt).max(), releaseCount: all.count)
        return matching.map { Candidate(tarball: $0, history: history) }
    }

    /// Every version upstream has of `package`, current and archived, newest first.
    private func available(_ package: String) async throws -> [CRANTarball] {
        try await versions.value(package) { [upstream, current] in
            let now = try await current.value("PACKAGES") { try await upstream.currentPackages() }[package] ?? []
            let nowVersions = Set(now.map(\.version))
            let archived = try await upstream.archived(package).filter { !nowVersions.contains($0.version) }
            return (now + archived).sorted { $0.version > $1.version }
        }
    }

    func examine(_ c: Candidate, _ want: Want<RDependency>) async throws -> (CRANRelease, [Want<RDependency>]) {
        let tarball = c.tarball
        let stored = try await tarballs.ensure(tarball)
        let d = stored.description
        var dependencies: [RDependency] = []
        for field in ["Depends", "Imports", "LinkingTo"] {
            guard let value = d[field] else { continue }
            dependencies += try RDependency.parseField(value, source: "\(tarball.filename) \(field)").filter {
                !RDependency.shippedWithR.contains($0.name)
            }
        }
        let maintainer = d["Maintainer"].map(Self.nameAndEmail)
        let people = ProjectPeople(
            author: d["Author"].map { String($0.split(separator: "\n").first ?? "") }, maintainer: maintainer?.name,
            maintainerEmail: maintainer?.email)
        var emails = Set(PolicyEngine.emails(people))
        if let authors = d["Authors@R"] {
            for m in authors.matches(of: /email\s*=\s*"([^"]+)"/) { emails.insert(String(m.1).lowercased()) }
        }
        let uploaded = d["Date/Publication"].flatMap(Self.rDate) ?? d["Packaged"].flatMap(Self.rDate) ?? tarball.listedAt
        var known = c.history
        if let uploaded {
            known.firstUpload = min(known.firstUpload ?? uploaded, uploaded)
            known.lastUpload = max(known.lastUpload ?? uploaded, uploaded)
        }
        let release = CRANRelease(
            tarball: tarball, stored: stored, selectedBy: want.selectedBy, people: people, metadataEmails: emails, uploadTime: uploaded,
            history: known,
            dependencies: dependencies)
        let origin = RequirementOrigin.dependency(of: "\(tarball.package) \(tarball.version)")
        let deps = dependencies.map { Want(requirement: $0, origin: origin, count: 1) } + (try suggested(release, want: want))
        return (release, deps)
    }

    private func suggested(_ release: CRANRelease, want: Want<RDependency>) throws -> [Want<RDependency>] {
        guard withSuggests, want.origin.isSelection, let field = release.stored.description["Suggests"] else { return [] }
        let deps = try RDependency.parseField(field, source: "\(release.tarball.filename) Suggests")
        let origin = RequirementOrigin.dependency(of: "\(release.tarball.package) \(release.tarball.version) (Suggests)")
        return deps.filter { !RDependency.shippedWithR.contains($0.name) }.map { Want(requirement: $0, origin: origin, count: 1, optional: true) }
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
