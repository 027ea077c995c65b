import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// One CRAN test's world: a CRAN-like upstream of packages built with `R CMD build`, a data
/// directory, and the real `airlock` binary.
final class CRANHarness: @unchecked Sendable {
    let dir: TemporaryDirectory
    let upstream: CRANRepository
    let data: String

    /// cranapp → cranc (compiled, LinkingTo cranlink) → cranbase; cranbase 1.0 archived, 1.1 current.
    init() throws {
        dir = try TemporaryDirectory("airlock-cran")
        data = dir.path + "/data"
        upstream = try CRANRepository(in: dir)
        try upstream.release(["cranbase==1.0", "cranlink==0.1", "cranc==0.2", "cranapp==1.0", "cranevil==0.1"])
        try upstream.release(["cranbase==1.1"])
    }

    func sync(_ packages: [String], extra: [String] = []) throws -> ProcessResult {
        let policy = extra.contains("--policy") ? [] : ["--policy", "none"]
        return try AirlockCommand.run(["sync", "cran", "--upstream", upstream.url, "--data", data] + policy + extra + packages)
    }

    @discardableResult
    func syncOK(_ packages: [String], extra: [String] = []) throws -> [String: Any] {
        let r = try sync(packages, extra: extra + ["--json"])
        #expect(r.succeeded, "sync failed:\n\(r.output)")
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    /// A policy approving everything with an allowed licence, but `cranevil`.
    func policy() throws -> String {
        let path = dir.path + "/cran-policy.toml"
        let defaults = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("policies/default.toml").path
        try String(contentsOfFile: defaults, encoding: .utf8)
            .replacingOccurrences(of: "approve_at = 70", with: "approve_at = 0")
            .replacingOccurrences(of: "deny_below = 30", with: "deny_below = 0")
            .replacingOccurrences(of: "cooldown_days = 7", with: "cooldown_days = 0")
            .replacingOccurrences(of: "deny = []", with: "deny = [\"cranevil\"]")
            .replacingOccurrences(of: "allow = [\n", with: "allow = [\n    \"GPL-2.0-only\", \"GPL-3.0-only\",\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Moves a snapshot's publication time `days` back, as if it had been published then.
    func backdate(snapshot id: Int, days: Int) throws {
        let earlier =
            TestCatalog.backend == .sqlite
            ? "strftime('%Y-%m-%dT%H:%M:%fZ', published_at, '-\(days) days')"
            : "to_char((published_at::timestamptz - interval '\(days) days') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        let r = try CatalogSQL.run("UPDATE snapshot SET published_at = \(earlier) WHERE id = \(id)", dataDirectory: data)
        #expect(r.succeeded, "\(r.output)")
    }

    func stagingFiles() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: data + "/blobs/staging")) ?? [] }
}

/// CRAN end to end with real R: `R CMD build` packages, `tools::write_PACKAGES` upstream,
/// `airlock sync cran`, `install.packages()` from the endpoint, judged by `library()`.
@Suite(.timeLimit(.minutes(10))) struct CRANMirrorTests {
    @Test func realRInstallsTheClosureAndAnArchivedVersion() throws {
        let cran = try CRANHarness()
        let report = try cran.syncOK(["cranapp", "cranbase", "cranevil"], extra: ["--versions", "2", "--policy", try cran.policy()])
        #expect(report["releases"] as? Int == 6, "cranapp, cranc, cranlink, cranevil, cranbase 1.1 and 1.0: \(report)")
        let server = try AirlockCommand.serve(data: cran.data, logDirectory: cran.dir.path)
        let repo = server.base + "/cran/latest"

        let packages = try httpGet(repo + "/src/contrib/PACKAGES").body
        #expect(packages.contains("Package: cranapp\nVersion: 1.0\n") && packages.contains("Package: cranbase\nVersion: 1.1\n"), "\(packages)")
        #expect(packages.contains("Package: cranc") && packages.contains("LinkingTo: cranlink") && packages.contains("Package: cranlink"))
        #expect(!packages.contains("cranevil") && !packages.contains("Package: stats"), "denied and shipped-with-R packages are absent")
        let upstreamMD5 = try String(contentsOfFile: cran.upstream.contrib + "/PACKAGES", encoding: .utf8)
            .components(separatedBy: "\n\n").first { $0.contains("Package: cranc\n") }!
            .split(separator: "\n").first { $0.hasPrefix("MD5sum:") }!
        #expect(packages.contains(upstreamMD5), "the served record carries the tarball's MD5")
        #expect(try httpGet(repo + "/src/contrib/cranevil_0.1.tar.gz").status == 404)
        #expect(try httpGet(repo + "/src/contrib/cranbase_1.0.tar.gz").status == 404, "only the current version is at the top level")
        #expect(try httpGet(server.base + "/cran/1999-01-01/src/contrib/PACKAGES").status == 404)

        let lib = cran.dir.path + "/lib"
        let installed = try RClient.install(
            ["cranapp"], repos: repo, lib: lib, check: "library(cranapp); cat('RESULT:', app_run(), '\\n')")
        #expect(installed.output.contains("RESULT: hello app from cranbase 1.1 42 cranapp 1.0 2"), "\(installed.output)")

        let archived = try RClient.install(
            [repo + "/src/contrib/Archive/cranbase/cranbase_1.0.tar.gz"], repos: "NULL", lib: cran.dir.path + "/lib-archive",
            check: "library(cranbase); cat('RESULT:', base_greet('old'), '\\n')")
        #expect(archived.output.contains("RESULT: hello old from cranbase 1.0"), "\(archived.output)")
        #expect(try httpGet(repo + "/src/contrib/Archive/cranevil/cranevil_0.1.tar.gz").status == 404)
    }

    /// R's own readers of the index files airlock writes in R's serialization format: `PACKAGES.rds`
    /// (which `available.packages` reads first) holds what `PACKAGES` does, and `Meta/archive.rds` lets
    /// `remotes::install_version` find an archived version; the current one comes from `PACKAGES`.
    @Test func rReadsTheRDSIndexesAndRemotesInstallsAnyServedVersion() throws {
        let cran = try CRANHarness()
        try cran.syncOK(["cranbase", "cranevil"], extra: ["--versions", "2", "--policy", try cran.policy()])
        let server = try AirlockCommand.serve(data: cran.data, logDirectory: cran.dir.path)
        let repo = server.base + "/cran/latest"
        let read = try RClient.run(
            """
            rds <- readRDS(gzcon(url('\(repo)/src/contrib/PACKAGES.rds')))
            dcf <- read.dcf(gzcon(url('\(repo)/src/contrib/PACKAGES.gz')))
            cat('SAME:', identical(rds[, colnames(dcf), drop = FALSE], dcf), nrow(rds), '\n')
            ap <- available.packages(repos = '\(repo)')
            cat('AP:', rownames(ap), ap['cranbase', 'Version'], '\n')
            a <- readRDS(gzcon(url('\(repo)/src/contrib/Meta/archive.rds')))
            cat('ARCHIVE:', names(a), rownames(a$cranbase), class(a$cranbase$mtime), a$cranbase$size > 0, '\n')
            """)
        #expect(read.stdout.contains("SAME: TRUE 1"), "PACKAGES.rds holds PACKAGES' records: \(read.output)")
        #expect(read.stdout.contains("AP: cranbase 1.1"), "\(read.output)")
        #expect(
            read.stdout.contains("ARCHIVE: cranbase cranbase/cranbase_1.0.tar.gz POSIXct POSIXt TRUE"),
            "only served versions, denied ones left out: \(read.output)")
        for version in ["1.0", "1.1"] {
            let lib = cran.dir.sub("lib-\(version)")
            let r = try RClient.run(
                """
                remotes::install_version('cranbase', '\(version)', repos = '\(repo)', lib = '\(lib)', upgrade = 'never', dependencies = FALSE)
                cat('INSTALLED:', as.character(packageVersion('cranbase', lib.loc = '\(lib)')), '\n')
                """)
            #expect(r.stdout.contains("INSTALLED: \(version)"), "remotes::install_version('cranbase', '\(version)'): \(r.output)")
        }
        let refused = try RClient.run("remotes::install_version('cranevil', '0.1', repos = '\(repo)', lib = '\(cran.dir.sub("lib-evil"))')")
        #expect(!refused.succeeded, "a denied package is in neither index: \(refused.output)")
    }

    /// `sync cran --lockfile renv.lock` adds exactly the pinned versions to the selection, an older one included.
    @Test func anRenvLockfilePinsTheSelection() throws {
        let cran = try CRANHarness()
        let lock = cran.dir.path + "/renv.lock"
        try
            #"{"R": {"Version": "4.4.1", "Repositories": [{"Name": "CRAN", "URL": "http://127.0.0.1:1/cran"}]}, "Packages": {"cranbase": {"Package": "cranbase", "Version": "1.0", "Source": "Repository", "Repository": "CRAN"}}}"#
            .write(toFile: lock, atomically: true, encoding: .utf8)
        try cran.syncOK(["--lockfile", lock])
        let check = try AirlockCommand.run(["check", "--data", cran.data, lock])
        #expect(check.succeeded && check.stdout.contains("1 of 1 pins served by cran snapshot"), "\(check.output)")
        let pypiLock = cran.dir.path + "/requirements.txt"
        try "alpha==1.0\n".write(toFile: pypiLock, atomically: true, encoding: .utf8)
        let wrong = try cran.sync(["--lockfile", pypiLock])
        #expect(!wrong.succeeded && wrong.stderr.contains("pins pypi packages"), "\(wrong.output)")
    }

    @Test func aDatedSnapshotKeepsServingTheOldVersion() throws {
        let cran = try CRANHarness()
        try cran.syncOK(["cranapp"])
        try cran.backdate(snapshot: 1, days: 2)
        try cran.upstream.release(["cranapp==1.1"])
        let second = try cran.syncOK([])
        #expect((second["reused"] as? Int ?? 0) >= 3, "unchanged tarballs are not fetched again: \(second)")

        let server = try AirlockCommand.serve(data: cran.data, logDirectory: cran.dir.path)
        let day = Timestamp.day(Date().addingTimeInterval(-2 * 86_400))
        #expect(try httpGet(server.base + "/cran/\(day)/src/contrib/PACKAGES").body.contains("Package: cranapp\nVersion: 1.0\n"))
        #expect(try httpGet(server.base + "/cran/latest/src/contrib/PACKAGES").body.contains("Package: cranapp\nVersion: 1.1\n"))
        let gz = try Subprocess.run("/bin/sh", ["-c", "curl -s \(server.base)/cran/\(day)/src/contrib/PACKAGES.gz | gunzip"])
        #expect(gz.stdout.contains("Package: cranapp\nVersion: 1.0\n"), "PACKAGES.gz holds the same records")

        let installed = try RClient.install(
            ["cranapp"], repos: server.base + "/cran/\(day)", lib: cran.dir.path + "/lib",
            check: "library(cranapp); cat('RESULT:', app_run(), '\\n')")
        #expect(installed.output.contains("RESULT: hello app from cranbase 1.1 42 cranapp 1.0 2"), "\(installed.output)")
    }
}

/// What a CRAN sync refuses: a bad index publishes nothing; a bad tarball or a missing dependency sets
/// that package aside, holds back what needs it, publishes the rest and exits 3. Nothing is left half-written.
@Suite(.timeLimit(.minutes(10))) struct CRANSyncFailureTests {
    private func expectSetAside(_ cran: CRANHarness, _ packages: [String], _ message: String, held: String) throws {
        let r = try cran.sync(packages)
        #expect(r.status == 3, "\(r.output)")
        #expect(r.stderr.contains(message), "expected '\(message)' in:\n\(r.stderr)")
        #expect(r.stdout.contains("held: \(held)"), "\(held) is held back: \(r.stdout)")
        let shown = try AirlockCommand.run(["snapshot", "show", "latest", "--ecosystem", "cran", "--data", cran.data, "--json"])
        #expect(shown.succeeded && !shown.stdout.contains("\"\(held.split(separator: "=")[0])\""), "the held package is not served: \(shown.stdout)")
        // Only CRAN has snapshots here: the ecosystem is inferred; naming PyPI says where the snapshots are.
        let inferred = try AirlockCommand.run(["snapshot", "show", "--data", cran.data])
        #expect(inferred.succeeded && inferred.stdout.hasPrefix("cran snapshot "), "\(inferred.output)")
        let pypi = try AirlockCommand.run(["snapshot", "show", "--ecosystem", "pypi", "--data", cran.data])
        #expect(
            !pypi.succeeded && pypi.stderr.contains("no pypi snapshot matches 'latest'") && pypi.stderr.contains("cran has 1 (--ecosystem cran)"),
            "\(pypi.output)")
        #expect(cran.stagingFiles().isEmpty)
    }

    private func expectRefused(_ cran: CRANHarness, _ packages: [String], _ message: String) throws {
        let r = try cran.sync(packages)
        #expect(!r.succeeded)
        #expect(r.stderr.contains(message), "expected '\(message)' in:\n\(r.stderr)")
        let list = try AirlockCommand.run(["snapshot", "list", "--ecosystem", "cran", "--data", cran.data, "--json"])
        let published = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any]
        #expect(published?.isEmpty == true, "nothing is published: \(list.output)")
        #expect(cran.stagingFiles().isEmpty)
    }

    @Test func malformedPackagesRecordsAreRejected() throws {
        let cran = try CRANHarness()
        let index = try String(contentsOfFile: cran.upstream.contrib + "/PACKAGES", encoding: .utf8)
        try cran.upstream.replacePackagesIndex(
            with: index.replacingOccurrences(of: "Package: cranc\nVersion: 0.2\n", with: "Package: cranc\nVersion 0.2\n"))
        try expectRefused(cran, ["cranapp"], "/src/contrib/PACKAGES:")
        try cran.upstream.replacePackagesIndex(with: index.replacingOccurrences(of: "Package: cranc\nVersion: 0.2\n", with: "Package: cranc\n"))
        try expectRefused(cran, ["cranapp"], "package 'cranc' has no valid Version field")
    }

    @Test func aTarballWhoseMD5DoesNotMatchIsRejected() throws {
        let cran = try CRANHarness()
        let index = try String(contentsOfFile: cran.upstream.contrib + "/PACKAGES", encoding: .utf8)
        let record = index.components(separatedBy: "\n\n").first { $0.contains("Package: cranc\n") }!
        let md5 = String(record.split(separator: "\n").first { $0.hasPrefix("MD5sum: ") }!.dropFirst(8))
        try cran.upstream.replacePackagesIndex(with: index.replacingOccurrences(of: md5, with: String(repeating: "0", count: 32)))
        try expectSetAside(cran, ["cranapp"], "md5 mismatch for cranc_0.2.tar.gz", held: "cranapp==1.0")
    }

    @Test func aTarballWithoutDescriptionIsRejected() throws {
        let cran = try CRANHarness()
        let tarball = cran.upstream.contrib + "/cranlink_0.1.tar.gz"
        let made = try Subprocess.run(
            FixtureScripts.python,
            [
                "-c",
                "import io,sys,tarfile\nwith tarfile.open(sys.argv[1], 'w:gz') as t:\n  d=b'# no DESCRIPTION here\\n'; i=tarfile.TarInfo('cranlink/NAMESPACE'); i.size=len(d); t.addfile(i, io.BytesIO(d))",
                tarball,
            ])
        #expect(made.succeeded, "\(made.output)")
        try cran.upstream.declareRewrittenTarball(of: "cranlink")
        try expectSetAside(cran, ["cranapp"], "cranlink_0.1.tar.gz has no cranlink/DESCRIPTION", held: "cranapp==1.0")
    }

    @Test func anUnknownPackageNamesTheRequirer() throws {
        let cran = try CRANHarness()
        try expectRefused(cran, ["nosuchpkg"], "R package 'nosuchpkg' (required by the stored selection) is not in the upstream repository")
    }
}
