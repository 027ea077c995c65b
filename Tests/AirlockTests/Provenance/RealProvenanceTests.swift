import AirlockCore
import AirlockProvenance
import AirlockTestSupport
import Foundation
import Testing

/// Real PEP 740 provenance published from CI (pypi-attestations' own test assets) verified offline
/// against the real public-good trusted root (as the `sigstore` package ships it); then the same
/// material with one thing broken, each refused naming the check that failed.
@Suite struct RealProvenanceTests {
    let dir: TemporaryDirectory
    let assets: ProvenanceAssets
    let root: TrustedRoot

    init() throws {
        dir = try TemporaryDirectory()
        assets = try ProvenanceAssets(in: dir.path)
        root = try TrustedRoot(json: Array(try Data(contentsOf: URL(fileURLWithPath: assets.trustedRoot))))
    }

    func verify(_ file: String, as name: String? = nil, digestOf other: String? = nil, root: TrustedRoot? = nil, provenance: [UInt8]? = nil)
        async throws -> AttestationVerifier.Verified
    {
        let digest = Digest.of(try assets.bytes(other ?? file))
        let doc = try Provenance(json: try provenance ?? assets.bytes(file + ".provenance"))
        return try await AttestationVerifier(root: root ?? self.root).verify(doc, filename: name ?? file, sha256: digest)
    }

    @Test func githubPublishedSdistVerifies() async throws {
        let v = try await verify("pypi_attestations-0.0.19.tar.gz")
        #expect(v.publisher.kind == "github")
        #expect(v.publisher.identity == "github:trailofbits/pypi-attestations")
        #expect(v.publisher.workflow == "release.yml")
        #expect(v.publisher.ref == "refs/tags/v0.0.19")
        #expect(v.predicateTypes == [AttestationVerifier.pypiPublishPredicate])
        #expect(v.signedAt == Date(timeIntervalSince1970: 1_733_354_041))
        #expect(v.publisher.matches(pin: "github:TrailOfBits/pypi-attestations"))
        #expect(!v.publisher.matches(pin: "github:mallory/pypi-attestations"))
    }

    @Test func otherPublishersVerify() async throws {
        let circle = try await verify("circleci_sign_publish_example-0.0.1.dev137-py3-none-any.whl")
        #expect(circle.publisher.kind == "circleci")
        #expect(circle.publisher.identity.hasPrefix("circleci:fdd9283f-e619-46af-8f9c-851f7d3e8b2b/"))
        let google = try await verify("gcb_attestation_test-0.0.0.tar.gz")
        #expect(google.publisher.identity == "google:919436158236-compute@developer.gserviceaccount.com")
    }

    @Test func theShippedRootIsThePublicGoodOne() async throws {
        let v = try await verify("pypi_attestations-0.0.19.tar.gz", root: try TrustedRoot.publicGood())
        #expect(v.publisher.identity == "github:trailofbits/pypi-attestations")
    }

    @Test func oneChangedByteInTheStatementIsRefused() async throws {
        let changed = try editedProvenance { attestation in
            var envelope = attestation["envelope"] as! [String: Any]
            var statement = Array(Data(base64Encoded: envelope["statement"] as! String)!)
            let at = statement.count / 2
            statement[at] = statement[at] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
            envelope["statement"] = Data(statement).base64EncodedString()
            attestation["envelope"] = envelope
        }
        #expect(await failedProvenanceCheck { try await verify("pypi_attestations-0.0.19.tar.gz", provenance: changed) } == "envelope_signature")
    }

    @Test func aSubjectDigestForAnotherFileIsRefused() async throws {
        // The attestation of 0.0.19 offered for the bytes of another file under 0.0.19's name.
        #expect(
            await failedProvenanceCheck { try await verify("pypi_attestations-0.0.19.tar.gz", digestOf: "gitlab_oidc_project-0.0.3.tar.gz") }
                == "statement_subject")
        #expect(
            await failedProvenanceCheck { try await verify("pypi_attestations-0.0.19.tar.gz", as: "pypi_attestations-0.0.20.tar.gz") }
                == "statement_subject")
    }

    @Test func aLogKeyTheRootDoesNotHoldIsRefused() async throws {
        let json = try rootJSON { $0["tlogs"] = [] }
        #expect(await failedProvenanceCheck { try await verify("pypi_attestations-0.0.19.tar.gz", root: try TrustedRoot(json: json)) } == "log_key")
    }

    @Test func aRootThatLacksTheCAIsRefused() async throws {
        let json = try rootJSON { $0["certificateAuthorities"] = [] }
        #expect(
            await failedProvenanceCheck { try await verify("pypi_attestations-0.0.19.tar.gz", root: try TrustedRoot(json: json)) }
                == "certificate_chain")
    }

    @Test func aRootWithoutTheCTLogIsRefused() async throws {
        let json = try rootJSON { $0["ctlogs"] = [] }
        #expect(
            await failedProvenanceCheck { try await verify("pypi_attestations-0.0.19.tar.gz", root: try TrustedRoot(json: json)) }
                == "certificate_timestamp")
    }

    @Test func aForgedSignedEntryTimestampIsRefused() async throws {
        let changed = try editedLogEntry { $0["integratedTime"] = "1733354042" }  // one second later: the log never signed this
        #expect(await failedProvenanceCheck { try await verify("pypi_attestations-0.0.19.tar.gz", provenance: changed) } == "signed_entry_timestamp")
    }

    @Test func aBrokenInclusionProofOrCheckpointIsRefused() async throws {
        let wrongHash = try editedLogEntry { entry in
            var proof = entry["inclusionProof"] as! [String: Any]
            var hashes = proof["hashes"] as! [String]
            hashes[3] = hashes[4]
            proof["hashes"] = hashes
            entry["inclusionProof"] = proof
        }
        #expect(await failedProvenanceCheck { try await verify("pypi_attestations-0.0.19.tar.gz", provenance: wrongHash) } == "inclusion_proof")
        let forgedCheckpoint = try editedLogEntry { entry in
            var proof = entry["inclusionProof"] as! [String: Any]
            var checkpoint = proof["checkpoint"] as! [String: Any]
            checkpoint["envelope"] = (checkpoint["envelope"] as! String).replacingOccurrences(of: "rekor.sigstore.dev - ", with: "rekor.example - ")
            proof["checkpoint"] = checkpoint
            entry["inclusionProof"] = proof
        }
        #expect(await failedProvenanceCheck { try await verify("pypi_attestations-0.0.19.tar.gz", provenance: forgedCheckpoint) } == "checkpoint")
    }

    /// The 0.0.19 provenance with its first attestation changed by `edit`.
    func editedProvenance(_ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        var doc = try JSONSerialization.jsonObject(with: Data(try assets.bytes("pypi_attestations-0.0.19.tar.gz.provenance"))) as! [String: Any]
        var bundles = doc["attestation_bundles"] as! [[String: Any]]
        var attestations = bundles[0]["attestations"] as! [[String: Any]]
        edit(&attestations[0])
        bundles[0]["attestations"] = attestations
        doc["attestation_bundles"] = bundles
        return Array(try JSONSerialization.data(withJSONObject: doc))
    }

    /// The 0.0.19 provenance with its first transparency-log entry changed by `edit`.
    func editedLogEntry(_ edit: @escaping (inout [String: Any]) -> Void) throws -> [UInt8] {
        try editedProvenance { attestation in
            var material = attestation["verification_material"] as! [String: Any]
            var entries = material["transparency_entries"] as! [[String: Any]]
            edit(&entries[0])
            material["transparency_entries"] = entries
            attestation["verification_material"] = material
        }
    }

    func rootJSON(_ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        var doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: assets.trustedRoot))) as! [String: Any]
        edit(&doc)
        return Array(try JSONSerialization.data(withJSONObject: doc))
    }
}
