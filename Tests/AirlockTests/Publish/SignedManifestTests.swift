import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// Signed snapshot manifests: with a key at DATA/keys/airlock.key every published manifest gets a
/// detached Ed25519 signature; `snapshot verify` checks it locally or from a running endpoint, and the
/// audit head each manifest records makes a chain cut short fail `audit verify`.
@Suite struct SignedManifestTests {
    let h: MirrorHarness
    let pub: String

    init() throws {
        h = try MirrorHarness(MirrorHarness.chain)
        let made = try AirlockCommand.run(["keys", "generate", "--out", h.data + "/keys"])
        #expect(made.succeeded, "\(made.output)")
        pub = h.data + "/keys/airlock.pub"
        #expect(try h.sync(["alpha"]).succeeded)
    }

    var manifest: String { h.data + "/snapshots/pypi-1.json" }

    func verify(_ extra: [String] = [], pub: String? = nil) throws -> ProcessResult {
        try AirlockCommand.run(["snapshot", "verify", "--data", h.data, "--pub", pub ?? self.pub] + extra)
    }

    @Test func aFreshManifestVerifiesLocallyAndFromTheEndpoint() throws {
        let local = try verify(["1"])
        #expect(local.succeeded && local.stdout.contains("verified: pypi snapshot 1 ("), "\(local.output)")
        let server = try h.serve()
        let remote = try verify(["--server", server.base, "latest"])
        #expect(remote.succeeded && remote.stdout.contains("verified: pypi snapshot 1"), "\(remote.output)")
        // The routes are open, like the manifest's contents: what they attest is public.
        #expect(try httpGet(server.base + "/snapshots/pypi/1/manifest.json.sig").status == 200)
        #expect(try httpGet(server.base + "/snapshots/pypi/9/manifest.json").status == 404)
    }

    @Test func oneChangedByteOrAnotherKeyFails() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: manifest)))
        let original = bytes
        let at = bytes.firstIndex(of: UInt8(ascii: "a"))!
        bytes[at] = UInt8(ascii: "b")
        try Data(bytes).write(to: URL(fileURLWithPath: manifest))
        let changed = try verify()
        #expect(!changed.succeeded && changed.stderr.contains("does not verify with key"), "\(changed.output)")
        try Data(original).write(to: URL(fileURLWithPath: manifest))
        #expect(try verify().succeeded)
        let other = h.dir.path + "/other-keys"
        #expect(try AirlockCommand.run(["keys", "generate", "--out", other]).succeeded)
        let wrongKey = try verify(pub: other + "/airlock.pub")
        #expect(!wrongKey.succeeded && wrongKey.stderr.contains("not trusted"), "\(wrongKey.output)")
    }

    @Test func droppingTheNewestAuditEventsFailsAgainstTheLastSignedManifest() throws {
        // A review act publishes snapshot 2, whose manifest records the chain's head then.
        let approve = try AirlockCommand.run(["review", "deny", "epsilon", "--data", h.data, "--reason", "not needed"])
        #expect(approve.succeeded, "\(approve.output)")
        let diff = try AirlockCommand.run(["snapshot", "diff", "1", "latest", "--data", h.data, "--format", "markdown"])
        #expect(diff.stdout.contains("### pypi snapshot 1 → 2") && diff.stdout.contains("| removed | epsilon | 2.0 | |"), "\(diff.output)")
        let copy = h.dir.path + "/kept-elsewhere.json"
        let latest = try #require(
            try FileManager.default.contentsOfDirectory(atPath: h.data + "/snapshots").filter { $0.hasPrefix("pypi-") && $0.hasSuffix(".json") }.max()
        )
        try FileManager.default.copyItem(atPath: h.data + "/snapshots/" + latest, toPath: copy)
        try FileManager.default.copyItem(atPath: h.data + "/snapshots/" + latest + ".sig", toPath: copy + ".sig")
        #expect(try AirlockCommand.run(["audit", "verify", "--data", h.data, "--manifest", copy, "--pub", pub]).succeeded)

        let dropGuards =
            TestCatalog.backend == .sqlite ? "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;" : "DROP TRIGGER audit_no_update ON audit;"
        let cut = try CatalogSQL.run(dropGuards + " DELETE FROM audit WHERE id = (SELECT max(id) FROM audit);", dataDirectory: h.data)
        #expect(cut.succeeded, "\(cut.output)")
        // The chain that is left is intact in itself; only the manifests show what it lost.
        try FileManager.default.removeItem(atPath: h.data + "/snapshots")
        let againstCopy = try AirlockCommand.run(["audit", "verify", "--data", h.data, "--manifest", copy, "--pub", pub])
        #expect(!againstCopy.succeeded && againstCopy.stderr.contains("were dropped from the tail"), "\(againstCopy.output)")
        let unanchored = try AirlockCommand.run(["audit", "verify", "--data", h.data])
        #expect(unanchored.succeeded, "without a manifest, a chain cut at its tail still verifies: \(unanchored.output)")
    }
}
