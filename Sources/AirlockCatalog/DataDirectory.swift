public import AirlockCore
public import AirlockStore
import Foundation

/// A data directory and everything in it: the catalog (`catalog.sqlite`, or a PostgreSQL database
/// named by `catalog`), the blob store (`blobs/`), the snapshot manifests (`snapshots/`) and the
/// locks. The command line, the daemon, sync and serve open storage only through it, so the
/// defaults live here once and no caller names an implementation.
public struct DataDirectory: Sendable {
    /// Where data lives when neither `--data` nor the configuration says.
    public static let defaultPath = "./airlock-data"
    /// The environment variable that names the catalog when neither `--catalog` nor the configuration does.
    public static let catalogVariable = "AIRLOCK_CATALOG"

    public let path: String
    /// Where the catalog lives.
    public let catalog: CatalogLocation

    /// `path`, or the default when nil; the catalog named by `catalog` (`sqlite:PATH` or
    /// `postgresql://…`), else by `AIRLOCK_CATALOG`, else `catalog.sqlite` in the directory.
    public init(_ path: String?, catalog: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.path = path ?? Self.defaultPath
        let named = catalog ?? environment[Self.catalogVariable].flatMap { $0.isEmpty ? nil : $0 }
        self.catalog = try named.map { try CatalogLocation($0) } ?? .sqlite(self.path + "/catalog.sqlite")
    }

    /// Where published snapshot manifests are written.
    public var manifests: String { path + "/snapshots" }

    /// The catalog and blob store, the directory created on first use. The catalog is opened (and
    /// migrated) under the directory's publish lock, so two first commands never migrate at once
    /// (PostgreSQL migrations also hold an advisory lock, for commands on other machines).
    public func open() async throws -> (catalog: any Catalog, store: any BlobStore) {
        let lock = try await self.lock(.publish)
        defer { withExtendedLifetime(lock) {} }
        return (try await catalog.open(), try FileSystemBlobStore(root: path + "/blobs"))
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

/// Where a catalog lives: an SQLite file, or a database on a PostgreSQL server.
public enum CatalogLocation: Sendable, CustomStringConvertible {
    case sqlite(String)
    case postgresql(PostgresURL)

    /// `sqlite:PATH` or `postgresql://USER@HOST:PORT/DATABASE?…` (see `PostgresURL`).
    public init(_ text: String) throws {
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw AirlockError(.invalidArgument, "a SQLite catalog is named sqlite:PATH, with a path") }
            self = .sqlite(path)
        } else if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
            self = .postgresql(try PostgresURL(text))
        } else {
            throw AirlockError(
                .invalidArgument, "a catalog is named sqlite:PATH or postgresql://USER@HOST:PORT/DATABASE, not '\(PostgresURL.redact(text))'")
        }
    }

    /// The catalog, created and migrated on first use.
    public func open() async throws -> any Catalog {
        switch self {
        case .sqlite(let path): try SQLiteCatalog(path: path)
        case .postgresql(let url): try await PostgresCatalog(url: url)
        }
    }

    /// Never shows a password.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgresql(let url): url.redacted
        }
    }
}
