import Foundation

/// SQL run on a data directory's catalog behind airlock's back, on the backend under test
/// (`TestCatalog`): to damage it, backdate it or read it as its owner could.
public enum CatalogSQL {
    /// Runs `sql` (one statement, or several separated by `;`) on the catalog of `dataDirectory`;
    /// a SELECT's rows come back one per line, columns separated by `|`.
    public static func run(_ sql: String, dataDirectory: String) throws -> ProcessResult {
        switch TestCatalog.backend {
        case .sqlite:
            let script = """
                import sqlite3, sys
                c = sqlite3.connect(sys.argv[1])
                sql = sys.argv[2]
                if sql.lstrip().upper().startswith("SELECT"):
                    for row in c.execute(sql): print("|".join("" if v is None else str(v) for v in row))
                else:
                    c.executescript(sql)
                c.commit()
                """
            return try Subprocess.run(FixtureScripts.python, ["-c", script, dataDirectory + "/catalog.sqlite", sql])
        case .postgresql:
            return try PostgresServer.shared().psql(sql, database: try database(of: dataDirectory))
        }
    }

    /// Copies the catalog of one data directory to another (made for it), as a backup would.
    public static func copy(from source: String, to target: String) throws {
        switch TestCatalog.backend {
        case .sqlite:
            let r = try Subprocess.run(
                FixtureScripts.python,
                [
                    "-c", "import sqlite3,sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))", source + "/catalog.sqlite",
                    target + "/catalog.sqlite",
                ])
            guard r.succeeded else { throw TestSupportError("copying the catalog failed: \(r.output)") }
        case .postgresql:
            let server = try PostgresServer.shared()
            let to = try database(of: target)
            _ = try server.psql("DROP DATABASE \(to)", database: "postgres")
            let r = try server.psql("CREATE DATABASE \(to) TEMPLATE \(try database(of: source))", database: "postgres")
            guard r.succeeded else { throw TestSupportError("copying the catalog failed: \(r.output)") }
        }
    }

    /// Every row of the catalog, in a stable text form: equal when nothing was written.
    public static func dump(dataDirectory: String) throws -> String {
        switch TestCatalog.backend {
        case .sqlite:
            let r = try Subprocess.run(
                FixtureScripts.python,
                [
                    "-c", "import sqlite3,sys; c=sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True); print('\\n'.join(c.iterdump()))",
                    dataDirectory + "/catalog.sqlite",
                ])
            guard r.succeeded else { throw TestSupportError("reading the catalog failed: \(r.output)") }
            return r.stdout
        case .postgresql:
            let server = try PostgresServer.shared()
            let r = try Subprocess.run(
                try PostgresServer.binaries() + "/pg_dump",
                ["-h", server.directory, "-p", String(server.port), "-U", "airlock", "--data-only", try database(of: dataDirectory)])
            guard r.succeeded else { throw TestSupportError("pg_dump failed: \(r.output)") }
            // Sequences are not content (a rolled-back insert still moves them: PostgreSQL never reuses a
            // number), nor is the random key pg_dump fences its output with (\restrict).
            return r.stdout.split(separator: "\n")
                .filter { !$0.hasPrefix("SELECT pg_catalog.setval") && !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }
                .joined(separator: "\n")
        }
    }

    private static func database(of dataDirectory: String) throws -> String {
        guard let url = try TestCatalog.url(forDataDirectory: dataDirectory), let name = URLComponents(string: url)?.path.dropFirst() else {
            throw TestSupportError("no PostgreSQL database for \(dataDirectory)")
        }
        return String(name)
    }
}
