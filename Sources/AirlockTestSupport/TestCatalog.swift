import Foundation

/// Which catalog backend the tests run on: SQLite (the default), or PostgreSQL when the run is
/// started with `AIRLOCK_TEST_CATALOG=postgresql` (scripts/test runs the suite once each way). On
/// PostgreSQL every data directory a test makes gets a database of its own on the test run's
/// server, and every `airlock` the tests start is pointed at it (`AIRLOCK_CATALOG`), so the same
/// tests, end to end, run against both backends.
public enum TestCatalog {
    public enum Backend: String, Sendable { case sqlite, postgresql }

    public static let backend: Backend = ProcessInfo.processInfo.environment["AIRLOCK_TEST_CATALOG"].flatMap(Backend.init) ?? .sqlite

    /// The catalog URL for a data directory: nil on SQLite (the directory's own `catalog.sqlite`);
    /// over TCP with the password, or `overSocket` through the server's Unix socket.
    public static func url(forDataDirectory path: String, overSocket: Bool = false) throws -> String? {
        guard backend == .postgresql else { return nil }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        // Named after the directory (unique per test: temporary directories have random names).
        let name = absolute.split(separator: "/").suffix(2).joined(separator: "_")
        return try PostgresServer.shared().catalogURL(database: name, overSocket: overSocket)
    }

    /// The environment an `airlock` started with `args` needs to find its catalog: the data directory
    /// comes from `--data`, or from the configuration file `--config` names.
    public static func environment(forAirlock args: [String]) throws -> [String: String] {
        guard backend == .postgresql, !args.contains("--catalog") else { return [:] }
        var data: String?
        if let i = args.firstIndex(of: "--data"), i + 1 < args.count {
            data = args[i + 1]
        } else if let i = args.firstIndex(of: "--config"), i + 1 < args.count, let text = try? String(contentsOfFile: args[i + 1], encoding: .utf8),
            let match = text.firstMatch(of: /(?m)^data\s*=\s*"([^"]*)"/)
        {
            let value = String(match.1)
            data = value.hasPrefix("/") ? value : (URL(fileURLWithPath: args[i + 1]).deletingLastPathComponent().path + "/" + value)
        }
        guard let data, let url = try url(forDataDirectory: data) else { return [:] }
        return ["AIRLOCK_CATALOG": url]
    }
}
