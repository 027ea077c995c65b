import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// The shipped default policy deciding a real sync, seen through pip.
@Suite(.timeLimit(.minutes(10))) struct PolicySyncTests {
    static let defaultPolicy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("policies/default.toml").path

    @Test func cooldownHoldsBackAFreshVersionAndATyposquatIsDenied() throws {
        let mirror = try MirrorHarness([
            PackageSpec("alpha", "1.0", requires: ["beta"]), PackageSpec("alpha", "1.1", requires: ["beta"]),
            PackageSpec("beta", "1.0"), PackageSpec("reqeusts", "1.0"),
        ])
        // Everything was released 400 days ago, except alpha 1.1, released just now.
        try mirror.backdate(days: 400, except: "alpha-1.1")
        let report = try mirror.syncOK(["alpha", "reqeusts"], extra: ["--policy", Self.defaultPolicy])
        #expect(report["releases"] as? Int == 4, "every release is recorded and decided, served or not")

        let server = try mirror.serve()
        let alpha = try httpGet(server.base + "/simple/alpha/").body
        #expect(alpha.contains("alpha-1.0-py3-none-any.whl") && !alpha.contains("alpha-1.1"), "the fresh release is held back: \(alpha)")
        #expect(try httpGet(server.base + "/simple/reqeusts/").status == 404)

        let (pip, python) = try PythonClients.pipInstall(["alpha"], index: server.base + "/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import alpha, beta; print(alpha.__version__)").stdout.trimmingWhitespace() == "1.0")

        let manifest = try #require(report["manifest"] as? String)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifest))) as? [String: Any])
        #expect((doc["policy_digest"] as? String)?.hasPrefix("sha256:") == true)
        let files = try #require(doc["files"] as? [[String: Any]])
        #expect(Set(files.compactMap { $0["project"] as? String }) == ["alpha", "beta"])
        #expect(files.allSatisfy { $0["decision"] as? String == "approve" })
    }

    @Test func aBrokenPolicyStopsTheSyncBeforeItStarts() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0")])
        let broken = mirror.dir.path + "/broken.toml"
        try String(contentsOfFile: Self.defaultPolicy, encoding: .utf8).replacingOccurrences(of: "deny_below = 30", with: "deny_below = \"low\"")
            .write(toFile: broken, atomically: true, encoding: .utf8)
        let r = try mirror.sync(["alpha"], extra: ["--policy", broken])
        #expect(!r.succeeded)
        #expect(r.stderr.contains("broken.toml:"), "\(r.stderr)")
        #expect(r.stderr.contains("field 'thresholds.deny_below' should be a number"), "\(r.stderr)")
        #expect(try mirror.upstream.requestCounts().keys.filter { $0 != "/_stats" }.isEmpty, "nothing was fetched under a half-loaded policy")
    }
}

/// Feeds imported between syncs change what the next snapshot serves.
@Suite(.timeLimit(.minutes(10))) struct FeedSyncTests {
    @Test func aVulnerableVersionDisappearsOnceOSVIsImportedAndAPopularProjectIsApproved() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0"), PackageSpec("alpha", "1.1"), PackageSpec("solo", "1.0")])
        try mirror.backdate(days: 800)
        let policy = PolicySyncTests.defaultPolicy
        try mirror.syncOK(["alpha", "solo"], extra: ["--policy", policy])
        let server = try mirror.serve()
        #expect(try httpGet(server.base + "/pypi/1/simple/alpha/").body.contains("alpha-1.1-py3-none-any.whl"))

        let osv = mirror.dir.path + "/osv"
        try FileManager.default.createDirectory(atPath: osv, withIntermediateDirectories: true)
        try Data(FeedTests.osvRecord(events: #"[{"introduced": "1.1"}, {"fixed": "1.2"}]"#)).write(
            to: URL(fileURLWithPath: osv + "/GHSA-test-0001.json"))
        let imported = try AirlockCommand.run(["feeds", "import", "osv", osv, "--data", mirror.data])
        #expect(imported.succeeded, "\(imported.output)")
        try "project,downloads\nsolo,2000000\nalpha,50000\n".write(toFile: mirror.dir.path + "/downloads.csv", atomically: true, encoding: .utf8)
        #expect(try AirlockCommand.run(["feeds", "import", "popularity", mirror.dir.path + "/downloads.csv", "--data", mirror.data]).succeeded)

        try mirror.syncOK([], extra: ["--policy", policy])
        let alpha = try httpGet(server.base + "/pypi/2/simple/alpha/").body
        #expect(
            alpha.contains("alpha-1.0-py3-none-any.whl") && !alpha.contains("alpha-1.1"),
            "the vulnerable release is gone from the new snapshot: \(alpha)")
        #expect(
            try httpGet(server.base + "/pypi/1/simple/alpha/").body.contains("alpha-1.1"),
            "the old snapshot is unchanged (revocation is a separate act)")
        let (pip, python) = try PythonClients.pipInstall(["alpha", "solo"], index: server.base + "/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import alpha, solo; print(alpha.__version__)").stdout.trimmingWhitespace() == "1.0")
    }
}

/// Secure by default: with no policy named, sync decides under the policy built into the binary;
/// serving everything takes an explicit `none`, which is logged and audited.
@Suite(.timeLimit(.minutes(10))) struct DefaultPolicyTests {
    @Test func withoutAPolicyTheBuiltInOneDecidesAndNoneIsAudited() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0"), PackageSpec("fresh", "1.0")])
        try mirror.backdate(days: 800, except: "fresh")
        let r = try AirlockCommand.run([
            "sync", "pypi", "--upstream", mirror.upstream.simpleURL, "--data", mirror.data, "--python", MirrorHarness.python, "alpha", "fresh",
            "--json",
        ])
        #expect(r.succeeded, "\(r.output)")
        let held = ((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["held"] as? [String: String]) ?? [:]
        let server = try mirror.serve()
        #expect(try httpGet(server.base + "/simple/alpha/").status == 200)
        #expect(
            try httpGet(server.base + "/simple/fresh/").status == 404, "a release published minutes ago waits out the built-in cooldown: held \(held)"
        )
        let check = try AirlockCommand.run(["policy", "check", "--data", mirror.data, "fresh"])
        #expect(check.succeeded && check.stdout.contains("fresh 1.0: REVIEW") && check.stdout.contains("cooldown"), "\(check.output)")
        let fresh = try MirrorHarness([PackageSpec("beta", "1.0")])
        let out = try AirlockCommand.run(["policy", "check", "--data", fresh.data, "beta"])
        #expect(!out.succeeded && out.stderr.contains("no recorded release of 'beta'"), "works out of the box, before any sync: \(out.output)")

        try mirror.syncOK(["fresh"], extra: ["--policy", "none"])
        Thread.sleep(forTimeInterval: 1.2)  // `latest` is re-resolved at most once a second
        #expect(try httpGet(server.base + "/simple/fresh/").status == 200, "with policy none, everything selected is served")
        let audit = try AirlockCommand.run(["audit", "list", "--data", mirror.data])
        #expect(audit.stdout.contains("policy.none"), "\(audit.output)")
    }
}

/// `airlock policy check` and `airlock policy test` against a synced catalog.
@Suite(.timeLimit(.minutes(10))) struct PolicyCommandTests {
    @Test func checkExplainsAndTestListsExactlyTheFlippedReleases() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0"), PackageSpec("alpha", "1.1"), PackageSpec("beta", "1.0")])
        try mirror.backdate(days: 800)
        try mirror.syncOK(["alpha", "beta"], extra: ["--policy", PolicySyncTests.defaultPolicy])

        let check = try AirlockCommand.run(["policy", "check", "--data", mirror.data, "alpha==1.0", "--json"])
        #expect(check.succeeded, "\(check.output)")
        let checked = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [[String: Any]])
        let decision = try #require(checked.first?["decision"] as? [String: Any])
        #expect(decision["verdict"] as? String == "approve")
        let factors = (decision["factors"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(["maturity", "release_age", "activity", "maintainers", "popularity", "score"].allSatisfy(factors.contains), "\(factors)")
        let text = try AirlockCommand.run(["policy", "check", "--data", mirror.data, "alpha"])
        #expect(text.stdout.contains("alpha 1.0: APPROVE") && text.stdout.contains("alpha 1.1: APPROVE"), "\(text.stdout)")

        let stricter = mirror.dir.path + "/stricter.toml"
        try String(contentsOfFile: PolicySyncTests.defaultPolicy, encoding: .utf8).replacingOccurrences(of: "deny = []", with: "deny = [\"alpha\"]")
            .write(toFile: stricter, atomically: true, encoding: .utf8)
        let test = try AirlockCommand.run(["policy", "test", "--data", mirror.data, "--policy", stricter, "--json"])
        #expect(test.succeeded, "\(test.output)")
        let changes = try #require(try JSONSerialization.jsonObject(with: Data(test.stdout.utf8)) as? [[String: Any]])
        #expect(
            changes.map { "\($0["project"]!) \($0["version"]!) \($0["from"]!)→\($0["to"]!)" }.sorted() == [
                "alpha 1.0 approve→deny", "alpha 1.1 approve→deny",
            ])
        #expect(
            try AirlockCommand.run(["policy", "test", "--data", mirror.data, "--policy", PolicySyncTests.defaultPolicy]).stdout.contains(
                "no verdict changes"))
        #expect(try mirror.snapshotIDs() == [1], "a dry run publishes nothing")
    }
}

/// With `serve_as_yanked`, a vulnerable release stays installable when pinned, with a warning.
@Suite(.timeLimit(.minutes(10))) struct YankedByPolicyTests {
    @Test func vulnerableReleaseIsServedYankedInTheNewSnapshotOnly() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0"), PackageSpec("alpha", "1.1")])
        try mirror.backdate(days: 800)
        let policy = mirror.dir.path + "/yanking.toml"
        try String(contentsOfFile: PolicySyncTests.defaultPolicy, encoding: .utf8).replacingOccurrences(
            of: "serve_as_yanked = false", with: "serve_as_yanked = true"
        )
        .write(toFile: policy, atomically: true, encoding: .utf8)
        try mirror.syncOK(["alpha"], extra: ["--policy", policy])
        try Data(FeedTests.osvRecord(events: #"[{"introduced": "1.1"}, {"fixed": "1.2"}]"#)).write(
            to: URL(fileURLWithPath: mirror.dir.path + "/GHSA.json"))
        #expect(try AirlockCommand.run(["feeds", "import", "osv", mirror.dir.path + "/GHSA.json", "--data", mirror.data]).succeeded)
        try mirror.syncOK([], extra: ["--policy", policy])

        let server = try mirror.serve()
        let now = try httpGet(server.base + "/pypi/2/simple/alpha/").body
        #expect(now.contains(#"data-yanked="airlock: known vulnerability: GHSA-test-0001"#), "\(now)")
        #expect(!(try httpGet(server.base + "/pypi/1/simple/alpha/").body.contains("data-yanked")), "snapshot 1 is unchanged")
        let (pinned, python) = try PythonClients.pipInstall(["alpha==1.1"], index: server.base + "/pypi/2/simple/", in: mirror.dir.path)
        #expect(pinned.succeeded, "\(pinned.output)")
        #expect(pinned.output.contains("known vulnerability"), "pip shows the reason: \(pinned.output)")
        #expect(try PythonClients.python(python, "import alpha; print(alpha.__version__)").stdout.trimmingWhitespace() == "1.1")
        let (unpinned, newest) = try PythonClients.pipInstall(["alpha"], index: server.base + "/pypi/2/simple/", in: mirror.dir.path)
        #expect(unpinned.succeeded)
        #expect(try PythonClients.python(newest, "import alpha; print(alpha.__version__)").stdout.trimmingWhitespace() == "1.0")
    }
}

/// A dependency whose newest release is held back resolves to the newest one that passes.
@Suite(.timeLimit(.minutes(10))) struct PolicyAwareResolutionTests {
    @Test func heldBackDependencyFallsBackToThePreviousVersion() throws {
        let mirror = try MirrorHarness([
            PackageSpec("app", "1.0", requires: ["lib>=1.0"]), PackageSpec("lib", "1.0"), PackageSpec("lib", "1.1"),
        ])
        try mirror.backdate(days: 800, except: "lib-1.1")
        let report = try mirror.syncOK(["app"], extra: ["--policy", PolicySyncTests.defaultPolicy, "--versions", "1"])
        #expect(report["releases"] as? Int == 3, "lib 1.1 is recorded (and explained) though held back: \(report)")
        let server = try mirror.serve()
        let lib = try httpGet(server.base + "/simple/lib/").body
        #expect(lib.contains("lib-1.0-py3-none-any.whl") && !lib.contains("lib-1.1"), "\(lib)")
        let (pip, python) = try PythonClients.pipInstall(["app"], index: server.base + "/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import app, lib; print(lib.__version__)").stdout.trimmingWhitespace() == "1.0")
        let check = try AirlockCommand.run(["policy", "check", "--data", mirror.data, "lib==1.1"])
        #expect(check.stdout.contains("lib 1.1: REVIEW") && check.stdout.contains("held back until"), "\(check.stdout)")
    }
}
