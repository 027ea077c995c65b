public import AirlockCore
import AirlockStore
import Foundation

/// Writes a snapshot's manifest: one JSON document listing every served file with its digest,
/// size, upload time and decision (schema: `snapshots/manifest.schema.json`). Written to a
/// temporary name, fsynced and renamed, so a reader never sees half a manifest.
public struct ManifestWriter: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

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
        let schema = "airlock-snapshot-manifest/1"
        let ecosystem: Ecosystem
        let snapshot: Int64
        let published_at: String
        let policy_digest: String
        let files: [File]
    }

    /// Where a snapshot's manifest is.
    public func path(of snapshot: Snapshot) -> String { "\(directory)/\(snapshot.ecosystem.rawValue)-\(snapshot.id).json" }

    /// Writes `<ecosystem>-<id>.json` and returns its path.
    @discardableResult
    public func write(_ snapshot: Snapshot, files: [Distribution], decisions: [ReleaseKey: Decision]) throws -> String {
        let manifest = Manifest(
            ecosystem: snapshot.ecosystem, snapshot: snapshot.id, published_at: Timestamp.format(snapshot.publishedAt),
            policy_digest: snapshot.policyDigest,
            files: files.map { f in
                let decision = decisions[ReleaseKey(f.project.normalized, f.version)]
                return Manifest.File(
                    project: f.project.normalized, version: f.version, filename: f.filename, sha256: f.digest.hex, size: f.size,
                    upload_time: f.uploadTime.map(Timestamp.format), upload_time_source: f.uploadTime == nil ? nil : f.uploadTimeObserved ? "mirror" : "upstream",
                    requires_python: f.requiresPython, yanked: f.yanked,
                    decision: decision?.verdict ?? .approve, score: decision?.score ?? 0, publisher: f.publisherIdentity,
                    provenance_sha256: f.provenanceDigest?.hex)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(manifest)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = path(of: snapshot)
        try DurableFile.write([UInt8](data), to: path)
        return path
    }
}
