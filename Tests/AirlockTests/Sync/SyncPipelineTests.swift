import AirlockCore
import AirlockPolicy
import Testing

@testable import AirlockSync

@Suite struct SyncPipelineTests {
    private func release(_ version: String, emails: Set<String>) -> ResolvedRelease {
        ResolvedRelease(
            project: ProjectName("alpha"), version: PythonVersion(version)!, upstreamFiles: [], selectedBy: "t", requiresDist: [], people: nil,
            history: ProjectHistory(firstUpload: nil, lastUpload: nil, releaseCount: 3), license: nil, declaredLicense: nil,
            metadataEmails: emails, dependsOn: [], metadataRequiresPython: nil)
    }

    @Test func onlyTheNewestReleaseCarriesNewEmails() {
        let changes = SyncPipeline.newMaintainerEmails([
            release("1.0", emails: ["ada@example.org"]), release("1.2", emails: ["ada@example.org", "mallory@example.net"]),
            release("1.1", emails: ["ada@example.org", "bob@example.org"]),
        ])
        #expect(changes == [ReleaseKey("alpha", "1.2"): ["mallory@example.net"]])
        #expect(SyncPipeline.newMaintainerEmails([release("1.0", emails: ["x@example.org"])]).isEmpty, "one release: nothing to compare")
    }
}
