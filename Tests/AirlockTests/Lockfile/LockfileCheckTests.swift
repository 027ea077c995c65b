import AirlockCore
import AirlockLockfile
import AirlockTestSupport
import Foundation
import Testing

/// `airlock check` on lockfiles the real tools write against the endpoint (uv pip compile with
/// hashes, pip freeze, uv lock, uv export to pylock.toml), then on pins the snapshot does not serve,
/// each named with its reason.
@Suite(.timeLimit(.minutes(5))) struct LockfileCheckTests {
    let h: MirrorHarness

    init() throws {
        h = try MirrorHarness(MirrorHarness.chain + [PackageSpec("gone", "1.0")])
        try h.backdate(days: 30)
        try h.add([PackageSpec("fresh", "1.0")])  // uploaded now: the cooldown holds it
        let policy = try h.openPolicy([
            ("cooldown_days = 0", "cooldown_days = 7"), (#"unknown = "review"       # no readable"#, #"unknown = "approve"       # no readable"#),
            ("deny = []", #"deny = ["unrelated"]"#),
        ])
        let synced = try h.sync(["alpha", "unrelated", "gone", "fresh"], extra: ["--policy", policy])
        #expect(synced.succeeded, "\(synced.output)")
        let revoked = try AirlockCommand.run(["review", "revoke", "gone", "1.0", "--data", h.data, "--reason", "CVE-2026-0001 in the wild"])
        #expect(revoked.succeeded, "\(revoked.output)")
    }

    func check(_ files: [String], _ extra: [String] = []) throws -> ProcessResult {
        try AirlockCommand.run(["check", "--data", h.data] + extra + files)
    }

    func tool(_ args: [String], in dir: String, environment: [String: String] = [:]) throws -> ProcessResult {
        let uv = try #require(Subprocess.which("uv"))
        return try Subprocess.run(uv, args, environment: Subprocess.cleanEnvironment(environment), directory: dir)
    }

    /// A project depending on alpha, locked by `uv lock` against `index`: `dir/uv.lock`.
    func uvLock(in dir: String, index: String) throws {
        try """
        [project]
        name = "demo"
        version = "0.1.0"
        requires-python = ">=3.9"
        dependencies = ["alpha"]
        """.write(toFile: dir + "/pyproject.toml", atomically: true, encoding: .utf8)
        let locked = try tool(["lock", "--default-index", index], in: dir)
        #expect(locked.succeeded, "\(locked.output)")
    }

    @Test func lockfilesTheToolsWriteAreServed() throws {
        let server = try h.serve()
        let index = server.base + "/simple/"
        let dir = h.dir.sub("locks")
        try "alpha\n".write(toFile: dir + "/requirements.in", atomically: true, encoding: .utf8)
        let compiled = try tool(["pip", "compile", "--generate-hashes", "--index-url", index, "-o", "requirements.txt", "requirements.in"], in: dir)
        #expect(compiled.succeeded, "\(compiled.output)")
        try uvLock(in: dir, index: index)
        let exported = try tool(["export", "--format", "pylock.toml", "-o", "pylock.toml", "--frozen"], in: dir)
        #expect(exported.succeeded, "\(exported.output)")
        let (pip, python) = try PythonClients.pipInstall(["alpha"], index: index, in: h.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        let frozen = try Subprocess.run(python, ["-m", "pip", "freeze"], environment: Subprocess.cleanEnvironment())
        try (frozen.succeeded ? frozen.stdout : "").write(toFile: dir + "/frozen.txt", atomically: true, encoding: .utf8)
        if !frozen.succeeded {
            // The venv has no pip of its own: freeze with the host pip pointed at it.
            let host = try Subprocess.run(
                FixtureScripts.python, ["-m", "pip", "--python", python, "freeze"], environment: Subprocess.cleanEnvironment())
            try host.stdout.write(toFile: dir + "/frozen.txt", atomically: true, encoding: .utf8)
        }
        let requirements = try String(contentsOfFile: dir + "/requirements.txt", encoding: .utf8)
        #expect(requirements.contains("alpha==1.1") && requirements.contains("--hash=sha256:"), "\(requirements)")

        for file in ["requirements.txt", "uv.lock", "pylock.toml", "frozen.txt"] {
            let r = try check([dir + "/" + file])
            #expect(r.succeeded && r.stdout.contains("4 of 4 pins served by pypi snapshot"), "\(file): \(r.output)")
        }
    }

    /// File URLs name content, not snapshots: a `uv.lock` made against one dated snapshot installs with
    /// `uv sync --frozen` after the next is published, and stops at once when a file in it is revoked.
    @Test func aUvLockSurvivesTheNextSnapshotButNotARevocation() throws {
        let server = try h.serve()
        let snapshots = try h.snapshotIDs()
        let pinned = server.base + "/pypi/\(try #require(snapshots.last))/simple/"
        let dir = h.dir.sub("frozen")
        try uvLock(in: dir, index: pinned)
        let approved = try AirlockCommand.run(["review", "approve", "fresh", "--reason", "needed", "--data", h.data])
        let after = try h.snapshotIDs()
        #expect(approved.succeeded && after.count == snapshots.count + 1, "\(approved.output)")
        func frozenSync(_ name: String) throws -> ProcessResult {
            try tool(
                ["sync", "--frozen", "--no-cache", "--python", FixtureScripts.python], in: dir,
                environment: ["UV_PROJECT_ENVIRONMENT": dir + "/" + name])
        }
        let synced = try frozenSync("env-a")
        #expect(synced.succeeded, "\(synced.output)")

        let revoked = try AirlockCommand.run([
            "review", "revoke", "epsilon", "2.0", "--data", h.data, "--reason", "CVE-2026-0002: credential stealer",
        ])
        #expect(revoked.succeeded, "\(revoked.output)")
        Thread.sleep(forTimeInterval: 1.2)
        let refused = try frozenSync("env-b")
        #expect(!refused.succeeded && refused.output.contains("404 Not Found"), "\(refused.output)")
        // uv names the file (it prints neither the response body nor a reason phrase); the file's URL
        // answers with the revocation and its reason, and airlock check names both.
        let fileURL = server.base + "/files/sha256/\(try h.digest(of: "epsilon-2.0-py3-none-any.whl").hex)/epsilon-2.0-py3-none-any.whl"
        #expect(refused.output.contains(fileURL), "\(refused.output)")
        let answer = try httpGet(fileURL)
        #expect(
            answer.status == 404 && answer.body.contains("epsilon-2.0-py3-none-any.whl was revoked by cli:")
                && answer.body.contains("CVE-2026-0002: credential stealer"), "\(answer)")
        let checked = try check([dir + "/uv.lock"])
        #expect(
            checked.status == 1 && checked.stdout.contains("epsilon") && checked.stdout.contains("CVE-2026-0002: credential stealer"),
            "\(checked.output)")
    }

    @Test func eachUnservedPinIsNamedWithItsReason() throws {
        let epsilon = try h.digest(of: "epsilon-2.0-py3-none-any.whl")
        let file = h.dir.path + "/requirements.txt"
        try """
        # pinned by hand
        epsilon==2.0 --hash=sha256:\(String(repeating: "0", count: 64))
        delta==0.9
        fresh==1.0
        unrelated==1.0
        gone==1.0
        no-such-project==1.0 \\
            --hash=sha256:\(epsilon.hex)
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try check([file, "--json"])
        #expect(r.status == 1, "\(r.output)")
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let answers = Dictionary(
            uniqueKeysWithValues: (reports.first?["answers"] as? [[String: Any]] ?? []).map { ($0["project"] as? String ?? "", $0) })
        func status(_ p: String) -> String? { answers[p]?["status"] as? String }
        func detail(_ p: String) -> String { answers[p]?["detail"] as? String ?? "" }
        #expect(status("epsilon") == "hash_mismatch", "\(answers)")
        #expect(status("delta") == "served")
        #expect(status("fresh") == "held" && detail("fresh").contains("cooldown"), "\(detail("fresh"))")
        #expect(status("unrelated") == "denied" && detail("unrelated").contains("deny list"), "\(detail("unrelated"))")
        #expect(status("gone") == "revoked" && detail("gone").contains("CVE-2026-0001 in the wild"), "\(detail("gone"))")
        #expect(
            status("no-such-project") == "never_mirrored"
                && (answers["no-such-project"]?["source"] as? String)?.hasSuffix("requirements.txt:7") == true)
        let markdown = try check([file, "--format", "markdown"])
        #expect(
            markdown.status == 1 && markdown.stdout.contains("**1 of 6 pins served by pypi snapshot")
                && markdown.stdout.contains("| fresh | 1.0 | **held** |"), "\(markdown.output)")
        // A running endpoint answers the same (POST /api/v1/check, reader role).
        let server = try h.serve()
        let token = try AirlockCommand.run(["token", "create", "--data", h.data, "--name", "ci", "--role", "reader"]).stdout
            .split(separator: "\n").first { $0.count > 20 && !$0.contains(" ") }.map(String.init)
        try (token ?? "").write(toFile: h.dir.path + "/ci.token", atomically: true, encoding: .utf8)
        let remote = try check([file, "--json", "--server", server.base, "--token-file", h.dir.path + "/ci.token"])
        #expect(remote.status == 1, "\(remote.output)")
        let remoteReports = try JSONSerialization.jsonObject(with: Data(remote.stdout.utf8)) as? [[String: Any]]
        let remoteStatuses = Dictionary(
            uniqueKeysWithValues: (remoteReports?.first?["answers"] as? [[String: Any]] ?? []).map {
                ($0["project"] as? String ?? "", $0["status"] as? String ?? "")
            })
        #expect(remoteStatuses == answers.mapValues { $0["status"] as? String ?? "" }, "--server gives the same answers as --data")
        let anonymous = try check([file, "--server", server.base])
        #expect(anonymous.status == 1 && anonymous.stderr.contains("401"), "\(anonymous.output)")
        let unpinned = h.dir.path + "/loose.txt"
        try "alpha>=1.0\n".write(toFile: unpinned, atomically: true, encoding: .utf8)
        let loose = try check([unpinned])
        #expect(loose.status == 1 && loose.stderr.contains("loose.txt:1: 'alpha>=1.0' is not pinned to one version"), "\(loose.output)")
    }

    @Test func poetryAndRenvLockfilesAreRead() throws {
        let dir = h.dir.sub("formats")
        try """
        [[package]]
        name = "Epsilon"
        version = "2.0"
        files = [{ file = "epsilon-2.0-py3-none-any.whl", hash = "sha256:\(try h.digest(of: "epsilon-2.0-py3-none-any.whl").hex)" }]
        [metadata]
        lock-version = "2.1"
        """.write(toFile: dir + "/poetry.lock", atomically: true, encoding: .utf8)
        let poetry = try check([dir + "/poetry.lock"])
        #expect(poetry.succeeded && poetry.stdout.contains("1 of 1 pins served"), "\(poetry.output)")
        try
            #"{"R": {"Version": "4.4.1", "Repositories": [{"Name": "CRAN", "URL": "http://127.0.0.1:1/cran"}]}, "Packages": {"jsonlite": {"Package": "jsonlite", "Version": "1.8.9", "Source": "Repository", "Hash": "4e993b65c2c3ffbffce7bb3e2c6f832b"}}}"#
            .write(toFile: dir + "/renv.lock", atomically: true, encoding: .utf8)
        let pins = try Lockfile.read(dir + "/renv.lock")
        #expect(pins == [LockedPin(ecosystem: .cran, project: "jsonlite", version: "1.8.9", hashes: [], source: dir + "/renv.lock: jsonlite")])
    }
}
