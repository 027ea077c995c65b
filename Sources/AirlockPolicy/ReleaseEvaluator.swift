public import AirlockCore
public import Foundation

/// When a project released, across all its versions upstream (not only those mirrored).
public struct ProjectHistory: Sendable, Hashable {
    public var firstUpload: Date?
    public var lastUpload: Date?
    public var releaseCount: Int

    public init(firstUpload: Date?, lastUpload: Date?, releaseCount: Int) {
        self.firstUpload = firstUpload
        self.lastUpload = lastUpload
        self.releaseCount = releaseCount
    }
}

/// A project's previous approved release, as a newer one is compared with it.
public struct PreviousRelease: Sendable {
    public var version: String
    /// The content signals its files raised.
    public var signals: Set<ContentSignal>
    /// The projects it depended on (normalized).
    public var dependencies: Set<String>
    /// Where its metadata said the project lives, by kind (`CoreMetadata.projectURLs`), when read.
    public var projectURLs: [String: String]
    /// The author and maintainer e-mails the project had then (lowercased).
    public var emails: Set<String>

    public init(
        version: String, signals: Set<ContentSignal>, dependencies: Set<String> = [], projectURLs: [String: String] = [:], emails: Set<String> = []
    ) {
        self.version = version
        self.signals = signals
        self.dependencies = dependencies
        self.projectURLs = projectURLs
        self.emails = emails
    }
}

/// A release whose files a verified PEP 740 attestation ties to a publisher.
public struct AttestedRelease: Sendable, Equatable {
    public var version: String
    public var publisher: Publisher
    /// When the transparency log recorded the signature.
    public var signedAt: Date

    public init(version: String, publisher: Publisher, signedAt: Date) {
        self.version = version
        self.publisher = publisher
        self.signedAt = signedAt
    }

    /// `github:org/a (workflow release.yml) on 2026-12-05`, for explanations.
    public var described: String { "\(publisher.summary) on \(Timestamp.format(signedAt).prefix(10))" }
}

/// What the evaluator knows about one release when it decides.
public struct ReleaseFacts: Sendable {
    public var ecosystem: Ecosystem
    public var project: ProjectName
    public var version: String
    public var files: [Distribution]
    public var people: ProjectPeople?
    /// The requirement (or requirement chain) that brought the release into the mirror.
    public var selectedBy: String
    public var history: ProjectHistory
    /// The licence the release declares, if it could be read.
    public var license: LicenseExpression?
    /// The licence text as declared, for explanations.
    public var declaredLicense: String?
    /// Author/maintainer e-mails on this release that no older mirrored release of the project names
    /// (set for a project's newest release only).
    public var newMaintainerEmails: [String]
    /// Mirrored releases of other projects that depend on this project.
    public var dependents: Int
    /// Other projects in the mirror that name one of this release's author/maintainer e-mails.
    public var maintainersOtherProjects: [String]
    /// What the content scan found in the release's files (install- and import-time code).
    public var contentFindings: [ContentFinding] = []
    /// The release's one-line summary (`Summary`, R's `Title`), when its metadata was read.
    public var summary: String?
    /// Where its metadata says the project lives, by kind (`CoreMetadata.projectURLs`).
    public var projectURLs: [String: String] = [:]
    /// The author and maintainer e-mails the release's own metadata names (lowercased).
    public var metadataEmails: Set<String> = []
    /// The project's previous approved release, to weigh what this release adds (a takeover shows up
    /// as change); nil when there is none to compare with.
    public var previousRelease: PreviousRelease?
    /// Dependencies this release has that the previous approved release did not, with the first upload
    /// of each one's project where known (set only when there is a previous release).
    public var newDependencies: [(project: String, firstUpload: Date?)] = []
    /// The project's status as the upstream marks it (PEP 792).
    public var projectStatus = ProjectStatus.active
    /// This release's verified publisher (PEP 740); nil when no file came with a verified attestation.
    public var attestation: AttestedRelease?
    /// The publisher the project's earlier releases established: the newest earlier attested release
    /// served before, else the first attested one of this sync; nil when none was attested.
    public var attestedBefore: AttestedRelease?

    public init(
        ecosystem: Ecosystem, project: ProjectName, version: String, files: [Distribution], people: ProjectPeople?, selectedBy: String,
        history: ProjectHistory = ProjectHistory(firstUpload: nil, lastUpload: nil, releaseCount: 0), license: LicenseExpression? = nil,
        declaredLicense: String? = nil, newMaintainerEmails: [String] = [], dependents: Int = 0, maintainersOtherProjects: [String] = []
    ) {
        self.maintainersOtherProjects = maintainersOtherProjects
        self.newMaintainerEmails = newMaintainerEmails
        self.dependents = dependents
        self.ecosystem = ecosystem
        self.project = project
        self.version = version
        self.files = files
        self.people = people
        self.selectedBy = selectedBy
        self.history = history
        self.license = license
        self.declaredLicense = declaredLicense
    }

    /// When this release first appeared: its earliest file upload.
    public var uploadTime: Date? { files.compactMap(\.uploadTime).min() }
}

/// Decides whether a release may be served. The sync asks it about every release it records;
/// the snapshot serves only releases it approves.
public protocol ReleaseEvaluator: Sendable {
    /// Identifies the rules in force; recorded with every decision and snapshot.
    var policyDigest: String { get }
    /// The policy file the rules were read from, recorded as the active policy; nil when there is none.
    var policyFile: LoadedPolicy? { get }
    /// Whether download counts are known to it (else popularity is not scored).
    var knowsPopularity: Bool { get }
    func evaluate(_ release: ReleaseFacts, at now: Date) -> Decision
}

/// Approves exactly what the sync's selection brought in: the operator's requirement list is the
/// policy. Used when no policy file is given.
public struct SelectionPolicy: ReleaseEvaluator {
    public init() {}

    public var policyDigest: String { "selection-v1" }
    public var policyFile: LoadedPolicy? { nil }
    public var knowsPopularity: Bool { true }  // the selection decides; popularity plays no part

    public func evaluate(_ release: ReleaseFacts, at now: Date) -> Decision {
        Decision(
            verdict: .approve, score: 100,
            factors: [Decision.Factor(name: "selection", signal: "selected by \(release.selectedBy)", points: 100)],
            policyDigest: policyDigest)
    }
}
