public import AirlockCore
public import Foundation

/// What a publication is asked to do. A sync brings its outcome (the releases it resolved and the
/// policy it decided them under); a review act, an expiry or an import brings none and republishes
/// the stored state.
public struct PublishRequest: Sendable {
    /// The releases a sync resolved, which replace the ecosystem's candidates, and the policy that decided them.
    public struct SyncOutcome: Sendable {
        public var candidates: [Int64]
        public var policyDigest: String
        /// The policy file, when one decided (none: everything selected is approved).
        public var policy: PolicySource?
        /// The target environments the sync resolved for (`python|platform`), for the installability rule.
        public var targets: [String]
        /// Extras the selection asks for, by project (`pandas[performance]`).
        public var extras: [String: [String]]
        /// What the sync could not bring in, shown to reviewers until the next sync.
        public var setAside: [SetAsideRelease]

        public init(
            candidates: [Int64], policyDigest: String, policy: PolicySource?, targets: [String], extras: [String: [String]] = [:],
            setAside: [SetAsideRelease] = []
        ) {
            self.candidates = candidates
            self.policyDigest = policyDigest
            self.policy = policy
            self.targets = targets
            self.extras = extras
            self.setAside = setAside
        }
    }

    /// A verified bundle from the connected side: its rows, and the snapshots to publish with their
    /// original ids and dates (on a replica, the only way snapshots are made).
    public struct ImportedBundle: Sendable {
        public var rows: TransferRows
        public var record: BundleRecord
        /// The connected side, as the bundle names it.
        public var origin: String
        /// The digest of the connected side's manifest of each snapshot, by id.
        public var manifestDigests: [Int64: String]

        public init(rows: TransferRows, record: BundleRecord, origin: String, manifestDigests: [Int64: String]) {
            self.rows = rows
            self.record = record
            self.origin = origin
            self.manifestDigests = manifestDigests
        }
    }

    public var ecosystem: Ecosystem
    public var actor: String
    public var at: Date
    public var sync: SyncOutcome?
    public var imported: ImportedBundle?

    public init(ecosystem: Ecosystem, actor: String, at: Date, sync: SyncOutcome? = nil, imported: ImportedBundle? = nil) {
        self.ecosystem = ecosystem
        self.actor = actor
        self.at = at
        self.sync = sync
        self.imported = imported
    }
}

/// The catalog state the publish rule is applied to, read inside the publishing transaction.
public struct PublishState: Sendable {
    /// A recorded release the rule may serve: a candidate of the last sync, or a release of a project
    /// some override names.
    public struct Release: Sendable {
        public var id: Int64
        public var key: ReleaseKey
        /// Resolved by the last sync (otherwise only an approve override can serve it).
        public var isCandidate: Bool
        /// The decision under the active policy, if the release was decided under it.
        public var decision: Decision?
        public var files: [Int64]
        /// Declared dependencies, in the ecosystem's syntax (`Requires-Dist` lines, or `pkg (>= 1)`).
        public var requires: [String]
        /// Each file's name and `Requires-Python`: which targets can install the release.
        public var artifacts: [Artifact]

        public init(
            id: Int64, key: ReleaseKey, isCandidate: Bool, decision: Decision?, files: [Int64], requires: [String], artifacts: [Artifact] = []
        ) {
            self.id = id
            self.key = key
            self.isCandidate = isCandidate
            self.decision = decision
            self.files = files
            self.requires = requires
            self.artifacts = artifacts
        }
    }

    /// A file of a release as installers choose it: by its name (wheel tags) and `Requires-Python`.
    public struct Artifact: Sendable {
        public var filename: String
        public var requiresPython: String?

        public init(filename: String, requiresPython: String?) {
            self.filename = filename
            self.requiresPython = requiresPython
        }
    }

    /// On a replica: the snapshot the connected side published, file by file, which the rule serves as
    /// it is, minus releases revoked here.
    public struct Imposed: Sendable {
        public struct File: Sendable {
            public var id: Int64
            public var release: ReleaseKey
            public var yankReason: String?
        }
        public var files: [File] = []
        public var decisions: [ReleaseKey: Decision] = [:]
    }

    public var ecosystem: Ecosystem
    public var policyDigest: String
    public var targets: [String]
    /// Extras the selection asks for, by project.
    public var extras: [String: [String]]
    public var releases: [Release]
    public var overrides: [Override]
    public var revoked: Set<ReleaseKey>
    public var imposed: Imposed?

    public init(
        ecosystem: Ecosystem, policyDigest: String, targets: [String], extras: [String: [String]] = [:], releases: [Release], overrides: [Override],
        revoked: Set<ReleaseKey>
    ) {
        self.ecosystem = ecosystem
        self.policyDigest = policyDigest
        self.targets = targets
        self.extras = extras
        self.releases = releases
        self.overrides = overrides
        self.revoked = revoked
    }
}

/// A release (or a whole dependency) a sync could not bring in: which file, which check failed, and
/// the error. It is never stored or served; its dependents are held back until it can be.
public struct SetAsideRelease: Codable, Sendable, Hashable {
    public var project: String
    /// Empty when no version of the dependency could be resolved at all.
    public var version: String
    /// The file that failed, if one did.
    public var filename: String?
    /// The check that failed (`hash-mismatch`, `malformed-metadata`, `resolution`, …).
    public var check: String
    public var error: String
    public var requiredBy: String

    public init(project: String, version: String, filename: String?, check: String, error: String, requiredBy: String) {
        self.project = project
        self.version = version
        self.filename = filename
        self.check = check
        self.error = error
        self.requiredBy = requiredBy
    }
}

/// Why the publish rule held back a release it would otherwise serve.
public struct HeldRelease: Sendable, Hashable, Codable {
    /// "its dependency lazy-importer>=0.1 is held for review (lazy-importer 0.1.0)".
    public var reason: String
    /// The project whose release is missing, when it is a dependency.
    public var blockedBy: String?

    public init(reason: String, blockedBy: String?) {
        self.reason = reason
        self.blockedBy = blockedBy
    }
}

/// What the publish rule decided: the files to serve (some yanked, with the reason), the decision
/// each served release stands on, and the releases held back with why.
public struct PublishPlan: Sendable {
    public var files: Set<Int64>
    public var yanking: [Int64: String]
    public var decisions: [ReleaseKey: Decision]
    public var held: [ReleaseKey: HeldRelease]

    public init(
        files: Set<Int64> = [], yanking: [Int64: String] = [:], decisions: [ReleaseKey: Decision] = [:], held: [ReleaseKey: HeldRelease] = [:]
    ) {
        self.files = files
        self.yanking = yanking
        self.decisions = decisions
        self.held = held
    }
}

/// What a snapshot serves: its files and, for CRAN, the binaries of its releases recorded by its publication.
public struct SnapshotContents: Sendable {
    public var files: [Distribution]
    public var binaries: [RBinary]

    public init(files: [Distribution], binaries: [RBinary]) {
        self.files = files
        self.binaries = binaries
    }
}

/// The ids a recorded release got.
public struct RecordedRelease: Sendable, Hashable {
    public var releaseID: Int64
    public var fileIDs: [Int64]

    public init(releaseID: Int64, fileIDs: [Int64]) {
        self.releaseID = releaseID
        self.fileIDs = fileIDs
    }
}

/// A file an earlier sync recorded from an upstream URL.
public struct RecordedFile: Sendable {
    public var digest: Digest
    public var metadataDigest: Digest?
}

/// A policy file as activated: where it was read from, and its text.
public struct PolicySource: Sendable, Hashable {
    public var path: String
    public var text: String

    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }
}

/// An upstream response kept for conditional requests.
public struct StoredResponse: Sendable {
    public var etag: String?
    public var lastModified: String?
    public var contentType: String?
    public var finalURL: String
    public var body: [UInt8]
    /// PyPI's serial of the project the document describes, when known.
    public var serial: Int?

    public init(etag: String?, lastModified: String?, contentType: String?, finalURL: String, body: [UInt8], serial: Int? = nil) {
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
        self.finalURL = finalURL
        self.body = body
        self.serial = serial
    }
}

/// An advisory as imported: its id, the project it concerns, and the OSV document.
public struct StoredAdvisory: Sendable {
    public var id: String
    public var project: String
    public var document: String

    public init(id: String, project: String, document: String) {
        self.id = id
        self.project = project
        self.document = document
    }
}

/// A reviewer's request for an override, before it is recorded.
public struct OverrideRequest: Sendable {
    public var project: String
    public var versions: VersionRange
    public var action: Override.Action
    public var reason: String
    public var expiresAt: Date?

    public init(project: String, versions: VersionRange, action: Override.Action, reason: String, expiresAt: Date?) {
        self.project = project
        self.versions = versions
        self.action = action
        self.reason = reason
        self.expiresAt = expiresAt
    }

    /// The reason, trimmed, once it is there and the expiry is still ahead.
    func checkedReason(at: Date) throws -> String {
        let why = reason.trimmingWhitespace()
        guard !why.isEmpty else { throw AirlockError(.invalidArgument, "an override needs a reason") }
        if let expiresAt, expiresAt <= at { throw AirlockError(.invalidArgument, "the expiry \(Timestamp.format(expiresAt)) is already past") }
        return why
    }

    /// What its audit event names: `pypi/requests >=2,<3`.
    func auditObject(_ ecosystem: Ecosystem) -> String { "\(ecosystem.rawValue)/\(project)" + (versions.isAll ? "" : " \(versions)") }

    /// A withdrawal's reason, trimmed, once it is there.
    static func withdrawalReason(_ reason: String) throws -> String {
        let why = reason.trimmingWhitespace()
        guard !why.isEmpty else { throw AirlockError(.invalidArgument, "withdrawing an override needs a reason") }
        return why
    }

    /// An override must name at least one of the project's recorded versions.
    func check(against recorded: [String], ecosystem: Ecosystem) throws {
        guard !recorded.contains(where: versions.contains) else { return }
        throw AirlockError(
            .notFound,
            recorded.isEmpty
                ? "\(ecosystem.rawValue) project '\(project)' has never been synced; add it to the selection first (airlock sync \(ecosystem.rawValue) \(project))"
                : "no recorded version of '\(project)' matches '\(versions)'; recorded: \(recorded.joined(separator: ", "))")
    }
}

extension Override {
    /// Only an override still in force can be withdrawn.
    func checkWithdrawable(at now: Date) throws {
        if let w = withdrawal {
            throw AirlockError(.invalidArgument, "override \(id) was already withdrawn by \(w.actor) on \(Timestamp.format(w.at)): \(w.reason)")
        }
        if let expiresAt, expiresAt <= now {
            throw AirlockError(.invalidArgument, "override \(id) expired on \(Timestamp.format(expiresAt)); it no longer applies")
        }
    }
}
