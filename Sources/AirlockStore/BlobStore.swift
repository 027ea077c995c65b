public import AirlockCore

/// Where blobs live: bytes addressed by their SHA-256, written once, never changed.
///
/// Writers stage bytes in a file the store hands out, then `commit` it under the digest they
/// computed while writing; a crash before `commit` leaves only a staging file, never a partial blob.
public protocol BlobStore: Sendable {
    /// Whether a blob with this digest is stored.
    func contains(_ digest: Digest) -> Bool
    /// The stored size of a blob, or nil when absent.
    func size(of digest: Digest) -> Int64?
    /// A new, empty staging file path for a writer to fill.
    func makeStagingPath() throws -> String
    /// Makes a filled staging file durable and visible under `digest`; the caller computed `digest`
    /// while writing. A blob already present is kept and the staging file dropped.
    func commit(stagingPath: String, as digest: Digest) throws
    /// Drops a staging file that will not be committed.
    func discard(stagingPath: String)
    /// Stores small bytes directly (core metadata files, index bodies).
    @discardableResult func put(_ bytes: [UInt8]) throws -> Digest
    /// Reads a whole blob; meant for small blobs.
    func read(_ digest: Digest) throws -> [UInt8]
    /// A local file path holding the blob, for zero-copy serving; nil for remote stores.
    func localPath(for digest: Digest) -> String?
    /// Removes staging files left by a process that died.
    func removeAbandonedStaging() throws
    /// Every stored digest.
    func allDigests() throws -> [Digest]
    /// Deletes a blob; returns the bytes freed (0 if it was not there).
    @discardableResult func remove(_ digest: Digest) throws -> Int64
}
