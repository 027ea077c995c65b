public import AirlockCatalog
public import AirlockCore
import AirlockPolicy
public import AirlockStore
import Foundation
public import Logging

extension SyncContext {
    /// What a sync needs, the sync lock first: a second sync of the directory is refused before it
    /// touches the catalog. `policy` is a policy file, `"none"` (every selected release is served:
    /// logged and written to the audit log), or nil for the policy shipped in the binary.
    public static func open(_ data: DataDirectory, ecosystem: Ecosystem, policy: String?, logger: Logger) async throws -> SyncContext {
        let lock = try await data.lock(.sync)
        let (catalog, store) = try await data.open()
        if let replica = try await catalog.replicaOrigin() {
            throw AirlockError(
                .forbidden,
                "\(data.path) is an air-gapped replica of \(replica.origin): it has no upstream; sync there and carry snapshots over with airlock export and airlock import"
            )
        }
        let evaluator: any ReleaseEvaluator
        if let loaded = try PolicyFile.choose(policy) {
            evaluator = PolicyEngine(loaded, feeds: try await FeedImporter.load(from: catalog, ecosystem: ecosystem))
        } else {
            logger.warning("no policy: every selected release will be served", metadata: ["ecosystem": "\(ecosystem.rawValue)", "policy": "none"])
            try await catalog.audit(
                actor: "sync", action: "policy.none", object: ecosystem.rawValue,
                details: ["note": "synced without a policy: every selected release is approved"], at: Date())
            evaluator = SelectionPolicy()
        }
        var context = SyncContext(lock: lock, dataDirectory: data.path, catalog: catalog, store: store, evaluator: evaluator, logger: logger)
        context.importedTrustedRoot = try await catalog.trustedRoot()
        return context
    }
}
