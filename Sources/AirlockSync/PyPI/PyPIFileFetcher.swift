import AirlockCatalog
import AirlockCore
import AirlockStore
import AirlockUpstream
import Foundation

/// A distribution file in the store, verified and inspected.
struct StoredFile: Sendable {
    let digest: Digest
    let size: Int64
    /// The file's core metadata (`METADATA` of a wheel, `PKG-INFO` of an sdist).
    let metadata: [UInt8]?
    /// Where that metadata is stored as its own blob (wheels only: served as PEP 658 `.metadata`).
    let metadataDigest: Digest?
    /// What the content scan found in it.
    let findings: [ContentFinding]
    /// Its verified PEP 740 provenance, when it was published with one.
    var provenance: FileProvenance? = nil
}

/// Brings PyPI files into the blob store exactly once per sync: a `VerifiedDownload` checked against
/// the index's size and SHA-256, looked inside with libarchive (its install- and import-time code
/// scanned, `ContentScanner`), its metadata naming the project and version its filename claims. A file
/// whose blob is already stored is not fetched again, nor scanned again while its stored scan is current.
struct PyPIFileFetcher: Sendable {
    let download: VerifiedDownload
    let catalog: any ReleaseCatalog
    let inspector: ArchiveInspector
    let provenance: ProvenanceCheck
    /// Fetch files the index gives no SHA-256 for (verified by nothing but their size).
    let allowUnhashed: Bool
    let counts = TransferCounts()
    private let memo = TaskMemo<StoredFile>()

    init(
        download: VerifiedDownload, catalog: any ReleaseCatalog, inspector: ArchiveInspector, provenance: ProvenanceCheck, allowUnhashed: Bool = false
    ) {
        self.download = download
        self.catalog = catalog
        self.inspector = inspector
        self.provenance = provenance
        self.allowUnhashed = allowUnhashed
    }

    /// The stored, verified file; fetched on first request, shared by later ones.
    func ensure(_ file: UpstreamFile, project: ProjectName) async throws -> StoredFile {
        try await memo.value(file.url) { try await bring(file, project: project) }
    }

    private func bring(_ file: UpstreamFile, project: ProjectName) async throws -> StoredFile {
        let store = download.store
        let kind: ArchiveInspector.MetadataMember = file.filename.hasSuffix(".whl") ? .wheelMetadata : .sdistPKGINFO
        guard file.sha256 != nil || allowUnhashed else {
            throw AirlockError(
                .unverifiable,
                "the index links \(file.filename) without a sha256, so its bytes could not be checked; set allow_unhashed for this upstream to accept such files"
            )
        }
        if let declared = file.sha256, let size = store.size(of: declared) {
            await counts.count(downloaded: false)
            let attested = try await provenance.ensure(file, digest: declared)
            if let metadataDigest = try await catalog.metadataDigest(ofFile: declared), let scan = try await catalog.contentScan(ofFile: declared),
                scan.scanner == ContentScanner.version
            {
                return StoredFile(
                    digest: declared, size: size, metadata: try store.read(metadataDigest), metadataDigest: metadataDigest, findings: scan.findings,
                    provenance: attested)
            }
            guard let path = store.localPath(for: declared) else {
                throw AirlockError(.storage, "blob \(declared) for \(file.filename) has no local path to inspect")
            }
            var inspected = try inspect(file, project: project, path: path, digest: declared, size: size, kind: kind)
            inspected.provenance = attested
            return try await keepScan(inspected)
        }
        let stored = try await download.fetch(file.url) { path, result in
            if let expected = file.size, expected != result.size {
                throw AirlockError(
                    .sizeMismatch,
                    "size mismatch for \(file.filename) from \(file.url): the index declares \(expected) bytes, the download has \(result.size)")
            }
            if let expected = file.sha256, expected != result.digest {
                throw AirlockError(
                    .hashMismatch, "sha256 mismatch for \(file.filename) from \(file.url): expected \(expected.hex), got \(result.digest.hex)")
            }
            var inspected = try inspect(file, project: project, path: path, digest: result.digest, size: result.size, kind: kind)
            // Verified before the file is committed: a file whose provenance fails is never stored.
            inspected.provenance = try await provenance.ensure(file, digest: result.digest)
            return inspected
        }
        await counts.count(downloaded: true)
        return try await keepScan(stored)
    }

    /// Records a file's scan, so later syncs reuse it.
    private func keepScan(_ file: StoredFile) async throws -> StoredFile {
        try await catalog.storeContentScan(ofFile: file.digest, scanner: ContentScanner.version, findings: file.findings)
        return file
    }

    /// Inspects the archive and checks its metadata names the project and version its filename claims.
    private func inspect(
        _ file: UpstreamFile, project: ProjectName, path: String, digest: Digest, size: Int64, kind: ArchiveInspector.MetadataMember
    ) throws -> StoredFile {
        let scanner = ContentScanner(kind: kind == .wheelMetadata ? .wheel : .sdist, file: file.filename, project: project.normalized)
        let report = try inspector.inspect(path: path, displayName: file.filename, metadata: kind, scanner: scanner)
        guard let bytes = report.metadata else {
            let member = kind == .wheelMetadata ? "*.dist-info/METADATA" : "PKG-INFO"
            throw AirlockError(
                .malformedMetadata, "\(file.filename) has no \(member); it is not a valid \(kind == .wheelMetadata ? "wheel" : "sdist")")
        }
        let metadata = try CoreMetadata(bytes: bytes, source: "\(file.filename): \(report.metadataMember ?? "")")
        if ProjectName.normalize(metadata.name) != project.normalized {
            throw AirlockError(.malformedMetadata, "\(file.filename): its metadata names project '\(metadata.name)', not '\(project.display)'")
        }
        let declared = DistributionFilename(file.filename, project: project)?.version
        if let declared, PythonVersion(metadata.version) != declared {
            throw AirlockError(.malformedMetadata, "\(file.filename): its metadata says version \(metadata.version), the filename \(declared)")
        }
        let metadataDigest = kind == .wheelMetadata ? try download.store.put(bytes) : nil
        return StoredFile(digest: digest, size: size, metadata: bytes, metadataDigest: metadataDigest, findings: report.findings)
    }
}
