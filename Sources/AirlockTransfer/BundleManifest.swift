public import AirlockCore
public import Foundation

/// The signed table of contents of a bundle (`bundle.json`, signed in `bundle.sig`): what it is, its
/// place in the sequence, when it stops being acceptable, what it builds on, and the digest and size
/// of every other member. Checking a member against it checks it against the signature.
public struct BundleManifest: Codable, Sendable {
    public static let format = "airlock-bundle/1"

    public enum Kind: String, Codable, Sendable {
        /// Snapshots with their catalog rows and the blobs the base lacks.
        case snapshot
        /// Revocations only: small, applied at once to every snapshot.
        case revocations
    }

    /// What an incremental bundle builds on: a snapshot the replica must already serve.
    public struct Base: Codable, Sendable, Hashable {
        public var snapshot: Int64
        /// SHA-256 of the connected side's manifest of that snapshot.
        public var manifest_sha256: String
    }

    public struct Member: Codable, Sendable, Hashable {
        public var path: String
        public var sha256: String
        public var size: Int64
    }

    public var format: String
    public var kind: Kind
    /// Grows with every bundle the connected side writes; a replica accepts only a greater one.
    public var sequence: Int64
    /// The connected side's name.
    public var origin: String
    /// Key id of the signing key.
    public var signer: String
    public var created_at: String
    /// After this a replica refuses the bundle (a stale bundle cannot freeze it on old data).
    public var expires_at: String
    public var ecosystem: Ecosystem?
    public var base: Base?
    public var members: [Member]

    /// Member paths: `catalog.json`, `snapshots/<ecosystem>-<id>.json`, `blobs/<sha256>`.
    static let catalogPath = "catalog.json"
    static let manifestPath = "bundle.json"
    static let signaturePath = "bundle.sig"
    static func blobPath(_ digest: String) -> String { "blobs/\(digest)" }
    static func snapshotPath(_ ecosystem: Ecosystem, _ id: Int64) -> String { "snapshots/\(ecosystem.rawValue)-\(id).json" }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try encoder.encode(self))
    }
}
