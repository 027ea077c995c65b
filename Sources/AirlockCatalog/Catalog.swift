public import AirlockCore
public import Foundation

/// The read side of the catalog that the serving endpoint needs: published snapshots and
/// what each serves. The endpoint sees nothing else, so it cannot serve what no snapshot holds.
public protocol SnapshotCatalog: Sendable {
    /// The snapshot a selector names, or nil when none matches.
    func snapshot(_ ecosystem: Ecosystem, _ selector: SnapshotSelector) throws -> Snapshot?
    /// Every published snapshot of an ecosystem, oldest first.
    func snapshots(_ ecosystem: Ecosystem) throws -> [Snapshot]
    /// Every distribution a snapshot serves.
    func servedFiles(in snapshot: Snapshot) throws -> [Distribution]
    /// The distribution with this digest and filename if any published snapshot serves it.
    func servedFile(digest: Digest, filename: String) throws -> Distribution?
    /// Changes whenever a release is revoked: views of old snapshots must then be rebuilt.
    func revocationStamp() throws -> Int64
}
