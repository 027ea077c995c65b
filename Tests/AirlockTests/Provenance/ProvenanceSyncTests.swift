import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// Provenance in a real sync: a test upstream serves files with their PEP 740 provenance
/// (api-version 1.3 JSON and `data-provenance` HTML); airlock verifies it offline, records the
/// publisher and shows it to reviewers; a provenance that fails sets aside only its own file.
@Suite struct ProvenanceSyncTests {
    /// The newest release's recorded publisher identity, as `airlock review show --json` gives it.
    func publisher(_ h: MirrorHarness, _ project: String) throws -> [String: Any]? {
        let r = try AirlockCommand.run(["review", "show", project, "--data", h.data, "--json"])
        #expect(r.succeeded, "\(r.output)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let releases = doc?["releases"] as? [[String: Any]] ?? []
        return (releases.last?["provenance"] as? [String: Any])?["publisher"] as? [String: Any]
    }

    @Test(arguments: [UpstreamIndex.Kind.json, .html])
    func realProvenanceIsVerifiedAndRecorded(kind: UpstreamIndex.Kind) throws {
        let h = try MirrorHarness([PackageSpec("plain", "1.0")], kind: kind)
        let assets = try ProvenanceAssets(in: h.dir.path)
        for name in ["pypi_attestations-0.0.19.tar.gz", "pypi_attestations-0.0.19.tar.gz.provenance"] {
            try FileManager.default.copyItem(atPath: assets.directory + "/" + name, toPath: h.packages + "/" + name)
        }
        let r = try h.sync(["pypi-attestations==0.0.19", "plain"])
        #expect(!r.stdout.contains("set aside: pypi-attestations"), "\(r.output)")
        let p = try publisher(h, "pypi-attestations")
        #expect(p?["identity"] as? String == "github:trailofbits/pypi-attestations")
        #expect(p?["workflow"] as? String == "release.yml")
        #expect(try publisher(h, "plain") == nil)
        let show = try AirlockCommand.run(["review", "show", "pypi-attestations", "--data", h.data])
        #expect(
            show.stdout.contains("published by: github:trailofbits/pypi-attestations (workflow release.yml), attested 2024-12-04T23:14:01"),
            "\(show.output)")
    }

    @Test func aFailingProvenanceSetsAsideOnlyItsFile() throws {
        let h = try MirrorHarness([PackageSpec("good", "1.0", kinds: ["sdist"]), PackageSpec("forged", "1.0", kinds: ["sdist"])])
        let sigstore = try TestSigstore()
        try Data(try sigstore.trustedRoot()).write(to: URL(fileURLWithPath: h.dir.path + "/root.json"))
        let imported = try AirlockCommand.run(["feeds", "import", "sigstore-root", h.dir.path + "/root.json", "--data", h.data])
        #expect(imported.succeeded, "\(imported.output)")
        try Data(try sigstore.provenance(filename: "good-1.0.tar.gz", sha256: try h.digest(of: "good-1.0.tar.gz"), repository: "org/good"))
            .write(to: URL(fileURLWithPath: h.packages + "/good-1.0.tar.gz.provenance"))
        // An attestation of other bytes under forged's name.
        try Data(try sigstore.provenance(filename: "forged-1.0.tar.gz", sha256: try h.digest(of: "good-1.0.tar.gz"), repository: "org/forged"))
            .write(to: URL(fileURLWithPath: h.packages + "/forged-1.0.tar.gz.provenance"))
        let r = try h.sync(["good", "forged"])
        #expect(r.status == 3, "\(r.output)")
        let line = r.stdout.split(separator: "\n").first { $0.contains("set aside: forged 1.0") }
        #expect(line?.contains("statement_subject") == true, "\(r.output)")
        #expect(!r.stdout.contains("set aside: good"), "\(r.output)")
        #expect(try publisher(h, "good")?["identity"] as? String == "github:org/good")
        #expect(!h.blobExists(try h.digest(of: "forged-1.0.tar.gz")), "a file whose provenance fails is never stored")
    }

    @Test func theShippedRootRefusesATestInstancesAttestations() throws {
        let h = try MirrorHarness([PackageSpec("good", "1.0", kinds: ["sdist"])])
        try Data(try TestSigstore().provenance(filename: "good-1.0.tar.gz", sha256: try h.digest(of: "good-1.0.tar.gz"), repository: "org/good"))
            .write(to: URL(fileURLWithPath: h.packages + "/good-1.0.tar.gz.provenance"))
        let r = try h.sync(["good"])
        #expect(r.status != 0 && r.stdout.contains("set aside: good 1.0") && r.stdout.contains("log_key"), "\(r.output)")
    }
}

/// The publisher in the policy: identities from a Sigstore made in the test, decided under the
/// shipped policy's `[provenance]` rules (thresholds and cooldown opened so nothing else holds these
/// just-built packages).
@Suite struct PublisherPolicyTests {
    let h: MirrorHarness
    let sigstore: TestSigstore

    init() throws {
        let spec = { (name: String, version: String) -> PackageSpec in
            var s = PackageSpec(name, version, kinds: ["sdist"])
            s.license_expression = "MIT"
            s.author = "Ada Lovelace"
            s.author_email = "ada@example.org"
            return s
        }
        h = try MirrorHarness([
            spec("orgtool", "1.0"), spec("orgtool", "1.1"), spec("pinnedtool", "1.0"), spec("droptool", "1.0"), spec("droptool", "1.1"),
        ])
        sigstore = try TestSigstore()
        try Data(try sigstore.trustedRoot()).write(to: URL(fileURLWithPath: h.dir.path + "/root.json"))
        let imported = try AirlockCommand.run(["feeds", "import", "sigstore-root", h.dir.path + "/root.json", "--data", h.data])
        #expect(imported.succeeded, "\(imported.output)")
        for (file, repository) in [
            ("orgtool-1.0.tar.gz", "org/orgtool"), ("orgtool-1.1.tar.gz", "mallory/orgtool"), ("pinnedtool-1.0.tar.gz", "someone/pinnedtool"),
            ("droptool-1.0.tar.gz", "org/droptool"),
        ] {
            try Data(try sigstore.provenance(filename: file, sha256: try h.digest(of: file), repository: repository))
                .write(to: URL(fileURLWithPath: h.packages + "/" + file + ".provenance"))
        }
    }

    func policy(pin: String = "{}") throws -> String { try h.openPolicy([("pin = {}", "pin = \(pin)")]) }

    /// Each version's verdict and explanation lines, from `review show --json`.
    func decisions(_ project: String) throws -> [String: (verdict: String, served: Bool, explanation: String)] {
        let r = try AirlockCommand.run(["review", "show", project, "--data", h.data, "--json"])
        #expect(r.succeeded, "\(r.output)")
        let releases = (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["releases"] as? [[String: Any]] ?? []
        var out: [String: (String, Bool, String)] = [:]
        for release in releases {
            let decision = release["decision"] as? [String: Any]
            let factors = (decision?["factors"] as? [[String: Any]] ?? []).map { "\($0["name"] ?? ""): \($0["signal"] ?? "")" }
            out[release["version"] as? String ?? ""] = (
                decision?["verdict"] as? String ?? "", release["served"] as? Bool ?? false, factors.joined(separator: "\n")
            )
        }
        return out
    }

    @Test func anotherPublisherIsHeldWithBothIdentities() throws {
        let policy = try policy()
        let first = try h.sync(["orgtool==1.0"], extra: ["--policy", policy])
        #expect(first.succeeded, "\(first.output)")
        #expect(try decisions("orgtool")["1.0"]?.served == true)
        let second = try h.sync(["orgtool"], extra: ["--policy", policy, "--versions", "2"])
        #expect(second.succeeded, "\(second.output)")
        let d = try decisions("orgtool")
        #expect(d["1.0"]?.verdict == "approve" && d["1.0"]?.served == true, "\(d)")
        #expect(d["1.1"]?.verdict == "review" && d["1.1"]?.served == false, "\(d)")
        let why = d["1.1"]?.explanation ?? ""
        #expect(why.contains("rule:publisher_changed: published by github:mallory/orgtool (workflow release.yml) on "), "\(why)")
        #expect(why.contains("1.0 was published by github:org/orgtool (workflow release.yml) on "), "\(why)")
        #expect(d["1.0"]?.explanation.contains("publisher: verified trusted publisher github:org/orgtool") == true)
        // Decided again from the catalog, as `policy check` does, the same facts hold it.
        let check = try AirlockCommand.run(["policy", "check", "orgtool==1.1", "--data", h.data, "--policy", policy])
        #expect(check.stdout.contains("publisher_changed") && check.stdout.contains("github:mallory/orgtool"), "\(check.output)")
    }

    @Test func aProjectNewToTheMirrorIsComparedWithinTheSync() throws {
        let r = try h.sync(["orgtool"], extra: ["--policy", try policy(), "--versions", "2"])
        #expect(r.succeeded, "\(r.output)")
        let d = try decisions("orgtool")
        #expect(d["1.0"]?.verdict == "approve" && d["1.1"]?.verdict == "review", "\(d)")
    }

    @Test func aPinnedProjectRefusesAnotherIdentity() throws {
        let r = try h.sync(
            ["pinnedtool", "orgtool==1.0"],
            extra: ["--policy", try policy(pin: #"{ "PinnedTool" = "github:owner/pinnedtool", "orgtool" = "github:Org/OrgTool" }"#)])
        #expect(r.succeeded, "\(r.output)")
        let pinned = try decisions("pinnedtool")["1.0"]
        #expect(pinned?.verdict == "deny", "\(String(describing: pinned))")
        #expect(
            pinned?.explanation.contains("'pinnedtool' is pinned to github:owner/pinnedtool; this release was published by github:someone/pinnedtool")
                == true)
        #expect(try decisions("orgtool")["1.0"]?.verdict == "approve", "the pin matches whatever the case")
    }

    @Test func aReleaseWithoutAttestationsAfterAttestedOnesIsHeld() throws {
        let r = try h.sync(["droptool"], extra: ["--policy", try policy(), "--versions", "2"])
        #expect(r.succeeded, "\(r.output)")
        let d = try decisions("droptool")
        #expect(d["1.0"]?.verdict == "approve", "\(d)")
        #expect(d["1.1"]?.verdict == "review", "\(d)")
        #expect(
            d["1.1"]?.explanation.contains("rule:attestations_dropped: no verified attestation; 1.0 was attested by github:org/droptool") == true,
            "\(d)")
    }
}

/// Provenance on the air-gapped side: the endpoint serves each served file's provenance beside it
/// (PEP 740; the pages speak api-version 1.4), pip and uv still install, and a bundle carries the documents across.
@Suite struct ProvenanceServingTests {
    @Test func servedBesideTheFileAndCarriedAcrossTheGap() throws {
        let h = try MirrorHarness([PackageSpec("good", "1.0", kinds: ["wheel", "sdist"]), PackageSpec("plain", "1.0")])
        let sigstore = try TestSigstore()
        try Data(try sigstore.trustedRoot()).write(to: URL(fileURLWithPath: h.dir.path + "/root.json"))
        #expect(try AirlockCommand.run(["feeds", "import", "sigstore-root", h.dir.path + "/root.json", "--data", h.data]).succeeded)
        let wheel = "good-1.0-py3-none-any.whl"
        let document = try sigstore.provenance(filename: wheel, sha256: try h.digest(of: wheel), repository: "org/good")
        try Data(document).write(to: URL(fileURLWithPath: h.packages + "/" + wheel + ".provenance"))
        let synced = try h.sync(["good", "plain"])
        #expect(synced.succeeded, "\(synced.output)")

        func check(_ server: AirlockCommand.Server) throws {
            let page = try httpGet(server.base + "/simple/good/", headers: ["Accept: application/vnd.pypi.simple.v1+json"])
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(page.body.utf8)) as? [String: Any])
            #expect((doc["meta"] as? [String: Any])?["api-version"] as? String == "1.4")
            let files = Dictionary(uniqueKeysWithValues: (doc["files"] as? [[String: Any]] ?? []).map { ($0["filename"] as? String ?? "", $0) })
            let link = try #require(files[wheel]?["provenance"] as? String)
            let fetched = try Subprocess.run("/usr/bin/curl", ["-sf", server.base + link])
            #expect(fetched.succeeded && Array(fetched.stdout.utf8) == document, "the provenance is served as the upstream served it")
            let html = try httpGet(server.base + "/simple/good/")
            #expect(html.body.contains("data-provenance=\"\(link)\""), "\(html.body)")
            let plainPage = try httpGet(server.base + "/simple/plain/", headers: ["Accept: application/vnd.pypi.simple.v1+json"])
            let plain = try #require(
                (try JSONSerialization.jsonObject(with: Data(plainPage.body.utf8)) as? [String: Any])?["files"] as? [[String: Any]])
            #expect(plain.allSatisfy { $0["provenance"] is NSNull })
            let missing = try httpGet(server.base + (plain.first?["url"] as? String ?? "") + ".provenance")
            #expect(missing.status == 404 && missing.body.contains("published without a PEP 740 provenance"), "\(missing)")
        }
        let server = try h.serve()
        try check(server)
        // Sweeping the store keeps what served files need, their provenance documents included.
        let gc = try AirlockCommand.run(["gc", "--data", h.data])
        #expect(gc.succeeded && gc.stdout.contains("removed 0 blob(s)"), "every stored blob is still needed: \(gc.output)")
        try check(server)
        let (pip, _) = try PythonClients.pipInstall(["good", "plain"], index: server.base + "/simple/", in: h.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        let (uv, _) = try PythonClients.uvInstall(["good", "plain"], index: server.base + "/simple/", in: h.dir.path)
        #expect(uv.succeeded, "\(uv.output)")
        let manifest = try AirlockCommand.run(["snapshot", "show", "--data", h.data, "--json"])
        #expect(manifest.stdout.contains("github:org/good"), "the manifest names the publisher: \(manifest.output)")

        let gap = try AirGap(h.dir, a: h.data)
        try gap.export("bundle.tar")
        try gap.importOK("bundle.tar")
        try check(try AirlockCommand.serve(data: gap.b, logDirectory: h.dir.path))
        let show = try AirlockCommand.run(["review", "show", "good", "--data", gap.b])
        #expect(show.stdout.contains("published by: github:org/good (workflow release.yml)"), "\(show.output)")
    }
}
