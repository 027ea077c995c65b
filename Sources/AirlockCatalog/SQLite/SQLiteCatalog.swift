public import AirlockCore
public import Foundation
import GRDB

/// The catalog in one SQLite database (WAL: the endpoint reads while a sync writes), playing every
/// catalog role. Open it from a file, or in memory for tests.
public final class SQLiteCatalog: Sendable {
    private let writer: any DatabaseWriter
    /// Where the database lives, for error messages.
    public let location: String

    /// Opens (creating and migrating) the catalog file at `path`.
    public convenience init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(30)
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw AirlockError(.catalog, "cannot open the catalog at \(path)", underlying: error)
        }
        try self.init(pool, location: path)
    }

    /// A catalog that lives in memory only, for tests.
    public static func inMemory() throws -> SQLiteCatalog {
        try SQLiteCatalog(try DatabaseQueue(), location: "memory")
    }

    init(_ writer: any DatabaseWriter, location: String) throws {
        self.writer = writer
        self.location = location
        do {
            try Migrations.migrator.migrate(writer)
        } catch {
            throw AirlockError(.catalog, "cannot migrate the catalog at \(location)", underlying: error)
        }
    }

    /// Reads on GRDB's reader threads, never on the caller's (an event loop, the cooperative pool).
    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.read(body)
        } catch let e as AirlockError {
            throw e
        } catch {
            throw AirlockError(.catalog, "catalog read failed in \(location)", underlying: error)
        }
    }

    /// One transaction on GRDB's writer thread.
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(body)
        } catch let e as AirlockError {
            throw e
        } catch {
            throw AirlockError(.catalog, "catalog write failed in \(location)", underlying: error)
        }
    }

    /// Membership ranges stored, across all snapshots: what snapshots cost.
    public func membershipRowCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM membership") ?? 0 }
    }

    /// The distribution columns every file query selects (as `DistributionRow`).
    static let distributionColumns = """
        SELECT d.id, p.ecosystem, p.name, p.display_name, r.version, d.filename, d.kind, d.sha256, d.size, d.upload_time,
               d.requires_python, d.yanked, d.metadata_sha256
        FROM \(Relation.files)
        """
}

/// The relations queries share, each written once: the release join, "served by snapshot N" and
/// "not revoked".
enum Relation {
    /// Distributions `d` with their release `r` and project `p`.
    static let files = "distribution d JOIN release r ON r.id = d.release_id JOIN project p ON p.id = r.project_id"
    /// Releases `r` with their project `p`.
    static let releases = "release r JOIN project p ON p.id = r.project_id"

    /// Membership range `m` serves snapshot `snapshot` (an SQL expression: a parameter or a column):
    /// `added_in <= snapshot < removed_in`, an open range serving every snapshot from `added_in` on.
    static func serves(_ snapshot: String) -> String {
        "m.added_in <= \(snapshot) AND (m.removed_in IS NULL OR m.removed_in > \(snapshot))"
    }

    /// Release `r` of project `p` is not revoked (a revocation covers every snapshot, past and future).
    static let notRevoked = "NOT EXISTS (SELECT 1 FROM revocation v WHERE v.ecosystem = p.ecosystem AND v.project = p.name AND v.version = r.version)"
}
