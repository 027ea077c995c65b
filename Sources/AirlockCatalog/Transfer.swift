public import AirlockCore
public import Foundation

/// One value of a catalog row as it crosses the air gap: SQL's null, integer, real or text.
public enum Cell: Codable, Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let i = try? c.decode(Int64.self) {
            self = .integer(i)
        } else if let d = try? c.decode(Double.self) {
            self = .real(d)
        } else {
            self = .text(try c.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .integer(let i): try c.encode(i)
        case .real(let d): try c.encode(d)
        case .text(let s): try c.encode(s)
        }
    }
}

/// A catalog row by column name. Rows refer to each other by natural keys (`project`, `version`),
/// never by the exporting catalog's row ids.
public typealias TransferRow = [String: Cell]

/// A file a transferred snapshot serves, by natural key.
public struct TransferredFile: Codable, Sendable, Hashable {
    public var project: String
    public var version: String
    public var filename: String
    public var sha256: String
    /// The policy's yank reason in this snapshot, if it served the file yanked.
    public var yankReason: String?

    public init(project: String, version: String, filename: String, sha256: String, yankReason: String?) {
        self.project = project
        self.version = version
        self.filename = filename
        self.sha256 = sha256
        self.yankReason = yankReason
    }
}

/// A snapshot as the connected side published it: its id, date, policy and every file it served.
public struct TransferredSnapshot: Codable, Sendable {
    public var snapshot: Snapshot
    public var files: [TransferredFile]

    public init(snapshot: Snapshot, files: [TransferredFile]) {
        self.snapshot = snapshot
        self.files = files
    }
}

/// The catalog rows an air-gapped replica needs to serve and explain snapshots of one ecosystem:
/// releases with their files and decisions, the policies they were decided under, overrides,
/// revocations, what the last publication held back, and the snapshots themselves.
public struct TransferRows: Codable, Sendable {
    public var ecosystem: Ecosystem
    public var projects: [TransferRow]
    public var releases: [TransferRow]
    public var distributions: [TransferRow]
    public var decisions: [TransferRow]
    public var policies: [TransferRow]
    public var overrides: [TransferRow]
    public var revocations: [TransferRow]
    public var held: [TransferRow]
    /// The connected side's `ecosystem_state` (policy digest, targets, extras).
    public var state: TransferRow?
    /// Releases the last sync resolved, as `[project, version]`: the review queue reads them.
    public var candidates: [[String]]
    /// Oldest first.
    public var snapshots: [TransferredSnapshot]
    /// The verified PEP 740 provenance of the distributions (`file_provenance` rows); absent in
    /// bundles written before provenance was recorded.
    public var provenance: [TransferRow]?
    /// The upstream project pages (tracks, PEP 792 status); absent in older bundles.
    public var upstreamProjects: [TransferRow]?
    /// The R binaries of the releases carried (`r_binary` rows); absent in older bundles.
    public var binaries: [TransferRow]?

    public init(
        ecosystem: Ecosystem, projects: [TransferRow] = [], releases: [TransferRow] = [], distributions: [TransferRow] = [],
        decisions: [TransferRow] = [],
        policies: [TransferRow] = [], overrides: [TransferRow] = [], revocations: [TransferRow] = [], held: [TransferRow] = [],
        state: TransferRow? = nil,
        candidates: [[String]] = [], snapshots: [TransferredSnapshot] = []
    ) {
        self.ecosystem = ecosystem
        self.projects = projects
        self.releases = releases
        self.distributions = distributions
        self.decisions = decisions
        self.policies = policies
        self.overrides = overrides
        self.revocations = revocations
        self.held = held
        self.state = state
        self.candidates = candidates
        self.snapshots = snapshots
    }
}

extension TransferRows {
    /// The blobs that travel with each distribution besides its own, by the distribution's digest: its
    /// core metadata (PEP 658) and its provenance document (PEP 740).
    public var companionDigests: [String: [String]] {
        var out: [String: [String]] = [:]
        for d in distributions {
            if case .text(let sha) = d["sha256"], case .text(let meta) = d["metadata_sha256"] { out[sha, default: []].append(meta) }
        }
        for p in provenance ?? [] {
            if case .text(let sha) = p["sha256"], case .text(let document) = p["document"] { out[sha, default: []].append(document) }
        }
        // An R binary travels with its source release's tarball, with the PACKAGES record served for it.
        var sourceOf: [String: String] = [:]
        for d in distributions {
            if case .text(let project) = d["project"], case .text(let version) = d["version"], case .text(let sha) = d["sha256"] {
                sourceOf["\(project) \(version)"] = sha
            }
        }
        for b in binaries ?? [] {
            guard case .text(let package) = b["package"], case .text(let version) = b["version"], let source = sourceOf["\(package) \(version)"],
                case .text(let sha) = b["sha256"], case .text(let record) = b["record_sha256"]
            else { continue }
            out[source, default: []] += [sha, record]
            if case .text(let log) = b["build_log_sha256"] { out[source, default: []].append(log) }
        }
        return out
    }
}

/// A bundle as recorded on either side: which way it went, its sequence number, kind, digest and signer.
public struct BundleRecord: Codable, Sendable, Hashable {
    public enum Direction: String, Codable, Sendable { case export, `import` }
    public var direction: Direction
    public var sequence: Int64
    /// `snapshot` or `revocations`.
    public var kind: String
    /// SHA-256 of the signed bundle manifest.
    public var sha256: String
    public var signer: String
    /// The snapshots it carried, if any.
    public var snapshots: [Int64]
    public var at: Date

    public init(direction: Direction, sequence: Int64, kind: String, sha256: String, signer: String, snapshots: [Int64], at: Date) {
        self.direction = direction
        self.sequence = sequence
        self.kind = kind
        self.sha256 = sha256
        self.signer = signer
        self.snapshots = snapshots
        self.at = at
    }
}

/// What makes a data directory a replica: it was created by importing bundles from a connected side.
public struct ReplicaOrigin: Codable, Sendable, Hashable {
    /// The connected side, as its bundles name it.
    public var origin: String
    public var since: Date
}

/// The catalog's side of moving snapshots across an air gap. Publishing an imported snapshot is
/// `PublishCatalog.publish` with `PublishRequest.imported`: there is no second publish path.
public protocol TransferCatalog: Sendable {
    /// The rows a replica needs for these snapshots of one ecosystem (files of revoked releases left out).
    func transferRows(_ ecosystem: Ecosystem, snapshots: [Int64]) async throws -> TransferRows
    /// Every revocation, of every ecosystem, as rows.
    func revocationRows() async throws -> [TransferRow]
    /// Bundles sent or received, newest first.
    func bundles(_ direction: BundleRecord.Direction) async throws -> [BundleRecord]
    /// Records an export after its bundle was written, with its audit event.
    func recordExport(_ record: BundleRecord, actor: String) async throws
    /// Adds revocations received in a bundle, with the import's record and audit event, in one transaction.
    func importRevocations(_ rows: [TransferRow], record: BundleRecord, origin: String, actor: String) async throws -> Int
    /// The digest of the connected side's manifest of a snapshot this replica imported.
    func importedManifestDigest(snapshot: Int64) async throws -> String?
}
