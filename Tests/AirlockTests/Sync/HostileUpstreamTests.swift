import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// An upstream that tries what a hostile index can: links and redirects to other schemes and hosts,
/// a page dripped forever, links without hashes, a link listed twice, a filename whose tag sets
/// multiply out, and R tarballs whose links or `DESCRIPTION` try to reach beyond themselves.
@Suite(.timeLimit(.minutes(10))) struct HostileUpstreamTests {
    /// A TCP listener on 127.0.0.1 that counts the connections it gets.
    final class Listener: @unchecked Sendable {
        let process: RunningProcess
        let port: Int
        let log: String

        init(in dir: TemporaryDirectory) throws {
            log = dir.path + "/listener-hits"
            let code = """
                import socket, sys
                s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
                print("port", s.getsockname()[1], flush=True)
                while True:
                    c, _ = s.accept()
                    open(sys.argv[1], "a").write("hit\\n"); c.close()
                """
            process = try RunningProcess(FixtureScripts.python, ["-u", "-c", code, log], logPath: dir.path + "/listener.log")
            port = Int(try process.waitForLine(matching: #"port (\d+)"#))!
        }

        var hits: Int { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count }
    }

    private static let projects = ["p1", "p2", "p3", "p4", "p5", "p6", "good"]

    private func mirror() throws -> MirrorHarness {
        try MirrorHarness(Self.projects.map { PackageSpec($0, "1.0") })
    }

    @Test func otherSchemesAndHostsAreNeverFetched() throws {
        let mirror = try mirror()
        let listener = try Listener(in: mirror.dir)
        let port = listener.port
        try mirror.upstream.setFaults(
            """
            {"link": {"p1-1.0-py3-none-any.whl": "gopher://127.0.0.1:\(port)/_SET%20pwned%201",
                      "p2-1.0-py3-none-any.whl": "dict://127.0.0.1:\(port)/info",
                      "p3-1.0-py3-none-any.whl": "file:///etc/hostname"},
             "redirect": {"p4-1.0-py3-none-any.whl": "gopher://127.0.0.1:\(port)/_x",
                          "p5-1.0-py3-none-any.whl": "http://localhost:\(port)/p5-1.0-py3-none-any.whl",
                          "p6-1.0-py3-none-any.whl": "file:///etc/hostname"}}
            """)
        let r = try mirror.sync(Self.projects)
        #expect(r.status == 3, "the rest is published, these set aside: \(r.output)")
        #expect(listener.hits == 0, "no connection reached the listener")
        for (project, reason) in [
            ("p1", "is not an http(s) URL"), ("p2", "is not an http(s) URL"), ("p3", "is not an http(s) URL"), ("p4", "is not an http(s) URL"),
            ("p5", "on a host neither the upstream nor its redirect_hosts name"), ("p6", "is not an http(s) URL"),
        ] {
            #expect(
                r.stdout.contains("set aside: \(project) 1.0")
                    && r.stdout.split(separator: "\n").contains { $0.contains("set aside: \(project) 1.0") && $0.contains(reason) },
                "\(project): \(reason)\n\(r.stdout)")
        }
        #expect(!r.stdout.contains("set aside: good"), "\(r.stdout)")
        // A redirect to a host the configuration names is followed.
        let allowed = try mirror.sync(["p5"], extra: ["--redirect-host", "localhost"])
        #expect(!allowed.succeeded && !allowed.output.contains("redirect_hosts name"), "followed, then failed at the listener: \(allowed.output)")
        #expect(listener.hits >= 1)
    }

    @Test func aDuplicatedLinkAndAHugeTagSetLeaveTheSyncWhole() throws {
        let mirror = try mirror()
        let tags = (0..<400).map { "py\($0)" }.joined(separator: ".")
        let huge = "p2-1.0-\(tags)-\(tags.replacingOccurrences(of: "py", with: "abi"))-\(tags.replacingOccurrences(of: "py", with: "plat")).whl"
        #expect(huge.utf8.count > 8_000)
        try mirror.upstream.setFaults(#"{"duplicate": ["p1-1.0-py3-none-any.whl"], "phantom": {"p2": ["\#(huge)"]}}"#)
        let r = try Subprocess.run(
            FixtureScripts.python,
            [
                "-c",
                "import resource,subprocess,sys; r=subprocess.run(sys.argv[1:]); print('maxrss_kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)",
                AirlockCommand.binary, "sync", "pypi", "--upstream", mirror.upstream.simpleURL, "--data", mirror.data, "--python",
                MirrorHarness.python,
                "--policy", "none", "p1", "p2", "good",
            ],
            environment: ProcessInfo.processInfo.environment.merging(try TestCatalog.environment(forAirlock: ["--data", mirror.data])) { $1 })
        #expect(r.status == 0 || r.status == 3, "\(r.output)")
        let rss = Int(r.stdout.split(separator: "\n").last { $0.hasPrefix("maxrss_kib") }?.split(separator: " ").last ?? "") ?? .max
        #expect(rss < 512 * 1024, "peak RSS \(rss) KiB")
        #expect(r.stdout.contains("published pypi snapshot"), "\(r.output)")
        let served = try httpGetServed(mirror, "/simple/p1/")
        #expect(served.components(separatedBy: "p1-1.0-py3-none-any.whl").count - 1 >= 1, "p1 is served once: \(served)")
    }

    private func httpGetServed(_ mirror: MirrorHarness, _ path: String) throws -> String {
        let server = try mirror.serve()
        defer { server.process.stop() }
        return try httpGet(server.base + path).body
    }

    @Test func aDrippedIndexEndsAtItsTimeLimitAndTheSyncAtItsOwn() throws {
        let mirror = try mirror()
        try mirror.upstream.setFaults(#"{"drip": {"p1": 2}}"#)
        let started = Date()
        let r = try mirror.sync(["p1", "good"], extra: ["--transfer-timeout", "2s"])
        #expect(Date().timeIntervalSince(started) < 60, "ended in \(Date().timeIntervalSince(started)) s")
        #expect(!r.succeeded && r.output.contains("longer than its time limit"), "\(r.output)")
        let whole = try mirror.sync(["p1", "good"], extra: ["--sync-timeout", "3s"])
        #expect(!whole.succeeded && whole.output.contains("time limit"), "\(whole.output)")
        #expect(try mirror.snapshotIDs().isEmpty, "nothing half-resolved is published")
    }

    @Test func linksWithoutAHashAreSetAsideUnlessAllowed() throws {
        let mirror = try mirror()
        try mirror.upstream.setFaults(#"{"no_hash": ["p1-1.0-py3-none-any.whl"]}"#)
        let r = try mirror.sync(["p1", "good"])
        #expect(r.status == 3 && r.stdout.contains("set aside: p1 1.0") && r.stdout.contains("without a sha256"), "\(r.output)")
        let allowed = try mirror.sync(["p1", "good"], extra: ["--allow-unhashed"])
        #expect(allowed.succeeded, "\(allowed.output)")
    }
}

/// R tarballs that try to reach beyond themselves: a chain of links, and a `DESCRIPTION` whose bare
/// carriage returns would forge another package's record in the served `PACKAGES`.
@Suite(.timeLimit(.minutes(10))) struct HostileCRANTarballTests {
    /// Rewrites `cranevil_0.1.tar.gz` upstream with `change` (Python, on a tarfile `t` and the old members) and fixes its MD5.
    private func rewrite(_ cran: CRANHarness, _ change: String) throws {
        let tarball = cran.upstream.contrib + "/cranevil_0.1.tar.gz"
        let code = """
            import io, sys, tarfile
            path = sys.argv[1]
            old = [(m, tarfile.open(path).extractfile(m).read() if m.isfile() else None) for m in tarfile.open(path).getmembers()]
            def link(t, name, target):
                i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
            def file(t, name, data):
                i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
            with tarfile.open(path, "w:gz") as t:
            \(change.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            """
        let made = try Subprocess.run(FixtureScripts.python, ["-c", code, tarball])
        #expect(made.succeeded, "\(made.output)")
        try cran.upstream.declareRewrittenTarball(of: "cranevil")
    }

    @Test func aChainOfLinksIsSetAsideAndRWritesNothingOutside() throws {
        let cran = try CRANHarness()
        try rewrite(
            cran,
            """
            for m, data in old:
                if m.isfile(): file(t, m.name, data)
            link(t, "cranevil/a", ".."); link(t, "cranevil/a/b", ".."); link(t, "cranevil/a/b/c", "..")
            file(t, "cranevil/a/b/c/escaped.txt", b"escaped\\n")
            """)
        let r = try cran.sync(["cranevil", "cranbase"])
        #expect(
            r.status == 3 && r.stdout.contains("set aside: cranevil 0.1") && r.stdout.contains("unsafe member name 'cranevil/a/b'"), "\(r.output)")
        let server = try AirlockCommand.serve(data: cran.data, logDirectory: cran.dir.path)
        #expect(try httpGet(server.base + "/cran/latest/src/contrib/cranevil_0.1.tar.gz").status == 404)
        let work = cran.dir.sub("r-work")
        let installed = try RClient.install(
            ["cranbase", "cranevil"], repos: server.base + "/cran/latest", lib: work + "/a/b/lib",
            check: "library(cranbase); cat('RESULT:', base_greet('x'), '\\n')",
            environment: ["TMPDIR": work + "/a/b/tmp"])
        #expect(installed.output.contains("RESULT: hello x from cranbase"), "\(installed.output)")
        let escaped = try Subprocess.run("/usr/bin/find", [cran.dir.path, "-name", "escaped.txt"])
        #expect(escaped.stdout.isEmpty, "nothing was written outside: \(escaped.stdout)")
    }

    @Test func aCarriageReturnInDescriptionIsSetAsideAndPackagesListsOnlyRealRecords() throws {
        let cran = try CRANHarness()
        try rewrite(
            cran,
            """
            for m, data in old:
                if m.name == "cranevil/DESCRIPTION":
                    data = data.replace(b"License:", b"OS_type: unix\\rPackage: crgood\\rVersion: 9.9\\nLicense:")
                if m.isfile(): file(t, m.name, data)
            """)
        let r = try cran.sync(["cranevil", "cranbase"])
        #expect(r.status == 3 && r.stdout.contains("set aside: cranevil 0.1") && r.stdout.contains("carriage return"), "\(r.output)")
        let server = try AirlockCommand.serve(data: cran.data, logDirectory: cran.dir.path)
        let read = try RClient.run("d <- read.dcf(url('\(server.base)/cran/latest/src/contrib/PACKAGES')); cat('PKGS:', d[, 'Package'], '\\n')")
        #expect(read.output.contains("PKGS: cranbase \n"), "only the real record: \(read.output)")
    }
}
