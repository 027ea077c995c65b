import AirlockCatalog
import AirlockCore
import AirlockStore
import AirlockUpstream
import Foundation

/// An R source tarball in the store, verified, with its `DESCRIPTION` and the `PACKAGES` record
/// airlock serves for it (stored as the distribution's metadata blob).
struct StoredTarball: Sendable {
    let digest: Digest
    let size: Int64
    let description: DCFRecord
    let packagesRecord: DCFRecord
    let packagesRecordDigest: Digest
}

/// Brings R tarballs into the blob store once per sync: download to a staging file while hashing,
/// check the MD5 the repository declares, read `DESCRIPTION` with libarchive (refusing hostile
/// archives), check it names the package and version of the filename, then commit.
actor CRANFetcher {
    /// The `PACKAGES` fields R's `tools::write_PACKAGES` writes, in its order.
    static let packagesFields = [
        "Package", "Version", "Priority", "Depends", "Imports", "LinkingTo", "Suggests", "Enhances", "License", "License_is_FOSS",
        "License_restricts_use", "OS_type", "Archs", "MD5sum", "NeedsCompilation",
    ]

    private let store: any BlobStore
    private let fetcher: HTTPFetcher
    private let catalog: SQLiteCatalog
    private let inspector = ArchiveInspector()
    private let progress: SyncProgress
    private let maxFileSize: Int64
    private var tasks: [String: Task<StoredTarball, any Error>] = [:]
    private(set) var downloaded = 0
    private(set) var reused = 0

    init(store: any BlobStore, fetcher: HTTPFetcher, catalog: SQLiteCatalog, progress: SyncProgress, maxFileSize: Int64) {
        self.store = store
        self.fetcher = fetcher
        self.catalog = catalog
        self.progress = progress
        self.maxFileSize = maxFileSize
    }

    /// The stored, verified tarball; fetched on first request, shared by later ones.
    func ensure(_ tarball: CRANTarball) async throws -> StoredTarball {
        if let task = tasks[tarball.url] { return try await task.value }
        let task = Task { try await self.bring(tarball) }
        tasks[tarball.url] = task
        return try await task.value
    }

    private func count(downloaded d: Bool) {
        if d { downloaded += 1 } else { reused += 1 }
    }

    private nonisolated func bring(_ tarball: CRANTarball) async throws -> StoredTarball {
        if let reusable = try reuse(tarball) {
            await count(downloaded: false)
            return reusable
        }
        let staging = try store.makeStagingPath()
        do {
            let result = try await fetcher.download(tarball.url, to: staging, maxSize: maxFileSize) { [progress] n in progress.addBytes(n) }
            let md5 = try CRANUpstream.md5(ofFileAt: staging)
            if let declared = tarball.md5, declared != md5 {
                throw AirlockError(.hashMismatch, "md5 mismatch for \(tarball.filename) from \(tarball.url): PACKAGES declares \(declared), the download has \(md5)")
            }
            let stored = try finish(tarball, path: staging, digest: result.digest, size: result.size, md5: md5)
            try store.commit(stagingPath: staging, as: result.digest)
            await count(downloaded: true)
            return stored
        } catch {
            store.discard(stagingPath: staging)
            throw error
        }
    }

    /// A tarball recorded by an earlier sync from the same URL, still stored, whose MD5 matches what
    /// the repository declares now.
    private nonisolated func reuse(_ tarball: CRANTarball) throws -> StoredTarball? {
        guard let recorded = try catalog.recordedFile(upstreamURL: tarball.url), let recordDigest = recorded.metadataDigest,
            let size = store.size(of: recorded.digest), let path = store.localPath(for: recorded.digest)
        else { return nil }
        let record = try DCF.parse(try store.read(recordDigest), source: tarball.filename + " (stored PACKAGES record)").first ?? DCFRecord()
        guard let md5 = record["MD5sum"], tarball.md5 == nil || tarball.md5 == md5 else { return nil }
        return try finish(tarball, path: path, digest: recorded.digest, size: size, md5: md5)
    }

    private nonisolated func finish(_ tarball: CRANTarball, path: String, digest: Digest, size: Int64, md5: String) throws -> StoredTarball {
        let report = try inspector.inspect(path: path, displayName: tarball.filename, metadata: .rDescription)
        guard let bytes = report.metadata else {
            throw AirlockError(.malformedMetadata, "\(tarball.filename) has no \(tarball.package)/DESCRIPTION; it is not an R source package")
        }
        let source = "\(tarball.filename): \(report.metadataMember ?? "DESCRIPTION")"
        guard let description = try DCF.parse(bytes, source: source).first else {
            throw AirlockError(.malformedMetadata, "\(source) is empty")
        }
        guard description["Package"] == tarball.package else {
            throw AirlockError(.malformedMetadata, "\(source) names package '\(description["Package"] ?? "nothing")', not '\(tarball.package)'")
        }
        guard let version = description["Version"].flatMap(RVersion.init), version == tarball.version else {
            throw AirlockError(.malformedMetadata, "\(source) says version \(description["Version"] ?? "nothing"), the filename \(tarball.version)")
        }
        for field in ["Depends", "Imports", "LinkingTo", "Suggests"] {
            if let value = description[field] { _ = try RDependency.parseField(value, source: "\(source) \(field)") }
        }
        var record = DCFRecord()
        for field in Self.packagesFields {
            if field == "MD5sum" { record.set(field, md5) } else if let value = description[field] { record.set(field, value) }
        }
        let recordDigest = try store.put(Array(record.text.utf8))
        return StoredTarball(digest: digest, size: size, description: description, packagesRecord: record, packagesRecordDigest: recordDigest)
    }
}
