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
        #expect(show.stdout.contains("published by: github:trailofbits/pypi-attestations (workflow release.yml), attested 2024-12-04T23:14:01"), "\(show.output)")
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
