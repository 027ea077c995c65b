public import AirlockCatalog
public import AirlockCore
public import AirlockStore
public import Foundation

/// Writes signed bundles on the connected side: snapshots (full, or incremental since a base the
/// replica holds) with their catalog rows and blobs, or revocations alone.
public struct BundleExporter: Sendable {
    let catalog: any TransferCatalog & SnapshotCatalog
    let store: any BlobStore
    let dataDirectory: String
    let signer: SigningKey
    /// The connected side's name, carried in every bundle and shown by the replica.
    let origin: String

    public init(catalog: any TransferCatalog & SnapshotCatalog, store: any BlobStore, dataDirectory: String, signer: SigningKey, origin: String) {
        self.catalog = catalog
        self.store = store
        self.dataDirectory = dataDirectory
        self.signer = signer
        self.origin = origin
    }

    /// What was written.
    public struct Report: Codable, Sendable {
        public var sequence: Int64
        public var kind: BundleManifest.Kind
        public var parts: [String]
        public var snapshots: [Int64]
        public var base: Int64?
        public var blobs: Int
        public var blobBytes: Int64
        public var revocations: Int
        public var signer: String
        public var expiresAt: String
    }

    /// Exports the snapshot `selector` names; with `since`, every snapshot after that one up to it,
    /// and only the blobs the `since` snapshot does not serve.
    public func exportSnapshots(
        _ ecosystem: Ecosystem, _ selector: SnapshotSelector, since: Int64?, to path: String, partSize: Int64?, validFor: TimeInterval,
        now: Date = Date()
    ) async throws -> Report {
        guard let target = try await catalog.snapshot(ecosystem, selector) else {
            throw AirlockError(.notFound, "no \(ecosystem.rawValue) snapshot matches '\(selector)'")
        }
        var ids = [target.id]
        var base: BundleManifest.Base?
        var baseDigests = Set<String>()
        if let since {
            guard let baseSnapshot = try await catalog.snapshot(ecosystem, .id(since)), baseSnapshot.id < target.id else {
                throw AirlockError(
                    .notFound, "--since \(since): there is no \(ecosystem.rawValue) snapshot \(since) older than snapshot \(target.id)")
            }
            ids = try await catalog.snapshots(ecosystem).map(\.id).filter { $0 > since && $0 <= target.id }
            base = BundleManifest.Base(snapshot: since, manifest_sha256: try manifestBytes(ecosystem, since).digest)
            let baseFiles = try await catalog.servedFiles(in: baseSnapshot)
            for f in baseFiles {
                baseDigests.insert(f.digest.hex)
                if let m = f.metadataDigest { baseDigests.insert(m.hex) }
                if let d = f.provenanceDigest { baseDigests.insert(d.hex) }
            }
            // The replica holds the R binaries the base served; binaries recorded since travel now.
            for b in try await catalog.servedBinaries(in: baseSnapshot, files: baseFiles) {
                baseDigests.formUnion([b.digest.hex, b.recordDigest.hex] + (b.buildLog.map { [$0.hex] } ?? []))
            }
        }
        let rows = try await catalog.transferRows(ecosystem, snapshots: ids)
        var members: [(member: BundleManifest.Member, source: Source)] = []
        members.append(try inline(BundleManifest.catalogPath, try Self.json(rows)))
        for id in ids {
            let manifest = try manifestBytes(ecosystem, id)
            members.append(try inline(BundleManifest.snapshotPath(ecosystem, id), manifest.bytes))
        }
        let companions = rows.companionDigests
        var blobs = Set<String>()
        for file in rows.snapshots.flatMap(\.files) {
            blobs.insert(file.sha256)
            blobs.formUnion(companions[file.sha256] ?? [])
        }
        var blobBytes: Int64 = 0
        let shipped = blobs.subtracting(baseDigests).sorted()
        for hex in shipped {
            guard let digest = Digest(hex: hex), let size = store.size(of: digest), let file = store.localPath(for: digest) else {
                throw AirlockError(.notFound, "blob \(hex), served by a snapshot being exported, is not in the store")
            }
            members.append((BundleManifest.Member(path: BundleManifest.blobPath(hex), sha256: hex, size: size), .file(file)))
            blobBytes += size
        }
        var report = try await write(
            .snapshot, ecosystem: ecosystem, base: base, members: members, snapshots: ids, to: path, partSize: partSize, validFor: validFor, now: now)
        report.base = since
        report.blobs = shipped.count
        report.blobBytes = blobBytes
        return report
    }

    /// Exports every revocation, of every ecosystem: a bundle of a few kilobytes.
    public func exportRevocations(to path: String, validFor: TimeInterval, now: Date = Date()) async throws -> Report {
        let rows = try await catalog.revocationRows()
        var report = try await write(
            .revocations, ecosystem: nil, base: nil, members: [try inline(BundleManifest.catalogPath, try Self.json(rows))], snapshots: [], to: path,
            partSize: nil, validFor: validFor, now: now)
        report.revocations = rows.count
        return report
    }

    private enum Source {
        case bytes([UInt8])
        case file(String)
    }

    private func write(
        _ kind: BundleManifest.Kind, ecosystem: Ecosystem?, base: BundleManifest.Base?, members: [(member: BundleManifest.Member, source: Source)],
        snapshots: [Int64], to path: String, partSize: Int64?, validFor: TimeInterval, now: Date
    ) async throws -> Report {
        let sequence = (try await catalog.bundles(.export).first?.sequence ?? 0) + 1
        let expires = Timestamp.format(now.addingTimeInterval(validFor))
        let manifest = BundleManifest(
            format: BundleManifest.format, kind: kind, sequence: sequence, origin: origin, signer: signer.keyID, created_at: Timestamp.format(now),
            expires_at: expires, ecosystem: ecosystem, base: base, members: members.map(\.member))
        let manifestBytes = try manifest.encoded()
        let writer = try BundleWriter(path: path, partSize: partSize)
        try writer.add(BundleManifest.manifestPath, bytes: manifestBytes)
        try writer.add(BundleManifest.signaturePath, bytes: Array(try signer.detachedSignature(of: manifestBytes).utf8))
        for (member, source) in members {
            switch source {
            case .bytes(let bytes): try writer.add(member.path, bytes: bytes)
            case .file(let file): try writer.add(member.path, file: file, size: member.size)
            }
        }
        let parts = try writer.finish()
        let digest = Digest.of(manifestBytes).hex
        try await catalog.recordExport(
            BundleRecord(
                direction: .export, sequence: sequence, kind: kind.rawValue, sha256: digest, signer: signer.keyID, snapshots: snapshots, at: now),
            actor: "export:\(signer.keyID)")
        return Report(
            sequence: sequence, kind: kind, parts: parts, snapshots: snapshots, base: nil, blobs: 0, blobBytes: 0, revocations: 0,
            signer: signer.keyID,
            expiresAt: expires)
    }

    private func inline(_ path: String, _ bytes: [UInt8]) throws -> (member: BundleManifest.Member, source: Source) {
        (BundleManifest.Member(path: path, sha256: Digest.of(bytes).hex, size: Int64(bytes.count)), .bytes(bytes))
    }

    private func manifestBytes(_ ecosystem: Ecosystem, _ id: Int64) throws -> (bytes: [UInt8], digest: String) {
        let path = "\(dataDirectory)/snapshots/\(ecosystem.rawValue)-\(id).json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AirlockError(.notFound, "the manifest of \(ecosystem.rawValue) snapshot \(id) is missing: \(path)")
        }
        return ([UInt8](data), Digest.of([UInt8](data)).hex)
    }

    static func json<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try encoder.encode(value))
    }
}
