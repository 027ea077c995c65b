public import AirlockCatalog
public import AirlockCore
import AirlockPublish
public import AirlockStore
public import Foundation

/// Imports signed bundles on the air-gapped side. Everything is checked before anything becomes
/// visible — the signature by a trusted key, the sequence (no replay, no rollback), the expiry, the
/// base, and every member's SHA-256 and size — then blobs are committed and the snapshots published
/// through `SnapshotPublisher` with their original ids and dates, in one transaction. A refusal leaves
/// the data directory as it was and names the member and the check.
public struct BundleImporter: Sendable {
    let catalog: any TransferCatalog & PublishCatalog & SnapshotCatalog
    let store: any BlobStore
    let dataDirectory: String
    let trusted: TrustedKeys

    public init(catalog: any TransferCatalog & PublishCatalog & SnapshotCatalog, store: any BlobStore, dataDirectory: String, trusted: TrustedKeys) {
        self.catalog = catalog
        self.store = store
        self.dataDirectory = dataDirectory
        self.trusted = trusted
    }

    /// What an import did.
    public struct Report: Codable, Sendable {
        public var sequence: Int64
        public var kind: BundleManifest.Kind
        public var origin: String
        public var signer: String
        public var snapshots: [Int64]
        public var blobsAdded: Int
        public var bytesAdded: Int64
        public var revocationsAdded: Int
    }

    /// Limits on the members read into memory.
    static let manifestLimit = 64 << 20
    static let catalogLimit = 1 << 30

    public func run(_ paths: [String], now: Date = Date()) async throws -> Report {
        do {
            return try await importing(paths, now: now)
        } catch let e as AirlockError {
            throw AirlockError(e.code, "import refused, nothing changed: \(e.message)", underlying: e.underlying)
        }
    }

    private func importing(_ paths: [String], now: Date) async throws -> Report {
        let lock = try DataDirectoryLock(.sync, dataDirectory: dataDirectory)
        defer { withExtendedLifetime(lock) {} }
        // Under the sync lock, staging holds only what a killed sync or import left behind.
        try store.removeAbandonedStaging()
        let reader = try BundleReader(paths: paths)
        let (manifest, manifestDigest) = try await readManifest(reader, now: now)
        var staged: [String: String] = [:]  // digest → staging path
        defer { for path in staged.values { store.discard(stagingPath: path) } }
        var inline: [String: [UInt8]] = [:]
        let members = Dictionary(manifest.members.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<String>()
        while let (path, _) = try reader.next() {
            guard let member = members[path] else { throw refusal("member \(path) is not listed in the signed manifest") }
            guard seen.insert(path).inserted else { throw refusal("member \(path) appears twice") }
            var digest = StreamingDigest()
            if path.hasPrefix("blobs/") {
                let staging = try store.makeStagingPath()
                staged[member.sha256] = staging
                guard FileManager.default.createFile(atPath: staging, contents: nil), let out = FileHandle(forWritingAtPath: staging) else {
                    throw AirlockError(.storage, "cannot create \(staging)")
                }
                defer { try? out.close() }
                try reader.stream { chunk in
                    digest.update(chunk)
                    out.write(Data(chunk))
                }
            } else {
                let bytes = try reader.readAll(limit: Self.catalogLimit)
                bytes.withUnsafeBytes { digest.update($0) }
                inline[path] = bytes
            }
            guard digest.size == member.size else {
                throw refusal("member \(path) has \(digest.size) bytes; the signed manifest says \(member.size)")
            }
            let sha = digest.finalize()
            guard sha == member.sha256 else {
                throw refusal("member \(path) does not match its signed SHA-256 (got \(sha), signed \(member.sha256))")
            }
        }
        if let missing = manifest.members.first(where: { !seen.contains($0.path) }) {
            throw refusal("member \(missing.path) is missing: the bundle is truncated")
        }
        guard let catalogBytes = inline[BundleManifest.catalogPath] else { throw refusal("the bundle has no \(BundleManifest.catalogPath)") }
        let record = BundleRecord(
            direction: .import, sequence: manifest.sequence, kind: manifest.kind.rawValue, sha256: manifestDigest, signer: manifest.signer,
            snapshots: [], at: now)
        switch manifest.kind {
        case .revocations:
            let rows = try decode([TransferRow].self, catalogBytes)
            let added = try await catalog.importRevocations(rows, record: record, origin: manifest.origin, actor: "import:\(manifest.signer)")
            return Report(
                sequence: manifest.sequence, kind: .revocations, origin: manifest.origin, signer: manifest.signer, snapshots: [], blobsAdded: 0,
                bytesAdded: 0,
                revocationsAdded: added)
        case .snapshot:
            let rows = try decode(TransferRows.self, catalogBytes)
            guard rows.ecosystem == manifest.ecosystem, !rows.snapshots.isEmpty else {
                throw refusal("catalog.json does not carry the bundle's \(manifest.ecosystem?.rawValue ?? "") snapshots")
            }
            var manifestDigests: [Int64: String] = [:]
            for s in rows.snapshots {
                guard let m = members[BundleManifest.snapshotPath(rows.ecosystem, s.snapshot.id)] else {
                    throw refusal("snapshot \(s.snapshot.id) has no manifest member")
                }
                manifestDigests[s.snapshot.id] = m.sha256
            }
            try checkEveryBlobIsAtHand(rows, staged: staged)
            var added: [Digest] = []
            var bytesAdded: Int64 = 0
            do {
                for (hex, staging) in staged.sorted(by: { $0.key < $1.key }) {
                    guard let digest = Digest(hex: hex) else { throw refusal("blob member name \(hex) is not a SHA-256") }
                    if !store.contains(digest) {
                        added.append(digest)
                        bytesAdded += members[BundleManifest.blobPath(hex)]?.size ?? 0
                    }
                    try store.commit(stagingPath: staging, as: digest)
                    staged[hex] = nil
                }
                var imported = record
                imported.snapshots = rows.snapshots.map(\.snapshot.id)
                let publisher = SnapshotPublisher(catalog: catalog, dataDirectory: dataDirectory)
                _ = try await publisher.publish(
                    PublishRequest(
                        ecosystem: rows.ecosystem, actor: "import:\(manifest.signer)", at: now,
                        imported: .init(rows: rows, record: imported, origin: manifest.origin, manifestDigests: manifestDigests)))
            } catch {
                for digest in added { _ = try? store.remove(digest) }
                throw error
            }
            return Report(
                sequence: manifest.sequence, kind: .snapshot, origin: manifest.origin, signer: manifest.signer,
                snapshots: rows.snapshots.map(\.snapshot.id),
                blobsAdded: added.count, bytesAdded: bytesAdded, revocationsAdded: 0)
        }
    }

    /// Reads and checks the signed manifest: signature, format, expiry, sequence and base.
    private func readManifest(_ reader: BundleReader, now: Date) async throws -> (BundleManifest, String) {
        guard let (first, _) = try reader.next(), first == BundleManifest.manifestPath else {
            throw refusal("this is not an airlock bundle: its first member is not \(BundleManifest.manifestPath)")
        }
        let bytes = try reader.readAll(limit: Self.manifestLimit)
        guard let (second, _) = try reader.next(), second == BundleManifest.signaturePath else {
            throw refusal("the bundle has no signature (\(BundleManifest.signaturePath)) after its manifest")
        }
        // `<key id> <base64 signature>`: the signature is checked before the manifest is even parsed.
        let signatureLine = String(decoding: try reader.readAll(limit: 1024), as: UTF8.self).split(separator: " ")
        guard signatureLine.count == 2, let signature = Data(base64Encoded: signatureLine[1].trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw refusal("\(BundleManifest.signaturePath) is not '<key id> <base64 signature>'")
        }
        let signer = String(signatureLine[0])
        try trusted.verify([UInt8](signature), of: bytes, by: signer)
        let manifest = try decode(BundleManifest.self, bytes, member: BundleManifest.manifestPath)
        guard manifest.signer == signer else { throw refusal("the manifest names signer \(manifest.signer) but was signed by \(signer)") }
        guard manifest.format == BundleManifest.format else {
            throw refusal("the bundle's format is \(manifest.format); this airlock reads \(BundleManifest.format)")
        }
        guard let expires = Timestamp.parse(manifest.expires_at) else {
            throw refusal("the bundle's expires_at '\(manifest.expires_at)' is not a time")
        }
        guard now < expires else {
            throw AirlockError(
                .forbidden, "the bundle expired at \(manifest.expires_at) (created \(manifest.created_at)): export a fresh one on \(manifest.origin)")
        }
        let last = try await catalog.bundles(.import).first?.sequence ?? 0
        guard manifest.sequence > last else {
            throw AirlockError(
                .forbidden,
                "bundle sequence \(manifest.sequence) is not newer than the last one imported here (\(last)): a replayed or rolled-back bundle")
        }
        if let base = manifest.base {
            guard let here = try await catalog.importedManifestDigest(snapshot: base.snapshot) else {
                throw AirlockError(
                    .notFound,
                    "the bundle is incremental on snapshot \(base.snapshot), which this replica does not hold: import the bundle that carries it, or a full export, first"
                )
            }
            guard here == base.manifest_sha256 else {
                throw AirlockError(
                    .hashMismatch, "the bundle builds on a snapshot \(base.snapshot) whose manifest differs from the one imported here")
            }
        }
        return (manifest, Digest.of(bytes).hex)
    }

    /// Every file the snapshots serve (and its metadata and provenance) must be in the bundle or already stored.
    private func checkEveryBlobIsAtHand(_ rows: TransferRows, staged: [String: String]) throws {
        let companions = rows.companionDigests
        for s in rows.snapshots {
            for f in s.files {
                for hex in [f.sha256] + (companions[f.sha256] ?? []) where staged[hex] == nil {
                    guard let d = Digest(hex: hex), store.contains(d) else {
                        throw AirlockError(
                            .notFound,
                            "snapshot \(s.snapshot.id) serves \(f.filename), whose blob \(hex) is neither in the bundle nor here: import its base first"
                        )
                    }
                }
            }
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], member: String = BundleManifest.catalogPath) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw refusal("member \(member) is not a valid \(type): \(error)")
        }
    }

    private func refusal(_ message: String) -> AirlockError {
        AirlockError(.hashMismatch, message)
    }
}
