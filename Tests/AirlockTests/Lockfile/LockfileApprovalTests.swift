import AirlockCatalog
import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// A curated set from a lockfile: `sync --lockfile` brings its pins in, `review approve --lockfile`
/// approves exactly them in one audited act, and pip installs the lockfile with `--require-hashes`.
/// Then retirement: `review stale` lists the overrides no client used, and withdrawing one
/// republishes without it.
@Suite(.timeLimit(.minutes(5))) struct LockfileApprovalTests {
    let h: MirrorHarness
    let policy: String

    init() throws {
        h = try MirrorHarness(MirrorHarness.chain)
        try h.backdate(days: 30)
        // Uploaded now: the cooldown holds both.
        try h.add([PackageSpec("fresh", "1.0", requires: ["newbie"]), PackageSpec("newbie", "1.0")])
        policy = try h.openPolicy([
            ("cooldown_days = 0", "cooldown_days = 7"), (#"unknown = "review"       # no readable"#, #"unknown = "approve"       # no readable"#),
        ])
    }

    /// `name==version --hash=…` for each wheel, as `uv pip compile --generate-hashes` writes them.
    func lockfile(_ pins: [(String, String)], hashes: [String: String] = [:]) throws -> String {
        let path = h.dir.path + "/requirements-\(UUID().uuidString.prefix(6)).txt"
        let lines = try pins.map { name, version in
            "\(name)==\(version) \\\n    --hash=sha256:\(try hashes[name] ?? h.digest(of: "\(name)-\(version)-py3-none-any.whl").hex)"
        }
        try ("# curated for the analytics team\n" + lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func auditEvents() throws -> [[String: Any]] {
        let r = try AirlockCommand.run(["audit", "list", "--data", h.data, "--json"])
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
    }

    @Test func aLockfileOfFivePinsTwoHeldBecomesInstallableWithOneCommand() throws {
        let file = try lockfile([("beta", "1.2"), ("delta", "0.9"), ("epsilon", "2.0"), ("fresh", "1.0"), ("newbie", "1.0")])
        let synced = try h.sync(["--lockfile", file], extra: ["--policy", policy])
        #expect(
            synced.succeeded && synced.stdout.contains("3 approved, 2 held for review") && synced.stdout.contains("rule:cooldown (2)"),
            "\(synced.output)")
        let before = try AirlockCommand.run(["check", "--data", h.data, file])
        #expect(before.status == 1 && before.stdout.contains("3 of 5 pins served"), "\(before.output)")
        let eventsBefore = try auditEvents().count

        let approved = try AirlockCommand.run([
            "review", "approve", "--lockfile", file, "--reason", "curated set for the analytics team", "--data", h.data,
        ])
        #expect(approved.succeeded, "\(approved.output)")
        #expect(
            approved.stdout.contains("approved fresh 1.0") && approved.stdout.contains("the policy alone: held for review: cooldown"),
            "\(approved.output)")
        #expect(
            approved.stdout.contains("approved epsilon 2.0") && approved.stdout.contains("the policy alone: approved and served"),
            "\(approved.output)")
        #expect(approved.stdout.contains("5 of 5 pins served by pypi snapshot"), "\(approved.output)")

        // One audit event for the whole lockfile, naming all five pins and what the policy said of each.
        let events = try auditEvents()
        #expect(events.count == eventsBefore + 2, "the approval and the snapshot it published: \(events.prefix(4))")
        let approval = try #require(events.first { $0["action"] as? String == "lockfile.approved" })
        let details = try #require(try JSONSerialization.jsonObject(with: Data((approval["details"] as? String ?? "").utf8)) as? [String: String])
        for name in ["beta 1.2", "delta 0.9", "epsilon 2.0", "fresh 1.0", "newbie 1.0"] {
            #expect(details["pins"]?.contains(name) == true, "\(name): \(details)")
        }
        #expect(details["pins"]?.contains("newbie 1.0") == true && details["overrides"]?.split(separator: ",").count == 5, "\(details)")
        #expect(!events.contains { ($0["action"] as? String)?.hasPrefix("override.") == true }, "no event per override")

        // pip installs the lockfile as it is, hashes required.
        let server = try h.serve()
        let (pip, python) = try PythonClients.pipInstall(["-r", file, "--require-hashes"], index: server.base + "/simple/", in: h.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import fresh, newbie, beta").succeeded)
    }

    @Test func aLockfileWithAnyBadPinApprovesNothing() throws {
        let synced = try h.sync(["fresh", "newbie", "epsilon"], extra: ["--policy", policy])
        #expect(synced.succeeded, "\(synced.output)")
        let file = try lockfile([("fresh", "1.0"), ("newbie", "1.0"), ("epsilon", "2.0")], hashes: ["newbie": String(repeating: "a", count: 64)])
        try (String(contentsOfFile: file, encoding: .utf8) + "ghost==1.0\n").write(toFile: file, atomically: true, encoding: .utf8)
        let eventsBefore = try auditEvents().count
        let refused = try AirlockCommand.run(["review", "approve", "--lockfile", file, "--reason", "try", "--data", h.data])
        #expect(refused.status != 0, "\(refused.output)")
        #expect(refused.stderr.contains(":4: no recorded file of newbie 1.0 has a hash the lockfile pins"), "\(refused.output)")
        #expect(refused.stderr.contains(":8: ghost 1.0 was never mirrored; sync it first (airlock sync pypi --lockfile"), "\(refused.output)")
        #expect(try auditEvents().count == eventsBefore, "nothing approved, nothing audited")
        let show = try AirlockCommand.run(["review", "show", "fresh", "--data", h.data])
        #expect(show.succeeded && !show.stdout.contains("override "), "\(show.output)")
        // The lockfile names what a project argument would: both together are refused.
        let both = try AirlockCommand.run(["review", "approve", "fresh", "--lockfile", file, "--reason", "try", "--data", h.data])
        #expect(both.status != 0 && both.stderr.contains("name no project"), "\(both.output)")

        // The API (reviewer role) refuses and approves the same way.
        let server = try h.serve()
        let created = try AirlockCommand.run(["token", "create", "--data", h.data, "--name", "rev", "--role", "reviewer"])
        let token = try #require(created.stdout.split(separator: "\n").first { $0.hasPrefix("airlock_") }.map(String.init))
        func post(_ lockfile: String) throws -> ProcessResult {
            let body = try JSONSerialization.data(withJSONObject: [
                "name": "requirements.txt", "content": try String(contentsOfFile: lockfile, encoding: .utf8), "reason": "via the API",
            ])
            let bodyFile = h.dir.path + "/approval-\(UUID().uuidString.prefix(6)).json"
            try body.write(to: URL(fileURLWithPath: bodyFile))
            return try Subprocess.run(
                "/usr/bin/curl",
                [
                    "-s", "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json", "--data-binary",
                    "@" + bodyFile,
                    server.base + "/api/v1/approvals/lockfile",
                ])
        }
        let apiRefused = try post(file)
        #expect(apiRefused.stdout.hasSuffix("\n400") && apiRefused.stdout.contains("ghost 1.0 was never mirrored"), "\(apiRefused.output)")
        let apiApproved = try post(try lockfile([("fresh", "1.0"), ("newbie", "1.0"), ("epsilon", "2.0")]))
        #expect(
            apiApproved.stdout.hasSuffix("\n200") && apiApproved.stdout.contains("\"allServed\"") == false
                && apiApproved.stdout.contains("\"status\":\"served\""), "\(apiApproved.output)")
    }

    @Test func unusedOverridesAreListedAndWithdrawingOneRepublishesWithoutIt() throws {
        let synced = try h.sync(["fresh", "newbie", "unrelated", "alpha"], extra: ["--policy", policy])
        #expect(synced.succeeded, "\(synced.output)")
        for (act, project, version) in [
            ("approve", "fresh", "1.0"), ("approve", "newbie", "1.0"), ("deny", "unrelated", ""), ("deny", "alpha", "1.0"),
        ] {
            let r = try AirlockCommand.run(
                ["review", act, project, "--reason", "\(act) \(project)", "--data", h.data] + (version.isEmpty ? [] : ["--versions", version]))
            #expect(r.succeeded, "\(r.output)")
        }
        // Time moves: the overrides were made 200 days ago; newbie was last downloaded 120 days ago.
        let longAgo = Timestamp.format(Date().addingTimeInterval(-200 * 86_400))
        let oldDay = DownloadCount.day(of: Date().addingTimeInterval(-120 * 86_400))
        let newbie = try h.digest(of: "newbie-1.0-py3-none-any.whl").hex
        let moved = try CatalogSQL.run(
            "UPDATE override SET created_at = '\(longAgo)'; INSERT INTO download (sha256, day, count) VALUES ('\(newbie)', '\(oldDay)', 7)",
            dataDirectory: h.data)
        #expect(moved.succeeded, "\(moved.output)")

        // Clients use fresh (pip downloads it alone) and ask for unrelated (a miss); nobody asks for alpha 1.0.
        let server = try h.serve()
        let download = try Subprocess.run(
            FixtureScripts.python,
            ["-m", "pip", "download", "--no-deps", "--index-url", server.base + "/simple/", "-d", h.dir.sub("dl"), "fresh==1.0"],
            environment: Subprocess.cleanEnvironment())
        #expect(download.succeeded, "\(download.output)")
        let asked = try httpGet(server.base + "/simple/alpha/")
        #expect(asked.status == 200, "alpha 1.1 is served; 1.0 is denied")
        let missed = try httpGet(server.base + "/pypi/latest/simple/unrelated/")
        #expect(missed.status == 404, "\(missed)")
        // The endpoint writes what it counted in batches (every 5 s).
        var stale: [[String: Any]] = []
        for _ in 0..<30 {
            Thread.sleep(forTimeInterval: 0.5)
            let r = try AirlockCommand.run(["review", "stale", "--unused-for", "90d", "--data", h.data, "--json"])
            stale = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["entries"] as? [[String: Any]] ?? []
            if stale.count == 2 { break }
        }
        let listed = Set(stale.compactMap { ($0["override"] as? [String: Any])?["project"] as? String })
        #expect(
            listed == ["newbie", "alpha"],
            "fresh was downloaded and unrelated asked for since; newbie's download is too old and nobody asked for alpha: \(stale)")
        let newbieOverride = try #require(stale.first { ($0["override"] as? [String: Any])?["project"] as? String == "newbie" })
        let id = try #require((newbieOverride["override"] as? [String: Any])?["id"] as? Int)
        #expect((newbieOverride["detail"] as? String)?.contains("no download of its 1 file(s) since") == true, "\(newbieOverride)")

        // Withdrawing newbie's approval republishes without it (fresh, needing it, is held back with it).
        let withdrawn = try AirlockCommand.run(["review", "withdraw", String(id), "--reason", "unused for 90 days", "--data", h.data])
        #expect(withdrawn.succeeded && withdrawn.stdout.contains("withdrew override \(id)"), "\(withdrawn.output)")
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try httpGet(server.base + "/simple/newbie/").status == 404)
        let again = try AirlockCommand.run(["review", "withdraw", String(id), "--reason", "twice", "--data", h.data])
        #expect(again.status != 0 && again.stderr.contains("was already withdrawn by cli:"), "\(again.output)")
        let events = try auditEvents()
        #expect(
            events.contains { $0["action"] as? String == "override.withdrawn" && ($0["details"] as? String)?.contains("unused for 90 days") == true })
        let show = try AirlockCommand.run(["review", "show", "newbie", "--data", h.data])
        #expect(show.stdout.contains("withdrawn by cli:") && show.stdout.contains("unused for 90 days"), "\(show.output)")

        // The same through the API, with a reviewer token: alpha's denial goes, and alpha 1.0 is served again.
        let created = try AirlockCommand.run(["token", "create", "--data", h.data, "--name", "rev", "--role", "reviewer"])
        let token = try #require(created.stdout.split(separator: "\n").first { $0.hasPrefix("airlock_") }.map(String.init))
        let apiStale = try httpGet(server.base + "/api/v1/stale?unused_for=90d", headers: ["Authorization: Bearer \(token)"])
        #expect(apiStale.status == 200 && apiStale.body.contains("\"alpha\"") && !apiStale.body.contains("\"newbie\""), "\(apiStale)")
        let alphaID = try #require(
            stale.first { ($0["override"] as? [String: Any])?["project"] as? String == "alpha" }.flatMap {
                ($0["override"] as? [String: Any])?["id"] as? Int
            })
        let post = try Subprocess.run(
            "/usr/bin/curl",
            [
                "-s", "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json", "-d",
                #"{"reason": "nobody needs the block"}"#,
                server.base + "/api/v1/overrides/\(alphaID)/withdrawal",
            ])
        #expect(post.stdout.hasSuffix("\n200") && post.stdout.contains("\"withdrawal\""), "\(post.output)")
        let bad = try httpGet(server.base + "/api/v1/stale?unused_for=soon", headers: ["Authorization: Bearer \(token)"])
        #expect(bad.status == 400 && bad.body.contains("unused_for takes a duration"), "\(bad)")
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try httpGet(server.base + "/simple/alpha/").body.contains("alpha-1.0"), "alpha 1.0 served again")
        #expect(try AirlockCommand.run(["audit", "verify", "--data", h.data]).succeeded)
    }
}
