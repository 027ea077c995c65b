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
    /// What the content scan found in its install and load code.
    let findings: [ContentFinding]
}

/// Brings R tarballs into the blob store once per sync: a `VerifiedDownload` checked against the MD5
/// the repository declares, its `DESCRIPTION` read with libarchive (refusing hostile archives) and
/// naming the package and version of the filename.
struct CRANFetcher: Sendable {
    /// The `PACKAGES` fields R's `tools::write_PACKAGES` writes, in its order, and `SystemRequirements`, as
    /// Posit Package Manager adds it (pak reads it to install system libraries; reviewers and build records show it).
    static let packagesFields = [
        "Package", "Version", "Priority", "Depends", "Imports", "LinkingTo", "Suggests", "Enhances", "License", "License_is_FOSS",
        "License_restricts_use", "OS_type", "Archs", "MD5sum", "NeedsCompilation", "SystemRequirements",
    ]

    /// The `PACKAGES` record of a package: the `packagesFields` of its `DESCRIPTION`, with this MD5.
    static func packagesRecord(_ description: DCFRecord, md5: String) -> DCFRecord {
        var record = DCFRecord()
        for field in packagesFields {
            if field == "MD5sum" { record.set(field, md5) } else if let value = description[field] { record.set(field, value) }
        }
        return record
    }

    let download: VerifiedDownload
    let catalog: any ReleaseCatalog
    let inspector = ArchiveInspector()
    let counts = TransferCounts()
    private let memo = TaskMemo<StoredTarball>()

    init(download: VerifiedDownload, catalog: any ReleaseCatalog) {
        self.download = download
        self.catalog = catalog
    }

    /// The stored, verified tarball; fetched on first request, shared by later ones.
    func ensure(_ tarball: CRANTarball) async throws -> StoredTarball {
        try await memo.value(tarball.url) { try await bring(tarball) }
    }

    private func bring(_ tarball: CRANTarball) async throws -> StoredTarball {
        if let reusable = try await reuse(tarball) {
            await counts.count(downloaded: false)
            return try await keepScan(reusable)
        }
        let stored = try await download.fetch(tarball.url) { path, result in
            let md5 = try CRANUpstream.md5(ofFileAt: path)
            if let declared = tarball.md5, declared != md5 {
                throw AirlockError(
                    .hashMismatch, "md5 mismatch for \(tarball.filename) from \(tarball.url): PACKAGES declares \(declared), the download has \(md5)")
            }
            return try inspect(tarball, path: path, digest: result.digest, size: result.size, md5: md5)
        }
        await counts.count(downloaded: true)
        return try await keepScan(stored)
    }

    /// Records the tarball's scan, for decisions made again later (`airlock policy check`).
    private func keepScan(_ tarball: StoredTarball) async throws -> StoredTarball {
        try await catalog.storeContentScan(ofFile: tarball.digest, scanner: ContentScanner.version, findings: tarball.findings)
        return tarball
    }

    /// A tarball recorded by an earlier sync from the same URL, still stored, whose MD5 matches what
    /// the repository declares now.
    private func reuse(_ tarball: CRANTarball) async throws -> StoredTarball? {
        let store = download.store
        guard let recorded = try await catalog.recordedFile(upstreamURL: tarball.url), let recordDigest = recorded.metadataDigest,
            let size = store.size(of: recorded.digest), let path = store.localPath(for: recorded.digest)
        else { return nil }
        let record = try DCF.parse(try store.read(recordDigest), source: tarball.filename + " (stored PACKAGES record)").first ?? DCFRecord()
        guard let md5 = record["MD5sum"], tarball.md5 == nil || tarball.md5 == md5 else { return nil }
        return try inspect(tarball, path: path, digest: recorded.digest, size: size, md5: md5)
    }

    private func inspect(_ tarball: CRANTarball, path: String, digest: Digest, size: Int64, md5: String) throws -> StoredTarball {
        let scanner = ContentScanner(kind: .rSource, file: tarball.filename, project: tarball.package)
        let report = try inspector.inspect(path: path, displayName: tarball.filename, metadata: .rDescription, scanner: scanner)
        guard let bytes = report.metadata else {
            throw AirlockError(.malformedMetadata, "\(tarball.filename) has no \(tarball.package)/DESCRIPTION; it is not an R source package")
        }
        let source = "\(tarball.filename): \(report.metadataMember ?? "DESCRIPTION")"
        let records: [DCFRecord]
        do {
            records = try DCF.parse(bytes, source: source)
        } catch let e as AirlockError {
            throw AirlockError(.malformedMetadata, e.message)  // this package's fault, not the index's
        }
        guard let description = records.first else {
            throw AirlockError(.malformedMetadata, "\(source) is empty")
        }
        guard records.count == 1 else {
            throw AirlockError(
                .malformedMetadata, "\(source) holds \(records.count) records (a second starts on line \(records[1].line)); a DESCRIPTION is one")
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
        let record = Self.packagesRecord(description, md5: md5)
        let recordDigest = try download.store.put(Array(record.text.utf8))
        return StoredTarball(
            digest: digest, size: size, description: description, packagesRecord: record, packagesRecordDigest: recordDigest,
            findings: report.findings)
    }
}
