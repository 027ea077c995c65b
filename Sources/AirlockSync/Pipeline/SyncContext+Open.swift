import AirlockCatalog
public import AirlockCore
import AirlockPolicy
public import AirlockStore
import Foundation
public import Logging

extension SyncContext {
    /// The catalog and blob store of a data directory, created on first use. The catalog is opened (and
    /// migrated) under the directory's publish lock, so two first commands never migrate at once.
    public static func openStorage(_ dataDirectory: String) throws -> (catalog: SQLiteCatalog, store: FileSystemBlobStore) {
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw AirlockError(.storage, "cannot create data directory \(dataDirectory): \(error.localizedDescription)")
        }
        let lock = try DataDirectoryLock(.publish, dataDirectory: dataDirectory)
        defer { withExtendedLifetime(lock) {} }
        return (try SQLiteCatalog(path: dataDirectory + "/catalog.sqlite"), try FileSystemBlobStore(root: dataDirectory + "/blobs"))
    }

    /// What a sync needs, the sync lock first: a second sync of the directory is refused before it
    /// touches the catalog. `policy` is a policy file, `"none"` (every selected release is served:
    /// logged and written to the audit log), or nil for the policy shipped in the binary.
    public static func open(dataDirectory: String, ecosystem: Ecosystem, policy: String?, logger: Logger) async throws -> SyncContext {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let lock = try DataDirectoryLock(.sync, dataDirectory: dataDirectory)
        let (catalog, store) = try openStorage(dataDirectory)
        if let replica = try await catalog.replicaOrigin() {
            throw AirlockError(
                .forbidden, "\(dataDirectory) is an air-gapped replica of \(replica.origin): it has no upstream; sync there and carry snapshots over with airlock export and airlock import")
        }
        let evaluator: any ReleaseEvaluator
        if let loaded = try PolicyFile.choose(policy) {
            evaluator = PolicyEngine(loaded, feeds: try await FeedImporter.load(from: catalog, ecosystem: ecosystem))
        } else {
            logger.warning("no policy: every selected release will be served", metadata: ["ecosystem": "\(ecosystem.rawValue)", "policy": "none"])
            try await catalog.audit(actor: "sync", action: "policy.none", object: ecosystem.rawValue, details: ["note": "synced without a policy: every selected release is approved"], at: Date())
            evaluator = SelectionPolicy()
        }
        return SyncContext(lock: lock, dataDirectory: dataDirectory, catalog: catalog, store: store, evaluator: evaluator, logger: logger)
    }
}
