public import AirlockCore
public import Foundation

/// Who may do what: readers install (when the endpoint requires a token), reviewers decide,
/// admins also manage tokens. Each role includes the ones below it.
public enum Role: String, Codable, Sendable, Comparable, CaseIterable {
    case reader, reviewer, admin

    public static func < (a: Role, b: Role) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// An API token as stored: only the SHA-256 of its secret is kept.
public struct APIToken: Codable, Sendable {
    public let id: Int64
    public let name: String
    public let role: Role
    public let createdAt: Date
    public let expiresAt: Date?
    public let revokedAt: Date?

    /// Usable at `now`: neither revoked nor expired.
    public func isValid(at now: Date) -> Bool { revokedAt == nil && (expiresAt.map { $0 > now } ?? true) }

    /// A new token's secret (`airlock_` and 64 random hex digits), once its name and expiry are checked.
    static func newSecret(name: String, expiresAt: Date?, at: Date) throws -> String {
        if let expiresAt, expiresAt <= at { throw AirlockError(.invalidArgument, "the expiry \(Timestamp.format(expiresAt)) is already past") }
        guard !name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw AirlockError(.invalidArgument, "a token needs a name (who or what uses it), not an empty one")
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "airlock_" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Compares two digests in time that does not depend on where they differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// A reviewer's decision on a project, one version or a version range: it takes the place of the
/// policy's verdict until it expires.
public struct Override: Codable, Sendable {
    public enum Action: String, Codable, Sendable { case approve, deny }

    public let id: Int64
    public let ecosystem: Ecosystem
    public let project: String
    /// Empty for every version.
    public let versions: String
    public let action: Action
    public let reason: String
    public let actor: String
    public let createdAt: Date
    public let expiresAt: Date?
    /// Set when a reviewer withdrew it: it stopped applying then, and stays on record.
    public let withdrawal: Withdrawal?

    /// Who withdrew an override, when and why.
    public struct Withdrawal: Codable, Sendable {
        public let actor: String
        public let at: Date
        public let reason: String
    }

    public init(
        id: Int64, ecosystem: Ecosystem, project: String, versions: String, action: Action, reason: String, actor: String, createdAt: Date,
        expiresAt: Date?, withdrawal: Withdrawal? = nil
    ) {
        self.id = id
        self.ecosystem = ecosystem
        self.project = project
        self.versions = versions
        self.action = action
        self.reason = reason
        self.actor = actor
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.withdrawal = withdrawal
    }

    public func isActive(at now: Date) -> Bool { withdrawal == nil && (expiresAt.map { $0 > now } ?? true) }

    /// The decision as a manifest records it.
    public var decision: Decision {
        Decision(
            verdict: action == .approve ? .approve : .deny, score: action == .approve ? 100 : 0,
            factors: [Decision.Factor(name: "override", signal: "\(action.rawValue) by \(actor) (override \(id)): \(reason)", points: 0)],
            policyDigest: "override")
    }
}

/// A security revocation: the release is gone from every snapshot, past and future.
public struct Revocation: Codable, Sendable {
    public let id: Int64
    public let ecosystem: Ecosystem
    public let project: String
    public let version: String
    public let reason: String
    public let actor: String
    public let createdAt: Date
}

/// One audit event standing for a whole batch of overrides (an approval from a lockfile): the
/// overrides are written without events of their own, and this one lists them.
public struct AuditBatch: Sendable {
    public let action: String
    public let object: String
    public let details: [String: String]

    public init(action: String, object: String, details: [String: String]) {
        self.action = action
        self.object = object
        self.details = details
    }
}

/// Downloads of one file (by content digest) on one UTC day, as the endpoint counted them.
public struct DownloadCount: Codable, Sendable, Hashable {
    public let sha256: Digest
    /// `YYYY-MM-DD`, UTC.
    public let day: String
    public let count: Int

    public init(sha256: Digest, day: String, count: Int) {
        self.sha256 = sha256
        self.day = day
        self.count = count
    }

    /// The UTC day of a moment, as `day` spells it.
    public static func day(of date: Date) -> String { String(Timestamp.format(date).prefix(10)) }
}

/// Requests the endpoint could not serve: demand for review.
public struct Miss: Codable, Sendable {
    public let ecosystem: Ecosystem
    public let project: String
    /// Empty when the request named no version (an index page).
    public let version: String
    public let count: Int
    public let firstSeen: Date
    public let lastSeen: Date
    public let lastClient: String?

    public init(ecosystem: Ecosystem, project: String, version: String, count: Int, firstSeen: Date, lastSeen: Date, lastClient: String?) {
        self.ecosystem = ecosystem
        self.project = project
        self.version = version
        self.count = count
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.lastClient = lastClient
    }

    /// Longest project name and version a miss may name (real ones are far shorter).
    public static let maxNameLength = 128
    public static let maxVersionLength = 64
    /// Distinct misses the catalog keeps; past that, the least recently seen are dropped.
    public static let maxStored = 10_000
    /// Largest count one miss may carry (counts add up and stay below it).
    public static let maxCount = 1_000_000_000_000

    /// What is wrong with this miss as demand, or nil: the name must be one its ecosystem allows
    /// (PEP 508 for PyPI, R's package names for CRAN), the version plausible, the count positive.
    public var problem: String? { Self.problem(ecosystem, project: project, version: version, count: count) }

    /// `problem` of a miss not made yet (the endpoint judges a request before counting it).
    public static func problem(_ ecosystem: Ecosystem, project: String, version: String, count: Int = 1) -> String? {
        guard project.utf8.count <= Self.maxNameLength, version.utf8.count <= Self.maxVersionLength else {
            return "names longer than \(Self.maxNameLength) (project) or \(Self.maxVersionLength) (version) bytes"
        }
        func letter(_ b: UInt8) -> Bool { (65...90).contains(b) || (97...122).contains(b) }
        func digit(_ b: UInt8) -> Bool { (48...57).contains(b) }
        let nameOK: Bool
        switch ecosystem {
        case .pypi: nameOK = ProjectName.isValid(project)
        case .cran:
            // R: letters, digits and '.', starting with a letter, not ending with '.', at least two characters.
            let bytes = Array(project.utf8)
            nameOK =
                bytes.count >= 2 && letter(bytes[0]) && bytes.last != UInt8(ascii: ".")
                && bytes.allSatisfy { letter($0) || digit($0) || $0 == UInt8(ascii: ".") }
        }
        guard nameOK else { return "'\(project.prefix(40))' is not a \(ecosystem.rawValue) project name" }
        let versionOK = version.utf8.allSatisfy { letter($0) || digit($0) || ".-_+!".utf8.contains($0) }
        guard versionOK else { return "'\(version.prefix(40))' is not a version" }
        guard (1...maxCount).contains(count) else { return "its count \(count) is not between 1 and \(Self.maxCount)" }
        return nil
    }
}

/// One entry of the review queue: a release the policy held for review, or a project clients asked for.
public struct QueueEntry: Codable, Sendable {
    public let ecosystem: Ecosystem
    public let project: String
    /// The release in question: the newest held for review, or the newest recorded for a miss.
    public let version: String
    public let verdict: Verdict
    public let score: Double
    /// Requests the endpoint could not serve for this project.
    public let demand: Int
    public let lastRequested: Date?
    /// Why it is queued: "policy" (verdict review), "requested" (install misses) or "set-aside" (the
    /// last sync could not bring it in).
    public let reason: String
    /// For a set-aside release: the check that failed and its error.
    public let detail: String?
    /// Releases held back until this one is served (they depend on it, directly or through others).
    public let unblocks: [String]

    public init(
        ecosystem: Ecosystem, project: String, version: String, verdict: Verdict, score: Double, demand: Int, lastRequested: Date?, reason: String,
        detail: String? = nil, unblocks: [String] = []
    ) {
        self.detail = detail
        self.unblocks = unblocks
        self.ecosystem = ecosystem
        self.project = project
        self.version = version
        self.verdict = verdict
        self.score = score
        self.demand = demand
        self.lastRequested = lastRequested
        self.reason = reason
    }
}

/// One recorded release with its decision, as reviewers see it.
public struct ReleaseReview: Codable, Sendable {
    public let ecosystem: Ecosystem
    public let project: String
    public let version: String
    public let decision: Decision?
    /// Whether the latest snapshot serves it.
    public let served: Bool
    public let revocation: Revocation?
    public let dependencies: [String]
    /// Who published it, from its files' verified PEP 740 provenance; nil when it had none.
    public let provenance: FileProvenance?

    public init(
        ecosystem: Ecosystem, project: String, version: String, decision: Decision?, served: Bool, revocation: Revocation?, dependencies: [String],
        provenance: FileProvenance? = nil
    ) {
        self.provenance = provenance
        self.ecosystem = ecosystem
        self.project = project
        self.version = version
        self.decision = decision
        self.served = served
        self.revocation = revocation
        self.dependencies = dependencies
    }
}

/// An event of the audit log, chained to the one before it by hash.
public struct AuditEvent: Codable, Sendable {
    public let id: Int64
    public let at: String
    public let actor: String
    public let action: String
    public let object: String
    /// JSON object with sorted keys.
    public let details: String
    public let prevHash: String
    public let hash: String

    /// The hash an event must carry: SHA-256 over the previous hash and every field, so editing,
    /// deleting or reordering any event breaks the chain from there on.
    public static func hash(id: Int64, at: String, actor: String, action: String, object: String, details: String, prevHash: String) -> String {
        Digest.of(Array([prevHash, String(id), at, actor, action, object, details].joined(separator: "\n").utf8)).hex
    }

    public static let genesis = String(repeating: "0", count: 64)

    /// Walks a whole log, oldest first: every event must carry the hash of the one before it and its
    /// own recomputed hash, with ids following one another.
    /// Walks the chain; each of `anchors` (heads recorded elsewhere, such as in signed manifests) must
    /// still be in it, with the same hash.
    static func verify(_ events: [AuditEvent], anchors: [AuditHead] = []) -> AuditVerification {
        var problems: [String] = []
        var previous = genesis
        var expectedID: Int64 = 1
        for e in events {
            if e.id != expectedID {
                problems.append("event \(e.id): expected event \(expectedID) here; events \(expectedID)…\(e.id - 1) are missing")
            }
            if e.prevHash != previous {
                problems.append("event \(e.id): does not follow the event before it (previous-hash mismatch): deleted or reordered events")
            }
            let recomputed = hash(id: e.id, at: e.at, actor: e.actor, action: e.action, object: e.object, details: e.details, prevHash: e.prevHash)
            if recomputed != e.hash { problems.append("event \(e.id): its content does not match its hash: edited") }
            previous = e.hash
            expectedID = e.id + 1
        }
        let hashes = Dictionary(events.map { ($0.id, $0.hash) }, uniquingKeysWith: { a, _ in a })
        for anchor in anchors {
            switch hashes[anchor.sequence] {
            case nil:
                problems.append(
                    "event \(anchor.sequence), recorded as the chain's head in a signed manifest, is gone: events \((events.last?.id ?? 0) + 1)…\(anchor.sequence) were dropped from the tail"
                )
            case let hash? where hash != anchor.sha256:
                problems.append(
                    "event \(anchor.sequence) is not the one a signed manifest recorded (hash \(hash.prefix(16))…, recorded \(anchor.sha256.prefix(16))…): the chain was rewritten"
                )
            default: break
            }
        }
        return AuditVerification(events: events.count, problems: problems)
    }
}

/// The newest event of the audit chain at some moment: a signed snapshot manifest records it, so a
/// chain later cut short (events dropped from its tail) no longer reaches it.
public struct AuditHead: Codable, Sendable, Hashable {
    public let sequence: Int64
    public let sha256: String

    public init(sequence: Int64, sha256: String) {
        self.sequence = sequence
        self.sha256 = sha256
    }
}

/// What `audit verify` found.
public struct AuditVerification: Codable, Sendable {
    public let events: Int
    /// Empty when the chain is intact.
    public let problems: [String]
    public var intact: Bool { problems.isEmpty }
}
