import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(10))) struct ManifestTests {
    /// The manifest a sync writes validates against the schema shipped in snapshots/.
    @Test func manifestMatchesShippedSchema() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        let report = try mirror.syncOK(["alpha"])
        let manifest = try #require(report["manifest"] as? String)
        #expect(manifest.hasSuffix("/snapshots/pypi-1.json"))
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("snapshots/manifest.schema.json").path
        let check = try Subprocess.run(
            FixtureScripts.python,
            [
                "-c",
                "import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))); print(len(json.load(open(sys.argv[1]))['files']))",
                manifest, schema,
            ])
        #expect(check.succeeded, "\(check.output)")
        #expect(check.stdout.trimmingWhitespace() == "5")
    }
}
