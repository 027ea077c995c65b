public import AirlockCatalog
public import AirlockCore
import AirlockStore
import Foundation

/// Writes a snapshot's manifest: one JSON document listing every served file with its digest,
/// size, upload time and decision, the R binaries served with them (and how each was made), and the
/// audit chain's head at publication (schema:
/// `snapshots/manifest.schema.json`). Written to a temporary name, fsynced and renamed, so a reader
/// never sees half a manifest. With a signing key, each manifest gets a detached Ed25519 signature
/// beside it (`<manifest>.sig`: `KEYID BASE64`), written first.
public struct ManifestWriter: Sendable {
    public let directory: String
    let signer: SigningKey?

    public init(directory: String, signer: SigningKey? = nil) {
        self.directory = directory
        self.signer = signer
    }

    /// Where a data directory's manifest signing key is, by convention: `airlock keys generate --out DATA/keys`.
    public static func signingKeyPath(dataDirectory: String) -> String { dataDirectory + "/keys/airlock.key" }

    /// The data directory's manifest signing key, when there is one (a key others may read is refused).
    public static func signingKey(dataDirectory: String) throws -> SigningKey? {
        let path = signingKeyPath(dataDirectory: dataDirectory)
        return FileManager.default.fileExists(atPath: path) ? try SigningKey(file: path) : nil
    }

    struct Manifest: Encodable {
        struct File: Encodable {
            let project: String
            let version: String
            let filename: String
            let sha256: String
            let size: Int64
            let upload_time: String?
            /// `upstream`, or `mirror` when the upstream gave none and the time is when this mirror first saw the file.
            let upload_time_source: String?
            let requires_python: String?
            let yanked: String?
            let decision: Verdict
            let score: Double
            /// The identity its verified PEP 740 provenance names, and that provenance document's digest.
            let publisher: String?
            let provenance_sha256: String?
        }
        /// An R binary served in place of a source tarball to R of `r_minor` at `/cran/__linux__/{distro}/…`.
        struct Binary: Encodable {
            let package: String
            let version: String
            let distro: String
            let r_minor: String
            /// Empty for a package without compiled code.
            let platform: String
            let filename: String
            let sha256: String
            let size: Int64
            /// The upstream it was mirrored from, or how airlock built it (R, compiler, sandbox, source digest, system requirements).
            let origin: String
            let build_log_sha256: String?
            let recorded_at: String?
        }
        let schema = "airlock-snapshot-manifest/1"
        let ecosystem: Ecosystem
        let snapshot: Int64
        let published_at: String
        let policy_digest: String
        /// The audit chain's newest event when the snapshot was published (its own `snapshot.published`).
        let audit_head: AuditHead
        let files: [File]
        /// Absent for PyPI.
        let binaries: [Binary]?
    }

    /// Where a snapshot's manifest is.
    public func path(of snapshot: Snapshot) -> String { "\(directory)/\(snapshot.ecosystem.rawValue)-\(snapshot.id).json" }

    /// Where its detached signature is.
    public func signaturePath(of snapshot: Snapshot) -> String { path(of: snapshot) + ".sig" }

    /// Writes `<ecosystem>-<id>.json` (and its signature, with a key) and returns its path.
    @discardableResult
    public func write(_ snapshot: Snapshot, contents: SnapshotContents, decisions: [ReleaseKey: Decision], auditHead: AuditHead) throws -> String {
        let files = contents.files
        let manifest = Manifest(
            ecosystem: snapshot.ecosystem, snapshot: snapshot.id, published_at: Timestamp.format(snapshot.publishedAt),
            policy_digest: snapshot.policyDigest, audit_head: auditHead,
            files: files.map { f in
                let decision = decisions[ReleaseKey(f.project.normalized, f.version)]
                return Manifest.File(
                    project: f.project.normalized, version: f.version, filename: f.filename, sha256: f.digest.hex, size: f.size,
                    upload_time: f.uploadTime.map(Timestamp.format),
                    upload_time_source: f.uploadTime == nil ? nil : f.uploadTimeObserved ? "mirror" : "upstream",
                    requires_python: f.requiresPython, yanked: f.yanked,
                    decision: decision?.verdict ?? .approve, score: decision?.score ?? 0, publisher: f.publisherIdentity,
                    provenance_sha256: f.provenanceDigest?.hex)
            },
            binaries: snapshot.ecosystem == .cran
                ? contents.binaries.map { b in
                    Manifest.Binary(
                        package: b.package, version: b.version, distro: b.distro, r_minor: b.rMinor, platform: b.platform, filename: b.filename,
                        sha256: b.digest.hex, size: b.size, origin: b.origin, build_log_sha256: b.buildLog?.hex,
                        recorded_at: b.recordedAt.map(Timestamp.format))
                } : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(manifest)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = path(of: snapshot)
        if let signer {
            try DurableFile.write(Array(try signer.detachedSignature(of: [UInt8](data)).utf8), to: signaturePath(of: snapshot))
        } else {
            try? FileManager.default.removeItem(atPath: signaturePath(of: snapshot))  // never a stale signature beside a new manifest
        }
        try DurableFile.write([UInt8](data), to: path)
        return path
    }
}
