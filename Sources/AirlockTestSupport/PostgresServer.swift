import Foundation
import Glibc
import Synchronization

/// A PostgreSQL server of the test run's own: `initdb` into a temporary directory, `postgres` on a
/// private port on 127.0.0.1 and a socket in that directory, no system service. Started once per
/// test process, on first use; it shuts down (and its directory is removed) when the test process
/// exits, even if killed. Connections over TCP need the password (`passwordFile`), as a real
/// deployment's would; each data directory gets a database of its own.
public final class PostgresServer: Sendable {
    public let port: Int
    public let directory: String
    /// A file holding the `airlock` role's password.
    public let passwordFile: String
    private let bin: String
    private let server: RunningProcess
    private let databases = Mutex<Set<String>>([])

    /// The server of this test process.
    public static func shared() throws -> PostgresServer {
        try started.withLock { server in
            if let server { return server }
            let new = try PostgresServer()
            server = new
            return new
        }
    }

    private static let started = Mutex<PostgresServer?>(nil)

    /// Where Debian puts the server binaries (`postgresql` package), newest version first.
    static func binaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        guard let version = versions.first(where: { FileManager.default.isExecutableFile(atPath: "\(root)/\($0)/bin/postgres") }) else {
            throw TestSupportError("no PostgreSQL server under \(root): install Debian's postgresql package (scripts/install-deps --test does)")
        }
        return "\(root)/\(version)/bin"
    }

    private init() throws {
        bin = try Self.binaries()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        passwordFile = directory + "/password"
        try "airlock-test-\(UUID().uuidString)\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        // PostgreSQL refuses to run as root: then the server runs as the postgres user, which owns the directory.
        let asUser = geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        if geteuid() == 0 {
            let owned = try Subprocess.run("/bin/chown", ["-R", "postgres:postgres", directory])
            guard owned.succeeded else { throw TestSupportError("chown \(directory) failed: \(owned.output)") }
            chmod(passwordFile, 0o644)
        }
        let initdb = try Subprocess.run(
            asUser.first ?? "\(bin)/initdb",
            Array(asUser.dropFirst()) + (asUser.isEmpty ? [] : ["\(bin)/initdb"]) + [
                "-D", directory + "/data", "-U", "airlock", "--pwfile", passwordFile, "--auth-local=trust", "--auth-host=scram-sha-256",
                "--no-sync", "-E", "UTF8", "--locale=C",
            ])
        guard initdb.succeeded else { throw TestSupportError("initdb failed: \(initdb.output)") }
        var lastLog = ""
        for _ in 0..<20 {
            let port = try UpstreamIndex.freePort()
            // The shell stops the server when this process is gone (a killed test run leaves nothing behind).
            let watch = """
                "$1"/postgres -D "$2"/data -p "$3" -k "$2" -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
                  -c full_page_writes=off -c max_connections=400 -c shared_buffers=32MB & pg=$!
                while [ -d /proc/"$4" ] && kill -0 $pg 2>/dev/null; do sleep 1; done
                kill -INT $pg 2>/dev/null; wait $pg; rm -rf "$2"/data
                """
            let process = try RunningProcess(
                asUser.first ?? "/bin/sh",
                Array(asUser.dropFirst()) + (asUser.isEmpty ? [] : ["/bin/sh"]) + [
                    "-c", watch, "sh", bin, directory, String(port), String(getpid()),
                ],
                logPath: directory + "/server-\(port).log")
            do {
                _ = try process.waitForLine(matching: "(ready) to accept connections", timeout: 60)
                self.port = port
                self.server = process
                return
            } catch {
                lastLog = process.log
                process.kill()
                if !lastLog.contains("could not bind") && !lastLog.contains("Address already in use") { break }
            }
        }
        throw TestSupportError("the test PostgreSQL server did not start: \(lastLog)")
    }

    /// A catalog URL for a database of its own per `name` (created on first use), over TCP with the
    /// password file, or `overSocket` through the Unix socket (trusted, as a local server's socket often is).
    public func catalogURL(database name: String, overSocket: Bool = false) throws -> String {
        let database =
            "airlock_" + String(name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : "_" }).lowercased().suffix(40)
        try databases.withLock { created in
            guard !created.contains(database) else { return }
            let r = try Subprocess.run(
                "/usr/bin/psql",
                [
                    "-h", directory, "-p", String(port), "-U", "airlock", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c",
                    "CREATE DATABASE \(database)",
                ])
            guard r.succeeded || r.stderr.contains("already exists") else {
                throw TestSupportError("CREATE DATABASE \(database) failed: \(r.output)")
            }
            created.insert(database)
        }
        if overSocket { return "postgresql://airlock@:\(port)/\(database)?host=\(directory)" }
        return "postgresql://airlock@127.0.0.1:\(port)/\(database)?sslmode=disable&passwordfile=\(passwordFile)"
    }

    /// Runs SQL as the superuser on a database (for tests that look underneath the catalog).
    public func psql(_ sql: String, database: String) throws -> ProcessResult {
        try Subprocess.run(
            "/usr/bin/psql", ["-h", directory, "-p", String(port), "-U", "airlock", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])
    }

    deinit { server.kill() }
}
