import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// `airlock migrate`: a SQLite installation moves to PostgreSQL whole. Its source is SQLite, so it runs
/// in the SQLite pass of the suite (the PostgreSQL pass would only repeat it).
@Suite(.enabled(if: TestCatalog.backend == .sqlite), .timeLimit(.minutes(10))) struct MigrateTests {
    @Test func anInstallationMovesToPostgreSQLWhole() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        try mirror.syncOK(["alpha==1.0", "unrelated"])
        try mirror.syncOK(["alpha"])
        let reader = try AirlockCommand.run(["token", "create", "--data", mirror.data, "--name", "ci", "--role", "reader"])
        #expect(reader.succeeded, "\(reader.output)")
        let token = reader.stdout.trimmingWhitespace()
        #expect(try AirlockCommand.run(["review", "deny", "--data", mirror.data, "unrelated", "--reason", "not needed"]).succeeded)
        #expect(try AirlockCommand.run(["review", "revoke", "--data", mirror.data, "alpha", "1.0", "--reason", "bad build"]).succeeded)
        let sourceSnapshots = try AirlockCommand.run(["snapshot", "list", "--data", mirror.data, "--json"]).stdout
        let sourceAudit = try AirlockCommand.run(["audit", "list", "--data", mirror.data, "--json"]).stdout

        let url = try PostgresServer.shared().catalogURL(database: "migrate_\(UUID().uuidString.prefix(8))")
        let migrated = try AirlockCommand.run(["migrate", "--data", mirror.data, "--to", url])
        #expect(migrated.succeeded && migrated.stdout.contains("audit log intact"), "\(migrated.output)")
        #expect(!migrated.output.contains("passwordfile") || !migrated.output.contains("airlock-test-"), "no password in the output")
        let again = try AirlockCommand.run(["migrate", "--data", mirror.data, "--to", url])
        #expect(!again.succeeded && again.stderr.contains("already holds"), "a non-empty target is refused: \(again.output)")

        let on = ["--catalog", url]
        #expect(
            try AirlockCommand.run(["snapshot", "list", "--data", mirror.data, "--json"] + on).stdout == sourceSnapshots,
            "snapshots identical by id and date")
        #expect(try AirlockCommand.run(["audit", "list", "--data", mirror.data, "--json"] + on).stdout == sourceAudit, "the same audit events")
        #expect(try AirlockCommand.run(["audit", "verify", "--data", mirror.data] + on).succeeded)
        let overrides = try AirlockCommand.run(["review", "show", "--data", mirror.data, "unrelated"] + on)
        #expect(overrides.stdout.contains("unrelated") && overrides.stdout.contains("not needed"), "\(overrides.output)")

        // Served the same: the token made on SQLite admits pip, the revoked release stays out, the bytes are the upstream's.
        let sqlite = try AirlockCommand.serve(data: mirror.data, logDirectory: mirror.dir.path)
        let postgres = try AirlockCommand.serve(data: mirror.data, logDirectory: mirror.dir.path, extraArgs: on + ["--require-auth"])
        defer {
            sqlite.process.stop()
            postgres.process.stop()
        }
        let page = try httpGet(sqlite.base + "/simple/alpha/")
        let migratedPage = try httpGet(postgres.base + "/simple/alpha/", headers: ["Authorization: Bearer \(token)"])
        #expect(page.status == 200 && migratedPage.status == 200 && page.body == migratedPage.body, "\(migratedPage)")
        #expect(!migratedPage.body.contains("alpha-1.0"), "the revocation crossed")
        let (pip, python) = try PythonClients.pipInstall(
            ["alpha"], index: "http://__token__:\(token)@127.0.0.1:\(postgres.port)/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import alpha; print(alpha.hello())").stdout.contains("alpha 1.1 + beta 1.2"))
        let wheel = "alpha-1.1-py3-none-any.whl"
        let served = try Subprocess.run(
            "/usr/bin/curl",
            [
                "-sf", "-H", "Authorization: Bearer \(token)", postgres.base + "/files/sha256/\(try mirror.digest(of: wheel).hex)/\(wheel)", "-o",
                mirror.dir.path + "/got.whl",
            ])
        #expect(served.succeeded)
        #expect(Digest.of([UInt8](try Data(contentsOf: URL(fileURLWithPath: mirror.dir.path + "/got.whl")))) == (try mirror.digest(of: wheel)))
    }
}
