public import AirlockCatalog
public import AirlockCore
import AirlockStore
import Foundation
import Synchronization

/// A published snapshot and where its manifest was written.
public struct Publication: Sendable {
    public var snapshot: Snapshot
    /// False when nothing changed: `snapshot` is the latest one, still current.
    public var isNew: Bool
    public var manifest: String
    /// Releases the rule held back because they could not be installed from the snapshot.
    public var held: [ReleaseKey: HeldRelease]
}

/// The only code that turns verdicts, overrides in force and revocations into a snapshot and its
/// manifest. Every caller — a sync, a review act, an expiry, an import — comes through `publish`,
/// which takes the data directory's publish lock, then lets the catalog read the state, apply
/// `PublishRule` and store the snapshot in one write transaction, the manifest written before it
/// commits. Two publications can therefore never lose each other's changes.
public struct SnapshotPublisher: Sendable {
    let catalog: any PublishCatalog
    let dataDirectory: String

    public init(catalog: any PublishCatalog, dataDirectory: String) {
        self.catalog = catalog
        self.dataDirectory = dataDirectory
    }

    public func publish(_ request: PublishRequest) async throws -> Publication {
        let lock = try await DataDirectoryLock.acquire(.publish, dataDirectory: dataDirectory)
        defer { withExtendedLifetime(lock) {} }
        let manifests = ManifestWriter(directory: dataDirectory + "/snapshots", signer: try ManifestWriter.signingKey(dataDirectory: dataDirectory))
        let held = Mutex<[ReleaseKey: HeldRelease]>([:])
        let (snapshot, isNew) = try await catalog.publish(request) { state in
            let plan = try PublishRule.plan(state, at: request.at)
            held.withLock { $0 = plan.held }
            return plan
        } beforeCommit: { snapshot, contents, plan, auditHead in
            _ = try manifests.write(snapshot, contents: contents, decisions: plan.decisions, auditHead: auditHead)
        }
        return Publication(snapshot: snapshot, isNew: isNew, manifest: manifests.path(of: snapshot), held: held.withLock { $0 })
    }

    /// Publishes the stored state again, as a review act (or an expiry) changed it.
    public func republish(_ ecosystem: Ecosystem, actor: String, at: Date = Date()) async throws -> Snapshot {
        try await publish(PublishRequest(ecosystem: ecosystem, actor: actor, at: at)).snapshot
    }
}
