public import AirlockCore
public import AirlockStore
import Foundation

/// A data directory and everything in it: the catalog (`catalog.sqlite`), the blob store (`blobs/`),
/// the snapshot manifests (`snapshots/`) and the locks. The command line, the daemon, sync and serve
/// open storage only through it, so the defaults live here once and no caller names an implementation.
public struct DataDirectory: Sendable {
    /// Where data lives when neither `--data` nor the configuration says.
    public static let defaultPath = "./airlock-data"

    public let path: String

    /// `path`, or the default when nil.
    public init(_ path: String?) {
        self.path = path ?? Self.defaultPath
    }

    /// Where published snapshot manifests are written.
    public var manifests: String { path + "/snapshots" }

    /// The catalog and blob store, the directory created on first use. The catalog is opened (and
    /// migrated) under the directory's publish lock, so two first commands never migrate at once.
    public func open() async throws -> (catalog: any Catalog, store: any BlobStore) {
        let lock = try await self.lock(.publish)
        defer { withExtendedLifetime(lock) {} }
        return (try SQLiteCatalog(path: path + "/catalog.sqlite"), try FileSystemBlobStore(root: path + "/blobs"))
    }

    /// Takes one of the directory's locks (creating the directory if needed), held while the value
    /// lives: a sync lock is refused at once when held, a publish lock waited for.
    public func lock(_ kind: DataDirectoryLock.Kind) async throws -> DataDirectoryLock {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw AirlockError(.storage, "cannot create data directory \(path): \(error.localizedDescription)")
        }
        return try await DataDirectoryLock.acquire(kind, dataDirectory: path)
    }
}
