import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// R binaries for Linux from a binary upstream: binaries built in the test with `R CMD INSTALL --build`,
/// served by a repository in Posit Package Manager's layout that answers binaries to R only; airlock
/// mirrors those of the approved sources (refusing, by its `Built:` field or its package name, a binary
/// that is not what it claims) and R installs them from `/cran/__linux__/{distro}/latest` with no
/// compiler, on the connected side and on an air-gapped replica fed by a bundle; another R version, or a
/// client that is not R, gets the sources.
@Suite(.timeLimit(.minutes(10))) struct CRANBinaryTests {
    /// The machine's R minor version (`4.2`).
    static let rMinor: String = {
        let r = try? RClient.run("cat(R.version$major, strsplit(R.version$minor, '.', fixed = TRUE)[[1]][1], sep = '.')")
        return r?.stdout.trimmingWhitespace() ?? "4.4"
    }()

    /// Builds binaries of the upstream's current tarballs (in dependency order) into a directory laid out
    /// as Package Manager's `__linux__/bookworm/latest/src/contrib`, and tampers with two of them.
    func binaryRepository(_ cran: CRANHarness) throws -> String {
        let r = try #require(Subprocess.which("R"))
        let builds = cran.dir.sub("binary-builds")
        let lib = cran.dir.sub("binary-lib")
        let root = cran.dir.sub("binaries")
        let contrib = root + "/__linux__/bookworm/latest/src/contrib"
        try FileManager.default.createDirectory(atPath: contrib, withIntermediateDirectories: true)
        for file in ["cranbase_1.1.tar.gz", "cranlink_0.1.tar.gz", "cranc_0.2.tar.gz", "cranapp_1.0.tar.gz"] {
            let built = try Subprocess.run(
                r, ["CMD", "INSTALL", "--build", "-l", lib, cran.upstream.contrib + "/" + file], environment: Subprocess.cleanEnvironment(),
                directory: builds)
            #expect(built.succeeded, "\(built.output)")
            let binary = try #require(try FileManager.default.contentsOfDirectory(atPath: builds).first { $0.hasPrefix(file.dropLast(7) + "_R_") })
            try FileManager.default.copyItem(atPath: builds + "/" + binary, toPath: contrib + "/" + file)
        }
        // cranlink's binary claims another R version; "cranapp_1.0.tar.gz" holds cranbase's binary.
        let tamper = try Subprocess.run(
            FixtureScripts.python,
            [
                "-c",
                """
                import io, sys, tarfile
                path = sys.argv[1]
                members = []
                with tarfile.open(path) as t:
                    for m in t.getmembers():
                        data = t.extractfile(m).read() if m.isfile() else None
                        if m.name == 'cranlink/DESCRIPTION':
                            lines = [('Built: R 3.6.0; ; 2020-01-01 00:00:00 UTC; unix' if l.startswith('Built:') else l) for l in data.decode().split('\\n')]
                            data = '\\n'.join(lines).encode()
                            m.size = len(data)
                        members.append((m, data))
                with tarfile.open(path, 'w:gz') as t:
                    for m, data in members:
                        t.addfile(m, io.BytesIO(data) if data is not None else None)
                """, contrib + "/cranlink_0.1.tar.gz",
            ])
        #expect(tamper.succeeded, "\(tamper.output)")
        let written = try RClient.run("tools::write_PACKAGES('\(contrib)', type = 'source')")
        #expect(written.succeeded, "\(written.output)")
        try FileManager.default.removeItem(atPath: contrib + "/cranapp_1.0.tar.gz")
        try FileManager.default.copyItem(atPath: contrib + "/cranbase_1.1.tar.gz", toPath: contrib + "/cranapp_1.0.tar.gz")
        // The index lists cranapp 1.0 without a checksum, so only what the tarball holds is wrong.
        let index = try String(contentsOfFile: contrib + "/PACKAGES", encoding: .utf8).components(separatedBy: "\n\n").map { record in
            record.hasPrefix("Package: cranapp\n")
                ? record.split(separator: "\n").filter { !$0.hasPrefix("MD5sum:") }.joined(separator: "\n") : record
        }
        for f in ["PACKAGES.gz", "PACKAGES.rds"] { try? FileManager.default.removeItem(atPath: contrib + "/" + f) }
        try index.joined(separator: "\n\n").write(toFile: contrib + "/PACKAGES", atomically: true, encoding: .utf8)
        return root
    }

    /// The manifest schema shipped in `snapshots/`.
    static let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("snapshots/manifest.schema.json").path

    /// The `User-Agent` setting Posit Package Manager's Linux setup asks for (R sends its version only with it).
    static let userAgentOption =
        "options(HTTPUserAgent = sprintf('R/%s R (%s)', getRversion(), paste(getRversion(), R.version['platform'], R.version['arch'], R.version['os'])))"

    /// Whether R's install log says it installed `package` as a `kind` (binary or source) package, in either quoting locale.
    static func installed(_ package: String, as kind: String, in log: String) -> Bool {
        log.contains("installing *\(kind)* package ‘\(package)’") || log.contains("installing *\(kind)* package '\(package)'")
    }

    /// `install.packages("cranapp")` from `repo` by R telling its version, every compiler set to `false`
    /// (`makevars`), then `app_run()`.
    func installWithoutCompiler(from repo: String, into lib: String, makevars: String) throws -> ProcessResult {
        try RClient.run(
            """
            \(Self.userAgentOption)
            .libPaths(c('\(lib)', .libPaths()))
            install.packages('cranapp', repos = '\(repo)', lib = '\(lib)')
            library(cranapp); cat('RESULT:', app_run(), '\\n')
            """, environment: ["R_MAKEVARS_USER": makevars])
    }

    @Test func binariesFromABinaryUpstreamInstallWithoutACompiler() throws {
        let cran = try CRANHarness()
        let root = try binaryRepository(cran)
        let upstream = try RunningProcess(
            FixtureScripts.python, [FixtureScripts.path("binary_upstream"), root], logPath: cran.dir.path + "/binary-upstream.log")
        let port = try #require(Int(try upstream.waitForLine(matching: #"listening (\d+)"#)))
        let synced = try cran.sync(
            ["cranapp"], extra: ["--binary-upstream", "http://127.0.0.1:\(port)", "--distro", "bookworm", "--r-version", Self.rMinor])
        #expect(synced.status == 3, "two binaries refused, the rest published: \(synced.output)")
        #expect(
            synced.stdout.contains("binaries for bookworm, R \(Self.rMinor): 2 mirrored, 0 already stored, 0 not offered upstream"),
            "\(synced.output)")
        #expect(synced.stdout.contains("cranlink_0.1.tar.gz: DESCRIPTION's Built: field names R 3.6, not R \(Self.rMinor)"), "\(synced.output)")
        #expect(synced.stdout.contains("cranapp_1.0.tar.gz: DESCRIPTION names package 'cranbase' version 1.1, not cranapp 1.0"), "\(synced.output)")
        // Snapshot 1 serves the sources; the binaries, recorded after it, come with snapshot 2, which lists them.
        #expect(synced.stdout.contains("published cran snapshot 2"), "\(synced.output)")
        let manifest = cran.data + "/snapshots/cran-2.json"
        let listed = try Subprocess.run(
            FixtureScripts.python,
            [
                "-c",
                "import json, sys, jsonschema; m = json.load(open(sys.argv[1])); jsonschema.validate(m, json.load(open(sys.argv[2]))); "
                    + "print(sorted((b['package'], b['r_minor'], b['origin']) for b in m['binaries'])); print(len(json.load(open(sys.argv[3])).get('binaries', [])))",
                manifest, Self.schema, cran.data + "/snapshots/cran-1.json",
            ])
        #expect(listed.succeeded, "\(listed.output)")
        #expect(
            listed.stdout.contains(
                "('cranbase', '\(Self.rMinor)', 'http://127.0.0.1:\(port)/__linux__/bookworm/latest/src/contrib/cranbase_1.1.tar.gz')"),
            "\(listed.output)")
        #expect(listed.stdout.contains("('cranc', '\(Self.rMinor)'") && listed.stdout.hasSuffix("\n0\n"), "\(listed.output)")
        let diff = try AirlockCommand.run(["snapshot", "diff", "1", "2", "--ecosystem", "cran", "--data", cran.data])
        #expect(diff.stdout.contains("+ cranc 0.2 binary for bookworm, R \(Self.rMinor): http://127.0.0.1:\(port)/"), "\(diff.output)")
        #expect(!diff.stdout.contains("+ cranapp"), "refused binaries are in no snapshot: \(diff.output)")
        let again = try cran.sync([], extra: ["--binary-upstream", "http://127.0.0.1:\(port)", "--distro", "bookworm", "--r-version", Self.rMinor])
        #expect(again.stdout.contains("0 mirrored, 2 already stored"), "\(again.output)")
        #expect(again.stdout.contains("nothing changed; still serving cran snapshot 2"), "\(again.output)")

        let server = try AirlockCommand.serve(data: cran.data, logDirectory: cran.dir.path)
        let repo = server.base + "/cran/__linux__/bookworm/latest"
        // R gets the binary's record (its MD5), and its bytes at the tarball URL.
        let rAgent = "User-Agent: R (\(Self.rMinor).1 x86_64-pc-linux-gnu x86_64 linux-gnu)"
        let binaryMD5 = try Subprocess.run("/usr/bin/md5sum", [root + "/__linux__/bookworm/latest/src/contrib/cranc_0.2.tar.gz"]).stdout.prefix(32)
        let forR = try httpGet(repo + "/src/contrib/PACKAGES", headers: [rAgent])
        #expect(forR.body.contains("MD5sum: \(binaryMD5)"), "\(forR)")
        // Rendered once per snapshot and R version; caches are told it varies with the User-Agent.
        let head = try Subprocess.run(
            "/usr/bin/curl", ["-s", "-D", "-", "-o", "/dev/null", "-H", rAgent, server.base + "/cran/__linux__/bookworm/2/src/contrib/PACKAGES.gz"]
        ).stdout
        #expect(head.lowercased().contains("vary: user-agent") && head.contains("immutable"), "\(head)")
        let tarball = try Subprocess.run("/bin/sh", ["-c", "curl -s -H '\(rAgent)' \(repo)/src/contrib/cranc_0.2.tar.gz | md5sum"])
        #expect(tarball.stdout.hasPrefix(binaryMD5), "\(tarball.output)")
        // A client that is not R gets the sources' index; so does R from snapshot 1, published before the binaries.
        let sources = try httpGet(server.base + "/cran/latest/src/contrib/PACKAGES").body
        #expect(try httpGet(repo + "/src/contrib/PACKAGES").body == sources)
        #expect(try httpGet(server.base + "/cran/__linux__/bookworm/1/src/contrib/PACKAGES", headers: [rAgent]).body == sources)

        // R with every compiler set to `false`: the compiled package can only come in as a binary.
        let makevars = cran.dir.path + "/Makevars-no-compiler"
        try "CC=false\nCXX=false\nCXX11=false\nCXX14=false\nCXX17=false\nFC=false\nF77=false\n".write(
            toFile: makevars, atomically: true, encoding: .utf8)
        let installed = try installWithoutCompiler(from: repo, into: cran.dir.sub("lib-binary"), makevars: makevars)
        #expect(installed.output.contains("RESULT: hello app from cranbase 1.1 42 cranapp 1.0 2"), "\(installed.output)")
        for package in ["cranbase", "cranc"] {
            #expect(Self.installed(package, as: "binary", in: installed.output), "\(package): \(installed.output)")
        }
        #expect(Self.installed("cranapp", as: "source", in: installed.output), "a refused binary leaves its source: \(installed.output)")

        // Across the gap: a bundle carries the binaries; the replica's R installs them without a compiler.
        let gap = try AirGap(cran.dir, a: cran.data)
        try gap.export("cran.tar", ["--ecosystem", "cran"])
        _ = try gap.importOK("cran.tar")
        let replica = try AirlockCommand.serve(data: gap.b, logDirectory: cran.dir.path)
        let fromReplica = try installWithoutCompiler(
            from: replica.base + "/cran/__linux__/bookworm/latest", into: cran.dir.sub("lib-replica"), makevars: makevars)
        #expect(fromReplica.output.contains("RESULT: hello app from cranbase 1.1 42 cranapp 1.0 2"), "\(fromReplica.output)")
        #expect(Self.installed("cranc", as: "binary", in: fromReplica.output), "\(fromReplica.output)")

        // Another R minor version in the User-Agent gets the source tarball, and compiles it.
        let lib = cran.dir.sub("lib-other-r")
        let other = try RClient.run(
            """
            options(HTTPUserAgent = 'R (9.9.0 x86_64-pc-linux-gnu x86_64 linux-gnu)')
            install.packages(c('cranbase', 'cranlink', 'cranc'), repos = '\(repo)', lib = '\(lib)')
            cat('INSTALLED:', as.character(packageVersion('cranc', lib.loc = '\(lib)')), '\\n')
            """)
        #expect(other.stdout.contains("INSTALLED: 0.2") && Self.installed("cranc", as: "source", in: other.output), "\(other.output)")
    }

    /// This machine's distribution codename (`bookworm`).
    static let distro: String = {
        let release = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        return release.split(separator: "\n").first { $0.hasPrefix("VERSION_CODENAME=") }.map { String($0.dropFirst("VERSION_CODENAME=".count)) }
            ?? "bookworm"
    }()

    /// `airlock build cran` in the sandbox: the chain builds in dependency order (the compiled package
    /// included) and R installs it with no compiler; a package whose `configure` downloads fails, the log
    /// saying so, while the same build outside the sandbox reaches the (loopback) server and succeeds.
    @Test func sandboxedBuildsInstallWithoutACompilerAndCannotReachTheNetwork() throws {
        let cran = try CRANHarness()
        let listener = try RunningProcess(
            FixtureScripts.python, ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", cran.dir.path],
            logPath: cran.dir.path + "/fetch-server.log")
        let port = try #require(Int(try listener.waitForLine(matching: #"port (\d+)"#)))
        try cran.upstream.release(["cranfetch==0.1"], environment: ["CRANFETCH_URL": "http://127.0.0.1:\(port)/"])
        try cran.syncOK(["cranapp", "cranfetch", "cranbase"])  // cranbase selected itself: its archived 1.0 is served too

        let built = try AirlockCommand.run(["build", "cran", "--data", cran.data, "--distro", Self.distro])
        #expect(built.status == 3, "cranfetch fails, the rest is built: \(built.output)")
        for package in ["cranbase 1.1", "cranlink 0.1", "cranc 0.2", "cranapp 1.0"] {
            #expect(built.stdout.contains("built \(package) in"), "\(package): \(built.output)")
        }
        #expect(built.stdout.contains("failed cranfetch 0.1: the build tried to reach the network"), "\(built.output)")
        #expect(built.stdout.contains("configure: error: cannot download the library sources"), "the log's tail says why: \(built.output)")
        #expect(built.stdout.contains("sandbox: bubblewrap, no network"), "\(built.output)")
        #expect(built.stdout.contains("published cran snapshot 2, serving the new binaries"), "\(built.output)")

        let server = try AirlockCommand.serve(data: cran.data, logDirectory: cran.dir.path)
        let makevars = cran.dir.path + "/Makevars-no-compiler"
        try "CC=false\nCXX=false\nCXX11=false\nCXX14=false\nCXX17=false\nFC=false\nF77=false\n".write(
            toFile: makevars, atomically: true, encoding: .utf8)
        let installed = try installWithoutCompiler(
            from: server.base + "/cran/__linux__/\(Self.distro)/latest", into: cran.dir.sub("lib-built"), makevars: makevars)
        #expect(installed.output.contains("RESULT: hello app from cranbase 1.1 42 cranapp 1.0 2"), "\(installed.output)")
        #expect(Self.installed("cranc", as: "binary", in: installed.output), "\(installed.output)")

        let show = try AirlockCommand.run(["review", "show", "cranc", "--ecosystem", "cran", "--data", cran.data])
        #expect(
            show.stdout.contains("binary 0.2 for \(Self.distro), R \(Self.rMinor) (x86_64-pc-linux-gnu): built by airlock on \(Self.distro) with R"),
            "\(show.output)")
        // SystemRequirements, continuation line joined: shown to the reviewer and written into the build record.
        #expect(show.stdout.contains("    system requirements: GNU make, a C99 compiler"), "\(show.output)")
        #expect(show.stdout.contains("; SystemRequirements: GNU make, a C99 compiler"), "\(show.output)")
        // The reviewer's project page: the system requirements of each version, and how each binary was made.
        let token = try AirlockCommand.run(["token", "create", "--data", cran.data, "--name", "reviewer", "--role", "reviewer"]).stdout
            .trimmingWhitespace()
        let session = try ReviewHarness.signIn(server.base, token: token, jarDirectory: cran.dir.path)
        let page = try Subprocess.run("/usr/bin/curl", ["-s", "-b", session.jar, server.base + "/ui/projects/cran/cranc"]).stdout
        #expect(page.contains("System requirements: GNU make, a C99 compiler"), "\(page)")
        #expect(
            page.contains("<td>0.2</td><td>\(Self.distro)</td><td>\(Self.rMinor)</td><td>x86_64-pc-linux-gnu</td><td>built by airlock"), "\(page)")
        let again = try AirlockCommand.run(["build", "cran", "--data", cran.data, "--distro", Self.distro])
        #expect(again.stdout.contains("built 0 binary(ies)") && again.stdout.contains("4 already built, 1 failed"), "\(again.output)")
        #expect(!again.stdout.contains("published cran snapshot"), "nothing new, no snapshot: \(again.output)")
        let gap = try AirGap(cran.dir, a: cran.data)
        try gap.export("full.tar", ["--ecosystem", "cran"])
        _ = try gap.importOK("full.tar")
        // Outside the sandbox the same configure reaches the server: the sandbox is what stopped it.
        let unsandboxed = try AirlockCommand.run(["build", "cran", "--data", cran.data, "--distro", Self.distro, "--no-sandbox"])
        #expect(unsandboxed.succeeded && unsandboxed.stdout.contains("built cranfetch 0.1"), "\(unsandboxed.output)")
        // A binary built for a release an earlier bundle carried crosses with the next incremental bundle,
        // alone: its bytes, its PACKAGES record and its build log.
        let incremental = try gap.export("since-2.tar", ["--ecosystem", "cran", "--since", "2"])
        #expect(incremental["snapshots"] as? [Int] == [3] && incremental["blobs"] as? Int == 3, "\(incremental)")
        _ = try gap.importOK("since-2.tar")
        let replica = try AirlockCommand.serve(data: gap.b, logDirectory: cran.dir.path)
        let rAgent = "User-Agent: R (\(Self.rMinor).1 x86_64-pc-linux-gnu x86_64 linux-gnu)"
        func md5(of package: String, _ index: String) -> String? {
            index.components(separatedBy: "\n\n").first { $0.hasPrefix("Package: \(package)\n") }?.firstMatch(of: /MD5sum: ([0-9a-f]{32})/).map {
                String($0.1)
            }
        }
        let sourceMD5 = md5(of: "cranfetch", try httpGet(server.base + "/cran/3/src/contrib/PACKAGES").body)
        let binaryMD5 = try [server.base, replica.base].map {
            md5(of: "cranfetch", try httpGet($0 + "/cran/__linux__/\(Self.distro)/3/src/contrib/PACKAGES", headers: [rAgent]).body)
        }
        #expect(
            sourceMD5 != nil && binaryMD5[0] != nil && binaryMD5[0] != sourceMD5 && binaryMD5[1] == binaryMD5[0],
            "\(String(describing: sourceMD5)) \(binaryMD5)")
        let diff = try AirlockCommand.run(["snapshot", "diff", "2", "3", "--ecosystem", "cran", "--data", cran.data, "--format", "markdown"])
        #expect(diff.stdout.contains("0 added, 0 removed, 0 changed; 1 binaries added, 0 removed"), "\(diff.output)")
        #expect(diff.stdout.contains("| binary added | cranfetch | 0.1 | \(Self.distro), R \(Self.rMinor): built by airlock"), "\(diff.output)")
        #expect(diff.stdout.contains("sandbox: none (--no-sandbox)"), "how it was made travels with it: \(diff.output)")

        // Archived versions on request, each against the current versions of what it needs:
        // remotes::install_version then installs the old version's binary.
        let archived = try AirlockCommand.run(["build", "cran", "--data", cran.data, "--distro", Self.distro, "--archived"])
        #expect(
            archived.succeeded && archived.stdout.contains("built cranbase 1.0 in") && archived.stdout.contains("published cran snapshot 4"),
            "\(archived.output)")
        let lib = cran.dir.sub("lib-archived")
        let old = try RClient.run(
            """
            \(Self.userAgentOption)
            remotes::install_version('cranbase', '1.0', repos = '\(server.base)/cran/__linux__/\(Self.distro)/4', lib = '\(lib)', upgrade = 'never', dependencies = FALSE)
            cat('INSTALLED:', as.character(packageVersion('cranbase', lib.loc = '\(lib)')), '\\n')
            """)
        #expect(old.stdout.contains("INSTALLED: 1.0") && Self.installed("cranbase", as: "binary", in: old.output), "\(old.output)")

        let wrongDistro = try AirlockCommand.run(["build", "cran", "--data", cran.data, "--distro", "jammy"])
        #expect(
            !wrongDistro.succeeded && wrongDistro.stderr.contains("not jammy: build jammy's binaries on a jammy machine"), "\(wrongDistro.output)")
        let wrongR = try AirlockCommand.run(["build", "cran", "--data", cran.data, "--distro", Self.distro, "--r-version", "9.9"])
        #expect(!wrongR.succeeded && wrongR.stderr.contains("it builds binaries for R \(Self.rMinor), not 9.9"), "\(wrongR.output)")
    }

    /// `[build]` in airlock.toml: after each CRAN sync the daemon builds what the served releases lack and
    /// publishes a snapshot serving it; `config check` shows the section.
    @Test func theDaemonBuildsBinariesAfterEachSync() throws {
        let cran = try CRANHarness()
        let config = cran.dir.path + "/airlock.toml"
        try """
        data = "\(cran.data)"

        [cran]
        upstream = "\(cran.upstream.url)"
        packages = ["cranc"]
        policy = "none"

        [build]
        distro = "\(Self.distro)"
        timeout = "5m"

        [schedule]
        every = "1h"

        [daemon]
        port = 0
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let check = try AirlockCommand.run(["config", "check", "--config", config])
        #expect(
            check.succeeded && check.stdout.contains("[build]\ndistro = \"\(Self.distro)\"") && check.stdout.contains("sandbox = true"),
            "\(check.output)")

        let daemon = try RunningProcess(AirlockCommand.binary, ["daemon", "--config", config], logPath: cran.dir.path + "/daemon.log")
        let port = try daemon.waitForLine(matching: #"health and metrics on http://127\.0\.0\.1:(\d+)/"#)
        let deadline = Date().addingTimeInterval(240)
        while !daemon.log.contains("binaries built") {
            guard Date() < deadline else {
                Issue.record("no build after the sync: \(daemon.log)")
                return
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        #expect(daemon.log.contains("built=3") && daemon.log.contains("snapshot=2"), "\(daemon.log)")
        let samples = try prometheusSamples("http://127.0.0.1:\(port)/metrics")
        #expect(samples["airlock_build_runs_total{result=\"success\"}"] == 1 && samples["airlock_build_binaries_total{outcome=\"built\"}"] == 3, "\(samples)")
        _ = daemon.terminate(timeout: 10)
        let show = try AirlockCommand.run(["snapshot", "show", "2", "--ecosystem", "cran", "--data", cran.data])
        for package in ["cranbase 1.1", "cranlink 0.1", "cranc 0.2"] {
            #expect(show.stdout.contains("  \(package)\tbinary for \(Self.distro), R \(Self.rMinor)"), "\(package): \(show.output)")
        }
    }
}
