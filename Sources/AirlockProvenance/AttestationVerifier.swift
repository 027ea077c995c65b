import AirlockCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// Verifies PEP 740 attestations offline against a `TrustedRoot`, every check from the statement to
/// the certificate authority: the in-toto statement names the file and its SHA-256 with a known
/// predicate type; the DSSE signature verifies with the certificate's key; each transparency-log
/// entry is signed by a log key of the root (signed entry timestamp and/or inclusion proof against a
/// signed checkpoint) and records this very signature and certificate; the certificate was valid at
/// the log's time, chains to a Fulcio CA of the root valid then, and carries a certificate-transparency
/// timestamp signed by a CT log of the root. Failures name the check (`ProvenanceError.failed`).
public struct AttestationVerifier: Sendable {
    public let root: TrustedRoot

    /// Predicate types airlock accepts: PyPI's publish attestation and SLSA provenance.
    public static let pypiPublishPredicate = "https://docs.pypi.org/attestations/publish/v1"
    public static let knownPredicateTypes: Set<String> = [pypiPublishPredicate, "https://slsa.dev/provenance/v1"]
    static let inTotoStatementType = "https://in-toto.io/Statement/v1"
    static let inTotoPayloadType = "application/vnd.in-toto+json"

    public init(root: TrustedRoot) { self.root = root }

    /// What a verified provenance object proves about its file.
    public struct Verified: Sendable, Equatable {
        /// The publisher of the first bundle (PyPI serves one bundle per publisher, normally one).
        public let publisher: Publisher
        public let publishers: [Publisher]
        public let predicateTypes: [String]
        /// The earliest transparency-log time among the attestations.
        public let signedAt: Date
    }

    /// Verifies every attestation of `provenance` for the file `filename` with digest `sha256`; throws
    /// at the first check that fails. A provenance object without attestations fails.
    public func verify(_ provenance: Provenance, filename: String, sha256: AirlockCore.Digest) async throws -> Verified {
        var publishers: [Publisher] = []
        var types: [String] = []
        var earliest: Date?
        for bundle in provenance.bundles {
            for attestation in bundle.attestations {
                let (publisher, type, time) = try await verify(attestation, claimed: bundle.claimedPublisher, filename: filename, sha256: sha256)
                if !publishers.contains(publisher) { publishers.append(publisher) }
                if !types.contains(type) { types.append(type) }
                earliest = min(earliest ?? time, time)
            }
        }
        guard let first = publishers.first, let earliest else {
            throw ProvenanceError.failed(check: "attestations", detail: "the provenance holds no attestation")
        }
        return Verified(publisher: first, publishers: publishers, predicateTypes: types, signedAt: earliest)
    }

    func verify(_ a: Provenance.Attestation, claimed: [String: String], filename: String, sha256: AirlockCore.Digest) async throws -> (
        Publisher, String, Date
    ) {
        let leaf: Certificate
        do { leaf = try Certificate(derEncoded: a.certificateDER) } catch {
            throw fail("certificate", "the signing certificate does not parse: \(error)")
        }
        // Authenticate the statement before reading it.
        let pae = Array("DSSEv1 \(Self.inTotoPayloadType.utf8.count) \(Self.inTotoPayloadType) \(a.statement.count) ".utf8) + a.statement
        guard let algorithm = signatureAlgorithm(of: leaf.publicKey),
            leaf.publicKey.isValidSignature(a.signature, for: pae, signatureAlgorithm: algorithm)
        else {
            throw fail("envelope_signature", "the DSSE signature does not verify with the certificate's key")
        }
        let predicateType = try checkStatement(a.statement, filename: filename, sha256: sha256)
        guard !a.logEntries.isEmpty else { throw fail("transparency_log", "the attestation has no transparency-log entry") }
        var signedAt: Date?
        for entry in a.logEntries {
            let time = try checkLogEntry(entry, statement: a.statement, signature: a.signature, leaf: leaf)
            signedAt = signedAt ?? time
        }
        let time = signedAt!
        guard leaf.notValidBefore <= time, time <= leaf.notValidAfter else {
            throw fail(
                "certificate_validity",
                "the certificate is valid \(stamp(leaf.notValidBefore))–\(stamp(leaf.notValidAfter)), the log recorded the signature at \(stamp(time))"
            )
        }
        let issuer = try await checkChain(leaf, at: time)
        try checkCertificateTimestamps(leaf, issuer: issuer)
        return (try Publisher(certificate: leaf, claimed: claimed), predicateType, time)
    }

    // MARK: the statement

    private func checkStatement(_ bytes: [UInt8], filename: String, sha256: AirlockCore.Digest) throws -> String {
        let doc: JSONValue
        do { doc = try JSONValue(parsing: bytes) } catch { throw fail("statement", "the in-toto statement is not JSON: \(error)") }
        guard doc["_type"]?.string == Self.inTotoStatementType else {
            throw fail("statement", "the statement's _type is not \(Self.inTotoStatementType)")
        }
        guard let type = doc["predicateType"]?.string, Self.knownPredicateTypes.contains(type) else {
            throw fail("predicate_type", "unknown predicate type \(doc["predicateType"]?.string ?? "(none)")")
        }
        let subjects = doc["subject"]?.array ?? []
        guard subjects.count == 1, let subject = subjects.first else {
            throw fail("statement_subject", "the statement has \(subjects.count) subjects, not one")
        }
        let name = subject["name"]?.string ?? ""
        guard name == filename else { throw fail("statement_subject", "the statement names \(name), not \(filename)") }
        guard subject["digest"]?["sha256"]?.string.flatMap(AirlockCore.Digest.init(hex:)) == sha256 else {
            throw fail(
                "statement_subject", "the statement's sha256 \(subject["digest"]?["sha256"]?.string ?? "(none)") is not the file's \(sha256.hex)")
        }
        return type
    }

    // MARK: the transparency log

    /// Checks one Rekor entry; returns the time it was integrated into the log.
    private func checkLogEntry(_ entry: Provenance.LogEntry, statement: [UInt8], signature: [UInt8], leaf: Certificate) throws -> Date {
        let time = Date(timeIntervalSince1970: TimeInterval(entry.integratedTime))
        guard let log = root.transparencyLog(id: entry.logKeyID) else {
            throw fail("log_key", "the entry is signed by log key \(hex(entry.logKeyID)), which the trusted root does not hold")
        }
        guard log.validity.contains(time) else { throw fail("log_key", "log key \(hex(entry.logKeyID)) was not valid at \(stamp(time))") }
        try checkEntryBody(entry.canonicalizedBody, statement: statement, signature: signature, leaf: leaf)
        guard entry.signedEntryTimestamp != nil || entry.inclusionProof != nil else {
            throw fail("transparency_log", "the entry has neither a signed entry timestamp nor an inclusion proof")
        }
        if let set = entry.signedEntryTimestamp {
            // RFC 8785 form of the fields Rekor signs (sorted keys, no space; base64 needs no escaping).
            let signed =
                "{\"body\":\"\(entry.canonicalizedBodyBase64)\",\"integratedTime\":\(entry.integratedTime),\"logID\":\"\(hex(entry.logKeyID))\",\"logIndex\":\(entry.logIndex)}"
            guard verifies(log.key, signature: set, over: Array(signed.utf8)) else {
                throw fail("signed_entry_timestamp", "the log's signed entry timestamp does not verify with log key \(hex(entry.logKeyID))")
            }
        }
        if let proof = entry.inclusionProof {
            let computed = try MerkleTree.root(
                leaf: MerkleTree.leafHash(entry.canonicalizedBody), index: proof.logIndex, size: proof.treeSize, proof: proof.hashes)
            guard computed == proof.rootHash else { throw fail("inclusion_proof", "the inclusion proof does not lead to the root hash it names") }
            try checkCheckpoint(proof, key: log)
        }
        return time
    }

    /// The entry must record this signature, this certificate and this statement: a valid entry for
    /// something else proves nothing about this file.
    private func checkEntryBody(_ body: [UInt8], statement: [UInt8], signature: [UInt8], leaf: Certificate) throws {
        guard let doc = try? JSONValue(parsing: body), doc["kind"]?.string == "dsse", let spec = doc["spec"] else {
            throw fail("log_entry_body", "the log entry is not a dsse entry")
        }
        guard spec["payloadHash"]?["value"]?.string == AirlockCore.Digest.of(statement).hex else {
            throw fail("log_entry_body", "the log entry records another statement")
        }
        let recorded = (spec["signatures"]?.array ?? []).contains { sig in
            guard sig["signature"]?.string.flatMap(base64Bytes) == signature,
                let pem = sig["verifier"]?.string.flatMap(base64Bytes),
                let cert = try? Certificate(pemEncoded: String(decoding: pem, as: UTF8.self))
            else { return false }
            return cert == leaf
        }
        guard recorded else { throw fail("log_entry_body", "the log entry records another signature or certificate") }
    }

    /// A checkpoint is a signed note (origin, tree size, root hash); one of its signatures must verify with the log's key.
    private func checkCheckpoint(_ proof: Provenance.InclusionProof, key: TrustedRoot.LogKey) throws {
        guard let split = proof.checkpoint.range(of: "\n\n") else { throw fail("checkpoint", "the checkpoint is not a signed note") }
        let text = String(proof.checkpoint[..<split.lowerBound]) + "\n"
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3, Int(lines[1]) == proof.treeSize, base64Bytes(String(lines[2])) == proof.rootHash else {
            throw fail("checkpoint", "the checkpoint is not for the proof's tree size and root hash")
        }
        let signatures = proof.checkpoint[split.upperBound...].split(separator: "\n").compactMap { line -> [UInt8]? in
            guard line.hasPrefix("\u{2014} "), let b64 = line.split(separator: " ").last, let raw = base64Bytes(String(b64)), raw.count > 4 else {
                return nil
            }
            return Array(raw.dropFirst(4))  // a 4-byte key hint, then the signature
        }
        guard signatures.contains(where: { verifies(key.key, signature: $0, over: Array(text.utf8)) }) else {
            throw fail("checkpoint", "no signature on the checkpoint verifies with log key \(hex(key.keyID))")
        }
    }

    // MARK: the certificate

    /// Builds the chain to a Fulcio CA valid at `time`; returns the certificate that issued the leaf.
    private func checkChain(_ leaf: Certificate, at time: Date) async throws -> Certificate {
        let authorities = root.authorities.filter { $0.validity.contains(time) }
        guard !authorities.isEmpty else { throw fail("certificate_chain", "the trusted root holds no certificate authority valid at \(stamp(time))") }
        let roots = CertificateStore(authorities.compactMap(\.chain.last))
        let intermediates = CertificateStore(authorities.flatMap { $0.chain.dropLast() })
        var verifier = Verifier(rootCertificates: roots) {
            RFC5280Policy(validationTime: time)
            CodeSigningLeafPolicy()
        }
        switch await verifier.validate(leaf: leaf, intermediates: intermediates) {
        case .validCertificate(let chain) where chain.count >= 2:
            return chain[1]
        case .validCertificate:
            throw fail("certificate_chain", "the signing certificate is itself a root")
        case .couldNotValidate(let failures):
            let why = failures.first.map { ": \($0.policyFailureReason)" } ?? ""
            throw fail(
                "certificate_chain", "the certificate does not chain to a certificate authority of the trusted root valid at \(stamp(time))\(why)")
        }
    }

    /// The certificate must carry a signed certificate timestamp (RFC 6962) from a CT log of the root.
    private func checkCertificateTimestamps(_ leaf: Certificate, issuer: Certificate) throws {
        guard let ext = leaf.extensions.first(where: { $0.oid == CertificateTransparency.sctListOID }) else {
            throw fail("certificate_timestamp", "the certificate carries no signed certificate timestamp")
        }
        let timestamps: [CertificateTransparency.Timestamp]
        let signedPrefix: [UInt8]
        do {
            timestamps = try CertificateTransparency.timestamps(in: ext.value)
            signedPrefix = try CertificateTransparency.precertificateEntry(leaf: leaf, issuer: issuer)
        } catch { throw fail("certificate_timestamp", "the signed certificate timestamps do not parse: \(error)") }
        for sct in timestamps {
            guard let log = root.certificateLogs.first(where: { $0.keyID == sct.logID }), log.validity.contains(sct.date) else { continue }
            if verifies(log.key, signature: sct.signature, over: sct.signedData(entry: signedPrefix)) { return }
        }
        throw fail("certificate_timestamp", "no signed certificate timestamp verifies with a CT log key of the trusted root")
    }

    // MARK: helpers

    private func verifies(_ key: Certificate.PublicKey, signature: [UInt8], over data: [UInt8]) -> Bool {
        guard let algorithm = signatureAlgorithm(of: key) else { return false }
        return key.isValidSignature(signature, for: data, signatureAlgorithm: algorithm)
    }

    private func fail(_ check: String, _ detail: String) -> ProvenanceError { .failed(check: check, detail: detail) }
}

/// The algorithm Sigstore signs with for a key of this type: ECDSA with the curve's hash, or Ed25519.
func signatureAlgorithm(of key: Certificate.PublicKey) -> Certificate.SignatureAlgorithm? {
    if P256.Signing.PublicKey(key) != nil { return .ecdsaWithSHA256 }
    if P384.Signing.PublicKey(key) != nil { return .ecdsaWithSHA384 }
    if P521.Signing.PublicKey(key) != nil { return .ecdsaWithSHA512 }
    if Curve25519.Signing.PublicKey(key) != nil { return .ed25519 }
    return nil
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

private func stamp(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

/// Fulcio's leaf certificates: code signing, with a critical subject alternative name (the identity).
struct CodeSigningLeafPolicy: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [.X509ExtensionID.subjectAlternativeName]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        guard let usage = try? chain.leaf.extensions.extendedKeyUsage, usage.contains(.codeSigning) else {
            return .failsToMeetPolicy(reason: "the leaf certificate is not for code signing")
        }
        return .meetsPolicy
    }
}
