import AirlockCatalog
import AirlockCore
import AirlockStore
import AirlockTestSupport
import Foundation
import Logging
import Testing

@testable import AirlockServer

/// A mirror where `gamma` was just released (the default policy holds it for review: cooldown)
/// and everything else is old enough to be approved; plus tokens of every role.
final class ReviewHarness: @unchecked Sendable {
    let mirror: MirrorHarness
    var data: String { mirror.data }

    init() throws {
        mirror = try MirrorHarness([
            PackageSpec("alpha", "1.0", requires: ["delta"]), PackageSpec("delta", "1.0"), PackageSpec("gamma", "1.0", requires: ["delta"]),
        ])
        try mirror.backdate(days: 800, except: "gamma")
        try mirror.syncOK(["alpha", "gamma"], extra: ["--policy", PolicySyncTests.defaultPolicy])
    }

    func token(_ role: String, expires: String? = nil) throws -> String {
        let r = try AirlockCommand.run(
            ["token", "create", "--data", data, "--name", "\(role)-\(UUID().uuidString.prefix(4))", "--role", role]
                + (expires.map { ["--expires", $0] } ?? []))
        #expect(r.succeeded, "\(r.output)")
        return r.stdout.trimmingWhitespace()
    }

    func api(_ method: String, _ url: String, token: String? = nil, json: String? = nil) throws -> (status: Int, body: String) {
        var args = ["-s", "-w", "\n%{http_code}", "-X", method]
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        if let json { args += ["-H", "Content-Type: application/json", "--data", json] }
        let r = try Subprocess.run("/usr/bin/curl", args + [url])
        let last = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).last ?? ""
        return (Int(last) ?? 0, String(r.stdout.dropLast(last.count + 1)))
    }

    /// Signs in to the web UI with curl: the sign-in form's CSRF token and nonce cookie, then the
    /// session. Returns the cookie jar, the sign-in status and the session's CSRF token (from the page).
    func signIn(_ base: String, token: String) throws -> (jar: String, status: Int, csrf: String?) {
        try Self.signIn(base, token: token, jarDirectory: mirror.dir.path)
    }

    static func signIn(_ base: String, token: String, jarDirectory: String) throws -> (jar: String, status: Int, csrf: String?) {
        let jar = jarDirectory + "/jar-\(UUID().uuidString.prefix(6))"
        let form = try Subprocess.run("/usr/bin/curl", ["-s", "-c", jar, base + "/ui/login"]).stdout
        let loginCSRF = Self.csrf(in: form) ?? ""
        let status =
            Int(
                try Subprocess.run(
                    "/usr/bin/curl",
                    [
                        "-s", "-o", "/dev/null", "-w", "%{http_code}", "-b", jar, "-c", jar, "-d", "csrf=\(loginCSRF)", "-d", "token=\(token)",
                        base + "/ui/login",
                    ]
                ).stdout) ?? 0
        let page = try Subprocess.run("/usr/bin/curl", ["-s", "-b", jar, base + "/ui/"]).stdout
        return (jar, status, Self.csrf(in: page))
    }

    static func csrf(in html: String) -> String? {
        html.firstMatch(of: /name="?csrf"? value="([0-9a-f]+)"/).map { String($0.1) }
    }
}

@Suite(.timeLimit(.minutes(10))) struct ReviewFlowTests {
    @Test func aMissFromPipIsQueuedAnExpiredApprovalLapsesAndARevocationReachesOldSnapshots() throws {
        let h = try ReviewHarness()
        let server = try h.mirror.serve()
        let reviewer = try h.token("reviewer")

        let (miss, _) = try PythonClients.pipInstall(["gamma"], index: server.base + "/simple/", in: h.mirror.dir.path)
        #expect(!miss.succeeded, "gamma is held for review")
        _ = try PythonClients.pipInstall(["no-such-project"], index: server.base + "/simple/", in: h.mirror.dir.path)
        let queue = try h.api("GET", server.base + "/api/v1/queue", token: reviewer)
        #expect(queue.status == 200 && queue.body.contains(#""project":"gamma""#) && queue.body.contains(#""reason":"policy""#), "\(queue.body)")
        #expect(!queue.body.contains("no-such-project"), "a name the catalog does not know is recorded, not queued")
        let misses = try h.api("GET", server.base + "/api/v1/misses", token: reviewer).body
        #expect(
            misses.contains(#""project":"gamma""#) && misses.contains(#""project":"no-such-project""#) && misses.contains("127.0.0.1"), "\(misses)")
        let project = try h.api("GET", server.base + "/api/v1/projects/pypi/gamma", token: reviewer).body
        #expect(project.contains("cooldown") && project.contains(#""closure":[{"#) && project.contains(#""project":"delta""#), "\(project)")

        // An approval for a few seconds: served now, gone from the first snapshot published after it expires.
        let expiry = Timestamp.format(Date().addingTimeInterval(4))
        let approved = try h.api(
            "POST", server.base + "/api/v1/overrides", token: reviewer,
            json: #"{"ecosystem":"pypi","project":"gamma","versions":"1.0","action":"approve","reason":"read the code","expires_at":"\#(expiry)"}"#)
        #expect(approved.status == 200, "\(approved.body)")
        let (installed, _) = try PythonClients.pipInstall(["gamma"], index: server.base + "/simple/", in: h.mirror.dir.path)
        #expect(installed.succeeded, "approved gamma installs at once: \(installed.output)")
        Thread.sleep(forTimeInterval: 4.5)
        try h.mirror.syncOK([], extra: ["--policy", PolicySyncTests.defaultPolicy])
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try httpGet(server.base + "/simple/gamma/").status == 404, "the expired approval no longer applies")

        // Revocation: alpha 1.0 vanishes from the oldest pinned snapshot too, with the reason on its file URL.
        let pinned = try httpGet(server.base + "/pypi/1/simple/alpha/").body
        let fileURL = try #require(pinned.firstMatch(of: /href="([^"#]+)/).map { server.base + String($0.1) })
        let revoked = try AirlockCommand.run(["review", "revoke", "--data", h.data, "alpha", "1.0", "--reason", "malware found in 1.0"])
        #expect(revoked.succeeded, "\(revoked.output)")
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try httpGet(server.base + "/pypi/1/simple/alpha/").status == 404, "no version of alpha is left in snapshot 1")
        let file = try httpGet(fileURL)
        #expect(file.status == 404 && file.body.contains("malware found in 1.0"), "\(file)")
        #expect(try h.api("GET", server.base + "/api/v1/revocations", token: reviewer).body.contains("malware found in 1.0"))

        let audit = try AirlockCommand.run(["audit", "list", "--data", h.data])
        for action in ["snapshot.published", "policy.changed", "override.approve", "release.revoked", "token.created"] {
            #expect(audit.stdout.contains(action), "\(action) missing from:\n\(audit.stdout)")
        }
        #expect(try AirlockCommand.run(["audit", "verify", "--data", h.data]).succeeded)
    }

    @Test func approvingWithDependenciesTakesTheClosureTogether() throws {
        let h = try ReviewHarness()
        // deny delta, then approve gamma with its closure: delta comes back with it, atomically.
        #expect(try AirlockCommand.run(["review", "deny", "--data", h.data, "delta", "--reason", "pending audit"]).succeeded)
        let approve = try AirlockCommand.run([
            "review", "approve", "--data", h.data, "gamma", "--reason", "needed by the team", "--with-dependencies",
        ])
        #expect(approve.succeeded, "\(approve.output)")
        #expect(approve.stdout.contains("approved gamma") && approve.stdout.contains("approved delta"), "\(approve.stdout)")
        let show = try AirlockCommand.run(["review", "show", "--data", h.data, "gamma"])
        #expect(show.stdout.contains("gamma 1.0: REVIEW") && show.stdout.contains("served"), "\(show.stdout)")
        #expect(!(try AirlockCommand.run(["review", "approve", "--data", h.data, "gamma", "--reason", " "]).succeeded), "a reason is mandatory")
    }
}

@Suite(.timeLimit(.minutes(10))) struct AuthorizationTests {
    @Test func everyWriteRouteRefusesMissingWrongExpiredAndUnderPrivilegedTokens() throws {
        let h = try ReviewHarness()
        let server = try h.mirror.serve()
        let reader = try h.token("reader")
        let reviewer = try h.token("reviewer")
        let admin = try h.token("admin")
        // Tokens cannot be created already expired: this one expires two seconds from now.
        let expired = try h.token("admin", expires: Timestamp.format(Date().addingTimeInterval(2)))
        Thread.sleep(forTimeInterval: 2.5)
        let writes: [(String, String, String, minimum: String)] = [
            ("POST", "/api/v1/overrides", #"{"ecosystem":"pypi","project":"gamma","action":"approve","reason":"x"}"#, "reviewer"),
            ("POST", "/api/v1/revocations", #"{"ecosystem":"pypi","project":"alpha","version":"1.0","reason":"x"}"#, "reviewer"),
            ("POST", "/api/v1/tokens", #"{"name":"n","role":"reader"}"#, "admin"),
            ("DELETE", "/api/v1/tokens/1", "", "admin"),
        ]
        for (method, path, body, minimum) in writes {
            let json = body.isEmpty ? nil : body
            #expect(try h.api(method, server.base + path, json: json).status == 401, "\(method) \(path) without a token")
            #expect(try h.api(method, server.base + path, token: "airlock_wrong", json: json).status == 401, "\(method) \(path) with a wrong token")
            #expect(try h.api(method, server.base + path, token: expired, json: json).status == 401, "\(method) \(path) with an expired token")
            #expect(try h.api(method, server.base + path, token: reader, json: json).status == 403, "\(method) \(path) as reader")
            if minimum == "admin" {
                #expect(try h.api(method, server.base + path, token: reviewer, json: json).status == 403, "\(method) \(path) as reviewer")
            }
        }
        #expect(try h.api("GET", server.base + "/api/v1/queue", token: reader).status == 403)
        #expect(try h.api("GET", server.base + "/api/v1/tokens", token: admin).status == 200)

        // The UI: sign-in refuses wrong, expired and under-privileged tokens; a session's forms need its CSRF token;
        // a raw token in the cookie is no session.
        #expect(try h.signIn(server.base, token: "airlock_wrong").status == 401)
        #expect(try h.signIn(server.base, token: expired).status == 401)
        #expect(try h.signIn(server.base, token: reader).status == 403)
        let session = try h.signIn(server.base, token: reviewer)
        #expect(session.status == 303 && session.csrf != nil)
        for path in ReviewUI.writeRoutes {
            let form = ["ecosystem=pypi", "project=gamma", "version=1.0", "reason=x", "action=approve"].flatMap { ["-d", $0] }
            func post(_ cookie: [String], csrf: String? = nil) throws -> Int {
                let args =
                    ["-s", "-o", "/dev/null", "-w", "%{http_code}"] + cookie + form + (csrf.map { ["-d", "csrf=\($0)"] } ?? []) + [server.base + path]
                return Int(try Subprocess.run("/usr/bin/curl", args).stdout) ?? 0
            }
            #expect(try post([]) == 401, "\(path) without a session")
            #expect(try post(["-b", "airlock_session=\(reviewer)"]) == 401, "\(path) with the raw token as cookie")
            #expect(try post(["-b", session.jar]) == 403, "\(path) without the CSRF token")
            #expect(try post(["-b", session.jar], csrf: "0000") == 403, "\(path) with a wrong CSRF token")
        }
        try eventually("failed sign-ins reach the audit log") {
            let events = try AirlockCommand.run(["audit", "list", "--data", h.data, "--limit", "500"]).stdout
            return events.contains("login.failed") && !events.contains("airlock_wrong")
        }
    }

    @Test func installsCanRequireATokenGivenAsBasicAuth() throws {
        let h = try ReviewHarness()
        let reader = try h.token("reader")
        let process = try RunningProcess(
            AirlockCommand.binary, ["serve", "--data", h.data, "--port", "0", "--require-auth"], logPath: h.mirror.dir.path + "/serve-auth.log")
        let port = Int(try process.waitForLine(matching: #"airlock serving http://127\.0\.0\.1:(\d+)/"#))!
        #expect(try httpGet("http://127.0.0.1:\(port)/simple/alpha/").status == 401)
        let (refused, _) = try PythonClients.pipInstall(["alpha"], index: "http://127.0.0.1:\(port)/simple/", in: h.mirror.dir.path)
        #expect(!refused.succeeded)
        let (pip, python) = try PythonClients.pipInstall(
            ["alpha"], index: "http://__token__:\(reader)@127.0.0.1:\(port)/simple/", in: h.mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import alpha; print('ok')").stdout.contains("ok"))
        #expect(try httpGet("http://127.0.0.1:\(port)/healthz").status == 200)
    }
}

@Suite struct AuditLogTests {
    /// Edits the audit log as someone with the database's own access could: its guards dropped first.
    private func tamper(_ data: String, _ sql: String) throws {
        let dropGuards =
            TestCatalog.backend == .sqlite ? "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;" : "DROP TRIGGER audit_no_update ON audit;"
        let r = try CatalogSQL.run(dropGuards + " " + sql, dataDirectory: data)
        #expect(r.succeeded, "\(r.output)")
    }

    @Test func verifyDetectsAnEditADeletionAndASwap() throws {
        let dir = try TemporaryDirectory("airlock-audit")
        let data = dir.path + "/data"
        for name in ["a", "b", "c", "d"] {
            #expect(try AirlockCommand.run(["token", "create", "--data", data, "--name", name, "--role", "reader"]).succeeded)
        }
        #expect(try AirlockCommand.run(["audit", "verify", "--data", data]).stdout.contains("intact: 4 events"))
        let cases = [
            (
                "edited", "UPDATE audit SET details = replace(details, 'reader', 'readex') WHERE id = 2",
                "event 2: its content does not match its hash"
            ),
            ("deleted", "DELETE FROM audit WHERE id = 2", "event 3: expected event 2 here"),
            (
                "swapped",
                """
                UPDATE audit SET id = -1 WHERE id = 2; UPDATE audit SET id = 2 WHERE id = 3; UPDATE audit SET id = 3 WHERE id = -1;
                """, "event 2: does not follow the event before it"
            ),
        ]
        for (label, sql, problem) in cases {
            let copy = dir.path + "/" + label
            try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
            try CatalogSQL.copy(from: data, to: copy)
            try tamper(copy, sql)
            let r = try AirlockCommand.run(["audit", "verify", "--data", copy])
            #expect(!r.succeeded, "\(label): verify must fail")
            #expect(r.stderr.contains(problem), "\(label): \(r.stderr)")
        }
        let appendOnly = try CatalogSQL.run("DELETE FROM audit", dataDirectory: data)
        #expect(!appendOnly.succeeded && appendOnly.output.contains("append-only"), "the catalog itself refuses edits: \(appendOnly.output)")
    }
}

@Suite struct OpenAPIParityTests {
    @Test func theDocumentListsExactlyTheRoutesTheEndpointServes() async throws {
        let dir = try TemporaryDirectory("airlock-openapi")
        let endpoint = Endpoint(
            catalog: try await CatalogFixture.open(dir.path), store: try FileSystemBlobStore(root: dir.path + "/blobs"), logger: Logger(label: "t"),
            options: EndpointOptions(dataDirectory: dir.path))
        let served = endpoint.apiRoutes()
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.text.utf8)) as? [String: Any])
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, ops in ops.keys.map { "\($0.uppercased()) \(path)" } })
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served))")
        #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented))")
        #expect(served.count == ReviewAPI.routes.count)
    }
}

/// The web UI in real Chromium: a reviewer signs in with a token, opens the queue and the project,
/// approves it with a reason; pip then installs it. Screenshots go to .build/test-artifacts/ui/.
@Suite(.timeLimit(.minutes(10))) struct BrowserReviewTests {
    @Test func aReviewerApprovesInChromiumAndPipInstalls() throws {
        let h = try ReviewHarness()
        let server = try h.mirror.serve()
        let (miss, _) = try PythonClients.pipInstall(["gamma"], index: server.base + "/simple/", in: h.mirror.dir.path)
        #expect(!miss.succeeded)
        let shots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/test-artifacts/ui").path
        let r = try Subprocess.run(
            FixtureScripts.python, [FixtureScripts.path("review_in_browser"), server.base, try h.token("reviewer"), "gamma", shots])
        #expect(r.stdout.contains("APPROVED"), "\(r.output)")
        #expect(FileManager.default.fileExists(atPath: shots + "/queue.png") && FileManager.default.fileExists(atPath: shots + "/project.png"))
        let (pip, python) = try PythonClients.pipInstall(["gamma"], index: server.base + "/simple/", in: h.mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import gamma; print(gamma.__version__)").stdout.trimmingWhitespace() == "1.0")
    }
}

/// Every page of the web UI in real Chromium (Playwright), each checked with axe-core for serious or
/// critical accessibility violations and against the Content-Security-Policy: the landing page, sign-in
/// by keyboard, the queue, a search, a project page with its chart and factor bars, snapshots and a
/// diff, a later page of the audit log, misses, unused overrides and a lockfile check. Screenshots go
/// to .build/test-artifacts/ui-tour/ (the ones in docs/screenshots/ come from here).
@Suite(.timeLimit(.minutes(10))) struct UITourTests {
    @Test func everyPageRendersAccessiblyInChromium() throws {
        let h = try ReviewHarness()
        // A second snapshot, which adds zeta, for the diff page.
        try h.mirror.add([PackageSpec("zeta", "1.0")])
        try h.mirror.backdate(days: 800, except: "gamma")
        try h.mirror.syncOK(["zeta"], extra: ["--policy", PolicySyncTests.defaultPolicy])
        let server = try h.mirror.serve()
        let (miss, _) = try PythonClients.pipInstall(["gamma"], index: server.base + "/simple/", in: h.mirror.dir.path)
        #expect(!miss.succeeded)
        let (pip, _) = try PythonClients.pipInstall(["alpha"], index: server.base + "/simple/", in: h.mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        // An approval of delta made 200 days ago that nobody used since (its downloads are dropped once counted).
        #expect(try AirlockCommand.run(["review", "approve", "delta", "--reason", "vendored build tool", "--data", h.data]).succeeded)
        let delta = try h.mirror.digest(of: "delta-1.0-py3-none-any.whl").hex
        try eventually("the endpoint wrote its download counts") {
            try CatalogSQL.run("SELECT count(*) FROM download WHERE sha256 = '\(delta)'", dataDirectory: h.data).stdout.trimmingWhitespace() != "0"
        }
        let moved = try CatalogSQL.run(
            "DELETE FROM download WHERE sha256 = '\(delta)'; UPDATE override SET created_at = '\(Timestamp.format(Date().addingTimeInterval(-200 * 86_400)))'",
            dataDirectory: h.data)
        #expect(moved.succeeded, "\(moved.output)")
        for i in 0..<50 {  // enough events for a second page of the audit log
            #expect(try AirlockCommand.run(["token", "create", "--data", h.data, "--name", "ci-\(i)", "--role", "reader"]).succeeded)
        }
        let created = try AirlockCommand.run(["token", "create", "--data", h.data, "--name", "ui-reviewer", "--role", "reviewer"])
        let lockfile = h.mirror.dir.path + "/requirements.txt"
        try "alpha==1.0\ngamma==1.0\n".write(toFile: lockfile, atomically: true, encoding: .utf8)
        let shots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/test-artifacts/ui-tour").path
        let r = try Subprocess.run(
            FixtureScripts.python, [FixtureScripts.path("ui_tour"), server.base, created.stdout.trimmingWhitespace(), "ui-reviewer", lockfile, shots])
        #expect(r.succeeded && r.stdout.contains("TOUR OK"), "\(r.output)")
        for name in ["landing", "login", "queue", "search", "project", "snapshot-diff", "audit-page-2", "misses", "stale", "check"] {
            #expect(FileManager.default.fileExists(atPath: shots + "/\(name).png"), "\(name).png")
        }
    }
}
