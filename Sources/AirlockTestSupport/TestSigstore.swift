import AirlockCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// A Sigstore instance made in a test: its own certificate authority, CT log key and Rekor log key,
/// a `trusted_root.json` naming them, and PEP 740 provenance objects it issues for any file and
/// publisher, signed the way the public-good instance signs (Fulcio leaf with an embedded SCT, DSSE
/// envelope, Rekor dsse entry with a signed entry timestamp and an inclusion proof to a signed checkpoint).
public struct TestSigstore: Sendable {
    private let keys = [P256.Signing.PrivateKey(), P256.Signing.PrivateKey(), P256.Signing.PrivateKey()].map(\.rawRepresentation)
    var caKey: P256.Signing.PrivateKey { try! .init(rawRepresentation: keys[0]) }
    var ctKey: P256.Signing.PrivateKey { try! .init(rawRepresentation: keys[1]) }
    var logKey: P256.Signing.PrivateKey { try! .init(rawRepresentation: keys[2]) }
    let caCertificate: Certificate
    let caName: DistinguishedName

    public init() throws {
        caName = try DistinguishedName {
            OrganizationName("airlock test sigstore")
            CommonName("test fulcio")
        }
        let now = Date()
        let caKey = try P256.Signing.PrivateKey(rawRepresentation: keys[0])
        caCertificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-10 * 365 * 86_400), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey))
    }

    /// The trust root naming this instance's CA, log key and CT key, valid from ten years back.
    public func trustedRoot(withoutCA: Bool = false) throws -> [UInt8] {
        let start = "2016-01-01T00:00:00Z"
        func key(_ k: P256.Signing.PublicKey) -> [String: Any] {
            ["rawBytes": Data(k.derRepresentation).base64EncodedString(), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": ["start": start]]
        }
        func log(_ k: P256.Signing.PublicKey, _ url: String) -> [String: Any] {
            [
                "baseUrl": url, "hashAlgorithm": "SHA2_256", "publicKey": key(k),
                "logId": ["keyId": Data(SHA256.hash(data: k.derRepresentation)).base64EncodedString()],
            ]
        }
        var ca = DER.Serializer()
        try ca.serialize(caCertificate)
        let doc: [String: Any] = [
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(logKey.publicKey, "https://rekor.test")],
            "ctlogs": [log(ctKey.publicKey, "https://ctfe.test")],
            "certificateAuthorities": withoutCA
                ? []
                : [
                    [
                        "subject": ["organization": "airlock test sigstore", "commonName": "test fulcio"], "uri": "https://fulcio.test",
                        "certChain": ["certificates": [["rawBytes": Data(ca.serializedBytes).base64EncodedString()]]], "validFor": ["start": start],
                    ]
                ],
        ]
        return Array(try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys]))
    }

    /// What to change when issuing, for tests of refusals.
    public struct Tampering: Sendable {
        /// The certificate's validity, instead of ten minutes around the signing time.
        public var certificateValidity: (Date, Date)?
        /// Sign the log entry with a key the trust root does not hold.
        public var unknownLogKey = false
        public init(certificateValidity: (Date, Date)? = nil, unknownLogKey: Bool = false) {
            self.certificateValidity = certificateValidity
            self.unknownLogKey = unknownLogKey
        }
    }

    /// A PEP 740 provenance object for `filename` with `sha256`, published by GitHub Actions from
    /// `repository` (`org/name`) and `workflow`, signed and logged at `time`.
    public func provenance(
        filename: String, sha256: AirlockCore.Digest, repository: String, workflow: String = "release.yml", environment: String? = nil,
        at time: Date = Date(), tampering: Tampering = Tampering()
    ) throws -> [UInt8] {
        let leafKey = P256.Signing.PrivateKey()
        let statement = Array(
            try JSONSerialization.data(
                withJSONObject: [
                    "_type": "https://in-toto.io/Statement/v1", "subject": [["name": filename, "digest": ["sha256": sha256.hex]]],
                    "predicateType": "https://docs.pypi.org/attestations/publish/v1", "predicate": NSNull(),
                ] as [String: Any], options: [.sortedKeys]))
        let type = "application/vnd.in-toto+json"
        let pae = Array("DSSEv1 \(type.utf8.count) \(type) \(statement.count) ".utf8) + statement
        let signature = Array(try leafKey.signature(for: pae).derRepresentation)

        let leaf = try issueLeaf(
            key: leafKey.publicKey, repository: repository, workflow: workflow, at: time, validity: tampering.certificateValidity)
        var leafDER = DER.Serializer()
        try leafDER.serialize(leaf)
        let pem = try leaf.serializeAsPEM().pemString

        let body = Array(
            try JSONSerialization.data(
                withJSONObject: [
                    "apiVersion": "0.0.1", "kind": "dsse",
                    "spec": [
                        "envelopeHash": ["algorithm": "sha256", "value": AirlockCore.Digest.of(statement + signature).hex],
                        "payloadHash": ["algorithm": "sha256", "value": AirlockCore.Digest.of(statement).hex],
                        "signatures": [["signature": Data(signature).base64EncodedString(), "verifier": Data(pem.utf8).base64EncodedString()]],
                    ],
                ] as [String: Any], options: [.sortedKeys]))
        let signer = tampering.unknownLogKey ? P256.Signing.PrivateKey() : logKey
        let logID = Array(SHA256.hash(data: signer.publicKey.derRepresentation))
        let integrated = Int(time.timeIntervalSince1970)
        let index = 1
        let bodyB64 = Data(body).base64EncodedString()
        let hexID = logID.map { String(format: "%02x", $0) }.joined()
        let set = "{\"body\":\"\(bodyB64)\",\"integratedTime\":\(integrated),\"logID\":\"\(hexID)\",\"logIndex\":\(index)}"
        // A tree of two leaves, ours second.
        let sibling = Array(SHA256.hash(data: [0] + Array("another entry".utf8)))
        let ours = Array(SHA256.hash(data: [0] + body))
        let rootHash = Array(SHA256.hash(data: [1] + sibling + ours))
        let note = "rekor.test - 1\n2\n\(Data(rootHash).base64EncodedString())\n"
        let noteSignature = Array(logID.prefix(4)) + Array(try signer.signature(for: Array(note.utf8)).derRepresentation)
        let entry: [String: Any] = [
            "logIndex": String(index), "logId": ["keyId": Data(logID).base64EncodedString()], "kindVersion": ["kind": "dsse", "version": "0.0.1"],
            "integratedTime": String(integrated), "canonicalizedBody": bodyB64,
            "inclusionPromise": ["signedEntryTimestamp": Data(try signer.signature(for: Array(set.utf8)).derRepresentation).base64EncodedString()],
            "inclusionProof": [
                "logIndex": String(index), "treeSize": "2", "rootHash": Data(rootHash).base64EncodedString(),
                "hashes": [Data(sibling).base64EncodedString()],
                "checkpoint": ["envelope": note + "\n\u{2014} rekor.test \(Data(noteSignature).base64EncodedString())\n"],
            ],
        ]
        var publisher: [String: Any] = ["kind": "GitHub", "repository": repository, "workflow": workflow]
        publisher["environment"] = environment ?? NSNull()
        let doc: [String: Any] = [
            "version": 1,
            "attestation_bundles": [
                [
                    "publisher": publisher,
                    "attestations": [
                        [
                            "version": 1,
                            "verification_material": [
                                "certificate": Data(leafDER.serializedBytes).base64EncodedString(), "transparency_entries": [entry],
                            ],
                            "envelope": ["statement": Data(statement).base64EncodedString(), "signature": Data(signature).base64EncodedString()],
                        ]
                    ],
                ]
            ],
        ]
        return Array(try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys]))
    }

    /// A Fulcio-style leaf: GitHub Actions identity extensions, then an SCT over the certificate without it.
    private func issueLeaf(key: P256.Signing.PublicKey, repository: String, workflow: String, at time: Date, validity: (Date, Date)?) throws
        -> Certificate
    {
        let (from, until) = validity ?? (time.addingTimeInterval(-60), time.addingTimeInterval(540))
        let workflowURI = "https://github.com/\(repository)/.github/workflows/\(workflow)@refs/tags/v1"
        func utf8(_ arc: UInt, _ value: String) throws -> Certificate.Extension {
            var s = DER.Serializer()
            try s.serialize(ASN1UTF8String(value))
            return Certificate.Extension(
                oid: try ASN1ObjectIdentifier(elements: [1, 3, 6, 1, 4, 1, 57264, 1, arc]), critical: false, value: s.serializedBytes[...])
        }
        var extensions = [
            try Certificate.Extension(KeyUsage(digitalSignature: true), critical: true),
            try Certificate.Extension(try ExtendedKeyUsage([.codeSigning]), critical: false),
            try Certificate.Extension(SubjectAlternativeNames([.uniformResourceIdentifier(workflowURI)]), critical: true),
            try utf8(8, "https://token.actions.githubusercontent.com"),
            try utf8(12, "https://github.com/\(repository)"),
            try utf8(14, "refs/tags/v1"),
            try utf8(18, workflowURI),
        ]
        let serial = Certificate.SerialNumber()
        func make(_ extensions: [Certificate.Extension]) throws -> Certificate {
            try Certificate(
                version: .v3, serialNumber: serial, publicKey: .init(key), notValidBefore: from, notValidAfter: until,
                issuer: caName, subject: DistinguishedName(), signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions(extensions), issuerPrivateKey: .init(caKey))
        }
        // RFC 6962: the CT log signs the certificate without its SCT list, bound to the issuer's key.
        let precertificate = try make(extensions)
        let tbs = Array(precertificate.tbsCertificateBytes)
        var issuerKey = DER.Serializer()
        try issuerKey.serialize(caCertificate.publicKey)
        let milliseconds = UInt64(time.timeIntervalSince1970 * 1000)
        let stamp = (0..<8).reversed().map { UInt8(truncatingIfNeeded: milliseconds >> (8 * UInt64($0))) }
        let signed: [UInt8] =
            [0, 0] + stamp + [0, 1] + Array(SHA256.hash(data: issuerKey.serializedBytes))
            + [UInt8(tbs.count >> 16 & 0xff), UInt8(tbs.count >> 8 & 0xff), UInt8(tbs.count & 0xff)] + tbs + [0, 0]
        let sctSignature = Array(try ctKey.signature(for: signed).derRepresentation)
        let ctLogID = Array(SHA256.hash(data: ctKey.publicKey.derRepresentation))
        let sct: [UInt8] =
            [0] + ctLogID + stamp + [0, 0] + [4, 3] + [UInt8(sctSignature.count >> 8), UInt8(sctSignature.count & 0xff)] + sctSignature
        let list: [UInt8] = [UInt8((sct.count + 2) >> 8), UInt8((sct.count + 2) & 0xff), UInt8(sct.count >> 8), UInt8(sct.count & 0xff)] + sct
        var octets = DER.Serializer()
        try octets.serialize(ASN1OctetString(contentBytes: list[...]))
        extensions.append(Certificate.Extension(oid: [1, 3, 6, 1, 4, 1, 11129, 2, 4, 2], critical: false, value: octets.serializedBytes[...]))
        return try make(extensions)
    }
}
