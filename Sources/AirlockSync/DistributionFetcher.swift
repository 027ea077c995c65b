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
}

/// Brings upstream files into the blob store exactly once per sync: download to a staging file
/// while hashing, check size and SHA-256 against the index, look inside with libarchive, then
/// commit. A file whose blob is already stored is not fetched again.
actor DistributionFetcher {
    private let store: any BlobStore
    private let fetcher: HTTPFetcher
    private let catalog: SQLiteCatalog
    private let inspector: ArchiveInspector
    private let progress: SyncProgress
    private let maxFileSize: Int64
    private var tasks: [String: Task<StoredFile, any Error>] = [:]
    private(set) var downloaded = 0
    private(set) var reused = 0

    init(store: any BlobStore, fetcher: HTTPFetcher, catalog: SQLiteCatalog, inspector: ArchiveInspector, progress: SyncProgress, maxFileSize: Int64) {
        self.store = store
        self.fetcher = fetcher
        self.catalog = catalog
        self.inspector = inspector
        self.progress = progress
        self.maxFileSize = maxFileSize
    }

    /// The stored, verified file; fetched on first request, shared by later ones.
    func ensure(_ file: UpstreamFile, project: ProjectName) async throws -> StoredFile {
        let key = file.url
        if let task = tasks[key] { return try await task.value }
        let task = Task { try await self.bring(file, project: project) }
        tasks[key] = task
        return try await task.value
    }

    private func count(downloaded d: Bool) {
        if d { downloaded += 1 } else { reused += 1 }
    }

    private nonisolated func bring(_ file: UpstreamFile, project: ProjectName) async throws -> StoredFile {
        let kind: ArchiveInspector.MetadataMember = file.filename.hasSuffix(".whl") ? .wheelMetadata : .sdistPKGINFO
        if let declared = file.sha256, let size = store.size(of: declared) {
            await count(downloaded: false)
            if let metadataDigest = try catalog.metadataDigest(ofFile: declared) {
                return StoredFile(digest: declared, size: size, metadata: try store.read(metadataDigest), metadataDigest: metadataDigest)
            }
            guard let path = store.localPath(for: declared) else {
                throw AirlockError(.storage, "blob \(declared) for \(file.filename) has no local path to inspect")
            }
            return try await finish(file, project: project, path: path, digest: declared, size: size, kind: kind)
        }
        let staging = try store.makeStagingPath()
        do {
            let result = try await fetcher.download(file.url, to: staging, maxSize: maxFileSize) { [progress] n in progress.addBytes(n) }
            if let expected = file.size, expected != result.size {
                throw AirlockError(.sizeMismatch, "size mismatch for \(file.filename) from \(file.url): the index declares \(expected) bytes, the download has \(result.size)")
            }
            if let expected = file.sha256, expected != result.digest {
                throw AirlockError(.hashMismatch, "sha256 mismatch for \(file.filename) from \(file.url): expected \(expected.hex), got \(result.digest.hex)")
            }
            let stored = try await finish(file, project: project, path: staging, digest: result.digest, size: result.size, kind: kind)
            try store.commit(stagingPath: staging, as: result.digest)
            await count(downloaded: true)
            return stored
        } catch {
            store.discard(stagingPath: staging)
            throw error
        }
    }

    /// Inspects the archive and checks its metadata names the project and version its filename claims.
    private nonisolated func finish(
        _ file: UpstreamFile, project: ProjectName, path: String, digest: Digest, size: Int64, kind: ArchiveInspector.MetadataMember
    ) async throws -> StoredFile {
        let report = try inspector.inspect(path: path, displayName: file.filename, metadata: kind)
        guard let bytes = report.metadata else {
            let member = kind == .wheelMetadata ? "*.dist-info/METADATA" : "PKG-INFO"
            throw AirlockError(.malformedMetadata, "\(file.filename) has no \(member); it is not a valid \(kind == .wheelMetadata ? "wheel" : "sdist")")
        }
        let metadata = try CoreMetadata(parsing: String(decoding: bytes, as: UTF8.self), source: "\(file.filename): \(report.metadataMember ?? "")")
        if ProjectName.normalize(metadata.name) != project.normalized {
            throw AirlockError(.malformedMetadata, "\(file.filename): its metadata names project '\(metadata.name)', not '\(project.display)'")
        }
        let declared = DistributionFilename(file.filename, project: project)?.version
        if let declared, PythonVersion(metadata.version) != declared {
            throw AirlockError(.malformedMetadata, "\(file.filename): its metadata says version \(metadata.version), the filename \(declared)")
        }
        let metadataDigest = kind == .wheelMetadata ? try store.put(bytes) : nil
        return StoredFile(digest: digest, size: size, metadata: bytes, metadataDigest: metadataDigest)
    }
}
