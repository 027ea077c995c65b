import AirlockCore
import AirlockProvenance
import AirlockTestSupport
import Foundation
import Testing

/// Attestations from a Sigstore made in the test (its own CA, CT key and log key): the verifier
/// accepts what such an instance signs and refuses each kind of broken trust, naming the check.
@Suite struct TestSigstoreTests {
    let sigstore: TestSigstore
    let file = "a-1.0.tar.gz"
    let digest = Digest.of(Array("the bytes of a-1.0".utf8))

    init() throws { sigstore = try TestSigstore() }

    func verify(_ provenance: [UInt8], root: [UInt8]? = nil) async throws -> AttestationVerifier.Verified {
        let trust = try TrustedRoot(json: try root ?? sigstore.trustedRoot())
        return try await AttestationVerifier(root: trust).verify(try Provenance(json: provenance), filename: file, sha256: digest)
    }

    func failedCheck(_ provenance: [UInt8], root: [UInt8]? = nil) async -> String? {
        await failedProvenanceCheck { try await verify(provenance, root: root) }
    }

    @Test func whatTheTestInstanceSignsVerifies() async throws {
        let v = try await verify(try sigstore.provenance(filename: file, sha256: digest, repository: "org/a", environment: "pypi"))
        #expect(v.publisher.identity == "github:org/a")
        #expect(v.publisher.workflow == "release.yml")
        #expect(v.publisher.environment == "pypi")
        #expect(v.publisher.summary == "github:org/a (workflow release.yml, environment pypi)")
    }

    @Test func aCertificateOutsideItsValidityAtLogTimeIsRefused() async throws {
        let logged = Date().addingTimeInterval(-3600)
        let expiredBefore = try sigstore.provenance(
            filename: file, sha256: digest, repository: "org/a", at: logged,
            tampering: .init(certificateValidity: (logged.addingTimeInterval(-1200), logged.addingTimeInterval(-600))))
        #expect(await failedCheck(expiredBefore) == "certificate_validity")
        let notYetValid = try sigstore.provenance(
            filename: file, sha256: digest, repository: "org/a", at: logged,
            tampering: .init(certificateValidity: (logged.addingTimeInterval(60), logged.addingTimeInterval(600))))
        #expect(await failedCheck(notYetValid) == "certificate_validity")
    }

    @Test func aLogEntrySignedByAnUnknownKeyIsRefused() async throws {
        let p = try sigstore.provenance(filename: file, sha256: digest, repository: "org/a", tampering: .init(unknownLogKey: true))
        #expect(await failedCheck(p) == "log_key")
    }

    @Test func aRootThatLacksTheCAIsRefused() async throws {
        let p = try sigstore.provenance(filename: file, sha256: digest, repository: "org/a")
        #expect(await failedCheck(p, root: try sigstore.trustedRoot(withoutCA: true)) == "certificate_chain")
        // Another instance's root: the same names, other keys.
        #expect(await failedCheck(p, root: try TestSigstore().trustedRoot()) == "log_key")
    }

    @Test func theIndexCannotClaimAnotherPublisher() async throws {
        var doc =
            try JSONSerialization.jsonObject(with: Data(try sigstore.provenance(filename: file, sha256: digest, repository: "org/a")))
            as! [String: Any]
        var bundles = doc["attestation_bundles"] as! [[String: Any]]
        bundles[0]["publisher"] = ["kind": "GitHub", "repository": "psf/requests", "workflow": "release.yml"]
        doc["attestation_bundles"] = bundles
        #expect(await failedCheck(Array(try JSONSerialization.data(withJSONObject: doc))) == "publisher_claim")
    }
}
