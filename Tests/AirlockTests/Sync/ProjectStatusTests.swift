import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// PEP 792 project status and PEP 708 tracks, end to end: the test upstream marks projects archived,
/// deprecated or quarantined (still listing a quarantined project's files, as an index that ignores
/// the marker would); airlock mirrors nothing of a quarantined project, withdraws what it served
/// before from every snapshot, and serves the status and what each project tracks at api-version 1.4.
@Suite(.timeLimit(.minutes(5))) struct ProjectStatusTests {
    func page(_ server: AirlockCommand.Server, _ path: String) throws -> [String: Any] {
        let r = try httpGet(server.base + path, headers: ["Accept: application/vnd.pypi.simple.v1+json"])
        #expect(r.status == 200, "\(path): \(r)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])
    }

    @Test(arguments: [UpstreamIndex.Kind.json, .html])
    func statusesAreReadWithdrawnAndServed(kind: UpstreamIndex.Kind) throws {
        let h = try MirrorHarness(MirrorHarness.chain, kind: kind)
        let policy = try h.openPolicy([(#"unknown = "review"       # no readable"#, #"unknown = "approve"       # no readable"#)])
        #expect(try h.sync(["alpha", "unrelated"], extra: ["--policy", policy]).succeeded)
        let server = try h.serve()
        let before = try page(server, "/simple/unrelated/")
        let oldFile = try #require((before["files"] as? [[String: Any]])?.first?["url"] as? String)
        #expect(try httpGet(server.base + oldFile).status == 200)

        try h.upstream.setFaults(
            #"{"status": {"unrelated": ["quarantined", "malware found in 1.0"], "epsilon": ["archived", ""], "beta": ["deprecated", "use gamma"]}}"#)
        let r = try h.sync(["alpha", "unrelated"], extra: ["--policy", policy])
        #expect(r.status == 3, "published, with unrelated set aside: \(r.output)")
        #expect(r.stdout.contains("set aside: unrelated") && r.stdout.contains("quarantined on the upstream: malware found in 1.0"), "\(r.output)")
        Thread.sleep(forTimeInterval: 1.2)  // the endpoint reads withdrawals at most once a second

        // Withdrawn from every snapshot, old ones too: the page lists nothing and says why; the file is gone.
        for path in ["/simple/unrelated/", "/pypi/1/simple/unrelated/"] {
            let doc = try page(server, path)
            #expect((doc["files"] as? [Any])?.isEmpty == true, "\(path): \(doc)")
            #expect((doc["project-status"] as? [String: String]) == ["status": "quarantined", "reason": "malware found in 1.0"], "\(doc)")
            #expect((doc["meta"] as? [String: Any])?["api-version"] as? String == "1.4")
        }
        #expect(try httpGet(server.base + oldFile).status == 404)
        let html = try httpGet(server.base + "/simple/unrelated/").body
        #expect(html.contains(#"<meta name="pypi:project-status" content="quarantined">"#) && html.contains("malware found in 1.0"), "\(html)")

        let epsilon = try page(server, "/simple/epsilon/")
        #expect((epsilon["project-status"] as? [String: String]) == ["status": "archived"], "\(epsilon)")
        #expect((epsilon["files"] as? [Any])?.isEmpty == false, "archived projects stay served")
        #expect((epsilon["tracks"] as? [String]) == [h.upstream.simpleURL + "epsilon/"], "\(epsilon)")
        let alpha = try page(server, "/simple/alpha/")
        #expect(alpha["project-status"] == nil && (alpha["tracks"] as? [String]) == [h.upstream.simpleURL + "alpha/"], "\(alpha)")
        #expect(try httpGet(server.base + "/simple/alpha/").body.contains("<meta name=\"pypi:tracks\" content=\"\(h.upstream.simpleURL)alpha/\">"))

        let quarantined = try AirlockCommand.run(["review", "show", "unrelated", "--data", h.data])
        #expect(
            quarantined.stdout.contains(
                "unrelated mirrors \(h.upstream.simpleURL)unrelated/; the upstream marks it quarantined (reason: malware found in 1.0)"),
            "\(quarantined.output)")
        let show = try AirlockCommand.run(["review", "show", "beta", "--data", h.data])
        #expect(show.stdout.contains("note:project_status: the upstream marks the project deprecated (reason: use gamma)"), "\(show.output)")

        // Real clients read the 1.4 pages: alpha installs; the quarantined project does not.
        let (pip, _) = try PythonClients.pipInstall(["alpha"], index: server.base + "/simple/", in: h.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        let (uv, _) = try PythonClients.uvInstall(["alpha"], index: server.base + "/simple/", in: h.dir.path)
        #expect(uv.succeeded, "\(uv.output)")
        let (refused, _) = try PythonClients.uvInstall(["unrelated"], index: server.base + "/simple/", in: h.dir.path)
        #expect(!refused.succeeded, "\(refused.output)")
    }
}
