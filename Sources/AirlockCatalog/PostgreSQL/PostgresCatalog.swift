import AirlockCore
import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// The catalog on a PostgreSQL server, playing every catalog role as `SQLiteCatalog` does, for a
/// mirror run by several processes or machines. Connections are pooled; every write is one
/// transaction that first takes one advisory lock, so writers (a sync's publication, review acts,
/// audit appends from other processes) take turns as SQLite's single writer does: the audit chain
/// cannot fork and no act is lost. Reads never wait for writers.
public final class PostgresCatalog: Sendable {
    private let client: PostgresClient
    private let running: Task<Void, Never>
    private let logger: Logger
    /// The server and database, without the password, for messages.
    public let location: String

    /// The advisory lock every write transaction holds (an arbitrary constant: "airlock").
    static let writeLock: Int64 = 0x6169_726C_6F63_6B
    /// The advisory lock migrations hold, so two first commands never migrate at once.
    static let migrationLock: Int64 = 0x6169_726C_6F63_6C

    /// Connects (pooling up to `maxConnections`) and migrates the catalog named by `url`.
    public init(url: PostgresURL, maxConnections: Int = 8, logger: Logger = Logger(label: "airlock.catalog")) async throws {
        var configuration = try url.clientConfiguration()
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 0
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.location = url.redacted
        // Started at once (not merely scheduled), so the pool runs before the first lease.
        running = Task.immediate { await client.run() }
        do {
            try await migrate()
        } catch {
            running.cancel()
            throw error
        }
    }

    deinit { running.cancel() }

    /// Applies the migrations this catalog lacks, in order, in one transaction.
    private func migrate() async throws {
        try await transaction("BEGIN", lock: Self.migrationLock) { s in
            try await s.execute("CREATE TABLE IF NOT EXISTS airlock_migrations (identifier TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            let applied = Set(try await s.column(String.self, "SELECT identifier FROM airlock_migrations"))
            for migration in PostgresMigrations.all where !applied.contains(migration.name) {
                try await s.simple(migration.sql)
                try await s.execute(
                    "INSERT INTO airlock_migrations (identifier, applied_at) VALUES ($1, $2)", [migration.name, Timestamp.format(Date())])
            }
        }
    }

    /// A read-only transaction: every statement of one read sees the same committed state (as a
    /// GRDB read does on SQLite), whatever writers commit meanwhile.
    func read<T: Sendable>(_ body: (PostgresSession) async throws -> T) async throws -> T {
        try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", lock: nil, body)
    }

    /// One write transaction, writers taking turns (see the type's comment).
    func write<T: Sendable>(_ body: (PostgresSession) async throws -> T) async throws -> T {
        try await transaction("BEGIN", lock: Self.writeLock, body)
    }

    private func transaction<T: Sendable>(_ begin: String, lock: Int64?, _ body: (PostgresSession) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { connection in
                let session = PostgresSession(connection: connection, logger: logger, location: location)
                try await session.simple(begin)
                do {
                    if let lock { try await session.execute("SELECT pg_advisory_xact_lock($1)", [lock]) }
                    let result = try await body(session)
                    try await session.simple("COMMIT")
                    return result
                } catch {
                    try? await session.simple("ROLLBACK")
                    throw error
                }
            }
        } catch let e as AirlockError {
            throw e
        } catch {
            throw AirlockError(.catalog, "catalog transaction failed in \(location): \(error)", underlying: error)
        }
    }
}

/// A `postgresql://` catalog URL: `postgresql://USER@HOST:PORT/DATABASE?sslmode=…`. The password
/// comes from `passwordfile=PATH` (a file holding it), else the `PGPASSWORD` environment variable,
/// else the URL itself (accepted, not advised: command lines are visible to other users); it never
/// appears in messages or logs. `host=/DIRECTORY` connects through the server's Unix socket there.
/// `sslmode` is `disable`, `prefer`, `require` (encrypted, server not verified) or `verify-full`
/// (the default when a `sslrootcert=PATH` is given: encrypted, the server's certificate checked
/// against that CA and its name against the host).
public struct PostgresURL: Sendable, CustomStringConvertible {
    public enum SSLMode: String, Sendable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public let user: String
    public let host: String
    public let port: Int
    public let database: String
    public let socketDirectory: String?
    public let sslMode: SSLMode
    public let rootCertificate: String?
    let password: String?

    /// Parses `text`; the error names what is wrong (never the password).
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard text.hasPrefix("postgresql://") || text.hasPrefix("postgres://"), let components = URLComponents(string: text) else {
            throw AirlockError(.invalidArgument, "a PostgreSQL catalog is named postgresql://USER@HOST:PORT/DATABASE, not '\(Self.redact(text))'")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let known: Set<String> = ["sslmode", "sslrootcert", "passwordfile", "host"]
        if let unknown = query.keys.first(where: { !known.contains($0) }) {
            throw AirlockError(.invalidArgument, "unknown catalog URL parameter '\(unknown)'; known: \(known.sorted().joined(separator: ", "))")
        }
        user = components.user ?? environment["USER"] ?? "airlock"  // URLComponents decodes percent-escapes once
        socketDirectory = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = components.port ?? 5432
        let path = components.path.drop(while: { $0 == "/" })
        database = path.isEmpty ? user : String(path)
        rootCertificate = query["sslrootcert"]
        if let mode = query["sslmode"] {
            guard let parsed = SSLMode(rawValue: mode) else {
                throw AirlockError(.invalidArgument, "sslmode '\(mode)' is not one of disable, prefer, require, verify-full")
            }
            sslMode = parsed
        } else {
            sslMode = rootCertificate != nil ? .verifyFull : socketDirectory != nil ? .disable : .prefer
        }
        if let file = query["passwordfile"] {
            do {
                password = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .newlines)
            } catch {
                throw AirlockError(.invalidArgument, "cannot read the catalog password file \(file): \(error.localizedDescription)")
            }
        } else if let fromEnvironment = environment["PGPASSWORD"] {
            password = fromEnvironment
        } else {
            password = components.password
        }
    }

    /// The URL without its password: safe for messages and logs.
    public var redacted: String {
        let place = socketDirectory.map { "\($0) (socket)" } ?? "\(host):\(port)"
        return "postgresql://\(user)@\(place)/\(database)"
    }

    public var description: String { redacted }

    static func redact(_ text: String) -> String {
        text.replacing(/:[^:@\/]*@/, with: ":***@")
    }

    func clientConfiguration() throws -> PostgresClient.Configuration {
        if let socketDirectory {
            return PostgresClient.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        let mode: PostgresClient.Configuration.TLS
        switch sslMode {
        case .disable: mode = .disable
        case .prefer, .require:
            tls.certificateVerification = .none
            mode = sslMode == .prefer ? .prefer(tls) : .require(tls)
        case .verifyFull:
            if let rootCertificate { tls.trustRoots = .file(rootCertificate) }
            tls.certificateVerification = .fullVerification
            mode = .require(tls)
        }
        return PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: mode)
    }
}
