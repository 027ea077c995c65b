import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// The whole pipeline with real clients: sync from an upstream on 127.0.0.1, serve, install with pip and uv.
@Suite(.timeLimit(.minutes(10))) struct PyPIMirrorTests {
    @Test func pipAndUvInstallADependencyChainFromAJSONUpstream() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        let report = try mirror.syncOK(["alpha"])
        #expect(report["releases"] as? Int == 5, "alpha 1.0 and 1.1, beta, delta and (through delta[fast]) epsilon")
        let server = try mirror.serve()

        let (pip, pipPython) = try PythonClients.pipInstall(["alpha"], index: server.base + "/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "pip install failed:\n\(pip.output)")
        let ran = try PythonClients.python(pipPython, "import alpha, epsilon; print(alpha.hello())")
        #expect(ran.stdout.trimmingWhitespace() == "alpha 1.1 + beta 1.2 + delta 0.9", "\(ran.output)")

        let (uv, uvPython) = try PythonClients.uvInstall(["alpha==1.0"], index: server.base + "/pypi/latest/simple/", in: mirror.dir.path)
        #expect(uv.succeeded, "uv pip install failed:\n\(uv.output)")
        let uvRan = try PythonClients.python(uvPython, "import alpha, beta; print(alpha.__version__, beta.__version__)")
        #expect(uvRan.stdout.trimmingWhitespace() == "1.0 1.2", "\(uvRan.output)")

        // Wheels cover every target here, so sdists were not taken.
        let page = try httpGet(server.base + "/simple/alpha/")
        #expect(page.body.contains("alpha-1.1-py3-none-any.whl"))
        #expect(!page.body.contains("alpha-1.1.tar.gz"))
    }

    @Test func htmlOnlyUpstreamThroughRealPypiserver() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain, kind: .pypiserver)
        mirror.upstream.stop()
        let html = try MirrorHarness(MirrorHarness.chain, kind: .pypiserver)
        try html.syncOK(["alpha>=1.1"])
        let server = try html.serve()
        let (pip, python) = try PythonClients.pipInstall(["alpha"], index: server.base + "/simple/", in: html.dir.path)
        #expect(pip.succeeded, "pip install failed:\n\(pip.output)")
        #expect(try PythonClients.python(python, "import alpha; print(alpha.hello())").stdout.contains("alpha 1.1"))
        // pypiserver offers no PEP 658 files: airlock read METADATA from the wheels and now serves it itself.
        let json = try httpGet(server.base + "/simple/beta/", headers: ["Accept: application/vnd.pypi.simple.v1+json"])
        #expect(json.body.contains("\"core-metadata\":{\"sha256\""))
    }

    /// A PEP 503 upstream gives neither `requires-python` nor upload times: airlock serves the core
    /// metadata's `Requires-Python` and the time it first saw each file (marked in the manifest), says so
    /// in the sync summary, and `uv pip compile --exclude-newer` resolves against it.
    @Test func fieldsAPEP503UpstreamLacksAreServedAnyway() throws {
        let mirror = try MirrorHarness(
            [
                PackageSpec("app", "1.0", requires: ["lib>=1"], requiresPython: ">=3.8"),
                PackageSpec("lib", "1.0", kinds: ["wheel", "sdist"], requiresPython: ">=3.9"),
            ],
            kind: .pypiserver)
        let before = Date()
        let r = try mirror.sync(["app"])
        #expect(r.succeeded, "\(r.output)")
        #expect(
            r.stdout.contains("gives no upload time for 2 of 2 files")
                && r.stdout.contains("gives no Requires-Python for 2 of 2 files: served from their core metadata"), "\(r.stdout)")
        let server = try mirror.serve()
        for (project, requires) in [("app", ">=3.8"), ("lib", ">=3.9")] {
            let page = try httpGet(server.base + "/simple/\(project)/", headers: ["Accept: application/vnd.pypi.simple.v1+json"])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(page.body.utf8)) as? [String: Any])
            let files = try #require(json["files"] as? [[String: Any]])
            #expect(!files.isEmpty)
            for file in files {
                #expect(file["requires-python"] as? String == requires, "\(file)")
                let uploaded = (file["upload-time"] as? String).flatMap(Timestamp.parse)
                #expect(uploaded.map { $0 >= before.addingTimeInterval(-1) && $0 <= Date() } == true, "the time airlock first saw it: \(file)")
            }
            let html = try httpGet(server.base + "/simple/\(project)/").body
            #expect(html.contains("data-requires-python=\"\(requires.replacingOccurrences(of: ">", with: "&gt;"))\""), "\(html)")
        }
        let manifest = try String(contentsOfFile: mirror.data + "/snapshots/pypi-1.json", encoding: .utf8)
        #expect(manifest.contains(#""upload_time_source" : "mirror""#), "\(manifest)")

        // A second sync keeps the first sighting: the time does not move.
        let first = try httpGet(server.base + "/simple/app/", headers: ["Accept: application/vnd.pypi.simple.v1+json"]).body
        try mirror.syncOK(["app"])
        #expect(try httpGet(server.base + "/simple/app/", headers: ["Accept: application/vnd.pypi.simple.v1+json"]).body == first)

        guard let uv = Subprocess.which("uv") else { throw TestSupportError("uv is not installed") }
        let input = mirror.dir.path + "/requirements.in"
        try "app\n".write(toFile: input, atomically: true, encoding: .utf8)
        let tomorrow = Timestamp.day(Date().addingTimeInterval(86_400))
        let compiled = try Subprocess.run(
            uv,
            [
                "pip", "compile", input, "--index-url", server.base + "/simple/", "--exclude-newer", tomorrow, "--python-version",
                MirrorHarness.python,
            ],
            environment: Subprocess.cleanEnvironment())
        #expect(compiled.succeeded && compiled.stdout.contains("app==1.0") && compiled.stdout.contains("lib==1.0"), "\(compiled.output)")
    }

    /// The summary says what is served, not only what was resolved: under the default policy nothing from
    /// a PEP 503 upstream is served at once, and the summary says why and which facts were missing.
    @Test func theSummarySaysWhatIsServedAndWhyTheRestIsHeld() throws {
        let mirror = try MirrorHarness([PackageSpec("app", "1.0", requires: ["lib>=1"]), PackageSpec("lib", "1.0")], kind: .pypiserver)
        let r = try mirror.sync(["app"], extra: ["--policy", PolicySyncTests.defaultPolicy])
        #expect(r.succeeded, "\(r.output)")
        let lines = r.stdout
        #expect(lines.contains("pypi snapshot 1: serves 0 releases of 0 projects (0 files)"), "\(lines)")
        #expect(lines.contains("this sync: 1 releases of 1 projects, 1 files"), "lib is not brought in by a release that does not pass: \(lines)")
        #expect(lines.contains("decided: 0 approved, 0 held for review, 1 denied"), "\(lines)")
        #expect(lines.contains("held because: score (1)"), "\(lines)")
        #expect(lines.contains("missing: 1 of 1 releases have no upload time from the upstream"), "\(lines)")
        #expect(lines.contains("missing: no popularity feed is imported"), "\(lines)")
        let json = try mirror.syncOK([], extra: ["--policy", PolicySyncTests.defaultPolicy])
        #expect((json["served"] as? [String: Int])?["releases"] == 0 && json["denied"] as? Int == 1, "\(json)")
    }

    @Test func unselectedProjectIsAbsentEverywhere() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        try mirror.syncOK(["alpha"])
        let server = try mirror.serve()
        let today = Timestamp.day(Date())
        for path in ["/simple/unrelated/", "/pypi/latest/simple/unrelated/", "/pypi/1/simple/unrelated/", "/pypi/\(today)/simple/unrelated/"] {
            let r = try httpGet(server.base + path)
            #expect(r.status == 404, "\(path)")
            #expect(r.body.contains("'unrelated' is not approved"), "\(path): \(r.body)")
        }
        let wheel = "unrelated-1.0-py3-none-any.whl"
        let digest = try mirror.digest(of: wheel)
        for path in ["/files/sha256/\(digest.hex)/\(wheel)", "/files/sha256/\(digest.hex)/\(wheel).metadata"] {
            #expect(try httpGet(server.base + path).status == 404, "\(path)")
        }
        #expect(!(try httpGet(server.base + "/simple/").body.contains("unrelated")))
        let (pip, _) = try PythonClients.pipInstall(["unrelated"], index: server.base + "/simple/", in: mirror.dir.path)
        #expect(!pip.succeeded)
    }

    @Test func secondSyncPublishesASecondSnapshotAndTheFirstStaysPinned() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        try mirror.syncOK(["alpha"], extra: ["--versions", "2"])
        try mirror.add([PackageSpec("alpha", "1.2", requires: ["beta>=1.0"])])
        let second = try mirror.syncOK([], extra: ["--versions", "2"])
        #expect(try mirror.snapshotIDs() == [1, 2])
        #expect(second["downloaded"] as? Int == 1, "only the new wheel is fetched: \(second)")
        #expect((second["indexNotModified"] as? Int ?? 0) >= 3, "unchanged projects cost a 304 each: \(second)")

        let server = try mirror.serve()
        let first = try httpGet(server.base + "/pypi/1/simple/alpha/").body
        #expect(first.contains("alpha-1.0-py3-none-any.whl") && first.contains("alpha-1.1-py3-none-any.whl") && !first.contains("alpha-1.2"))
        let latest = try httpGet(server.base + "/pypi/latest/simple/alpha/").body
        #expect(latest.contains("alpha-1.2-py3-none-any.whl") && !latest.contains("alpha-1.0-py3-none-any.whl"))
        #expect(try httpGet(server.base + "/pypi/\(Timestamp.day(Date()))/simple/alpha/").body == latest)
        #expect(try httpGet(server.base + "/pypi/2000-01-01/simple/").status == 404)

        let (pip, python) = try PythonClients.pipInstall(["alpha"], index: server.base + "/pypi/1/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import alpha; print(alpha.__version__)").stdout.trimmingWhitespace() == "1.1")

        let diff = try AirlockCommand.run(["snapshot", "diff", "--data", mirror.data, "1", "2"])
        #expect(diff.succeeded, "\(diff.output)")
        #expect(diff.stdout.contains("+ alpha 1.2"), "\(diff.stdout)")
        #expect(diff.stdout.contains("- alpha 1.0"), "\(diff.stdout)")
    }

    /// A resync in which nothing changed upstream asks for each project page once (the closure's
    /// projects all at once) and for nothing else: the JSON API documents are skipped by the unchanged
    /// PyPI serial, metadata files come from the store. A changed project has its document read again.
    @Test func anUnchangedResyncReadsEachProjectPageAndNothingElse() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        try mirror.syncOK(["alpha"])
        let before = try mirror.upstream.requestCounts()
        let second = try mirror.syncOK([])
        let after = try mirror.upstream.requestCounts()
        let asked = Dictionary(
            uniqueKeysWithValues: after.filter { $0.key != "/_stats" && $0.value != before[$0.key] }.map {
                ($0.key, $0.value - (before[$0.key] ?? 0))
            })
        let pages = ["/simple/alpha/", "/simple/beta/", "/simple/delta/", "/simple/epsilon/"]
        #expect(asked == Dictionary(uniqueKeysWithValues: pages.map { ($0, 1) }), "only each project page, once: \(asked)")
        #expect(second["indexUnchanged"] as? Int == 4, "\(second)")
        #expect(second["upstreamRequests"] as? Int == 4, "\(second)")
        #expect(second["published"] as? Bool == false)

        try mirror.add([PackageSpec("alpha", "1.2", requires: ["beta>=1.0"])])
        let third = try mirror.syncOK([])
        let changed = try mirror.upstream.requestCounts()
        #expect(changed["/pypi/alpha/json"] == (after["/pypi/alpha/json"] ?? 0) + 1, "alpha's serial changed: its document is read again")
        #expect(changed["/pypi/beta/json"] == after["/pypi/beta/json"], "beta's serial did not")
        #expect(third["published"] as? Bool == true, "\(third)")
    }

    @Test func unknownProjectIsAClearError() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        let r = try mirror.sync(["no-such-project"])
        #expect(!r.succeeded)
        #expect(r.stderr.contains("project 'no-such-project' (required by the stored selection) does not exist on the upstream"), "\(r.stderr)")
    }
}

/// PEP 592: yanked files are skipped unless pinned exactly, and served with their reason.
@Suite(.timeLimit(.minutes(10))) struct YankedReleaseTests {
    @Test func yankedReleaseIsServedOnlyWhenPinnedAndKeepsItsReason() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0"), PackageSpec("alpha", "1.1")], kind: .html)
        try mirror.upstream.setFaults(#"{"yanked": {"alpha-1.1-py3-none-any.whl": "broken build"}}"#)
        try mirror.syncOK(["alpha"], extra: ["--versions", "1"])
        let server = try mirror.serve()
        let unpinned = try httpGet(server.base + "/simple/alpha/").body
        #expect(unpinned.contains("alpha-1.0-py3-none-any.whl") && !unpinned.contains("alpha-1.1"), "an unpinned selection skips the yanked release")

        try mirror.syncOK(["alpha==1.1"])
        let pinned = try httpGet(server.base + "/pypi/2/simple/alpha/").body
        #expect(pinned.contains(#"data-yanked="broken build">alpha-1.1-py3-none-any.whl"#), "\(pinned)")
        let (pip, python) = try PythonClients.pipInstall(["alpha==1.1"], index: server.base + "/pypi/2/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(pip.output.contains("yanked"), "pip warns about the yanked release: \(pip.output)")
        #expect(try PythonClients.python(python, "import alpha; print(alpha.__version__)").stdout.trimmingWhitespace() == "1.1")
        let (latest, latestPython) = try PythonClients.pipInstall(["alpha"], index: server.base + "/pypi/2/simple/", in: mirror.dir.path)
        #expect(latest.succeeded, "\(latest.output)")
        #expect(
            try PythonClients.python(latestPython, "import alpha; print(alpha.__version__)").stdout.trimmingWhitespace() == "1.0",
            "pip avoids the yanked version when not pinned")
    }
}
