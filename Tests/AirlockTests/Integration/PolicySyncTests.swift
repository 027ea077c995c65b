import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// The shipped default policy deciding a real sync, seen through pip.
@Suite(.timeLimit(.minutes(3))) struct PolicySyncTests {
    static let defaultPolicy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("policies/default.toml").path

    @Test func cooldownHoldsBackAFreshVersionAndATyposquatIsDenied() throws {
        let mirror = try MirrorHarness([
            PackageSpec("alpha", "1.0", requires: ["beta"]), PackageSpec("alpha", "1.1", requires: ["beta"]),
            PackageSpec("beta", "1.0"), PackageSpec("reqeusts", "1.0"),
        ])
        // Everything was released 400 days ago, except alpha 1.1, released just now.
        let longAgo = Date().addingTimeInterval(-400 * 86_400)
        for file in try FileManager.default.contentsOfDirectory(atPath: mirror.packages) where !file.hasPrefix("alpha-1.1") {
            try FileManager.default.setAttributes([.modificationDate: longAgo], ofItemAtPath: mirror.packages + "/" + file)
        }
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
