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
            throw AirlockError(.catalog, "catalog read failed in \(location): \(error)", underlying: error)
        }
    }

    /// One transaction on GRDB's writer thread.
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(body)
        } catch let e as AirlockError {
            throw e
        } catch {
            throw AirlockError(.catalog, "catalog write failed in \(location): \(error)", underlying: error)
        }
    }

}
