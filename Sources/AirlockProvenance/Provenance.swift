import AirlockCore
import Foundation

/// A PEP 740 provenance object as an index serves it for one file: attestation bundles, each the
/// attestations one publisher made, with the publisher as the index claims it. The claim is not
/// signed; what a verified attestation proves comes from its certificate (`Publisher`).
public struct Provenance: Sendable {
    public struct Bundle: Sendable {
        /// The index's description of the publisher (`kind`, `repository`, `workflow`, …), unsigned.
        public let claimedPublisher: [String: String]
        public let attestations: [Attestation]
    }

    /// One PEP 740 attestation: a DSSE envelope over an in-toto statement, the signing certificate
    /// and the transparency-log entries that witnessed it.
    public struct Attestation: Sendable {
        public let certificateDER: [UInt8]
        public let statement: [UInt8]
        public let signature: [UInt8]
        public let logEntries: [LogEntry]
    }

    /// A Rekor entry (Sigstore bundle `TransparencyLogEntry`, JSON form).
    public struct LogEntry: Sendable {
        public let logIndex: Int
        public let logKeyID: [UInt8]
        public let integratedTime: Int
        public let canonicalizedBody: [UInt8]
        /// The canonicalized body as the entry carries it (base64), which the signed entry timestamp signs.
        public let canonicalizedBodyBase64: String
        public let signedEntryTimestamp: [UInt8]?
        public let inclusionProof: InclusionProof?
    }

    /// An RFC 6962 inclusion proof with the checkpoint (a signed note) it ends at.
    public struct InclusionProof: Sendable {
        public let logIndex: Int
        public let treeSize: Int
        public let rootHash: [UInt8]
        public let hashes: [[UInt8]]
        public let checkpoint: String
    }

    public let bundles: [Bundle]
    /// The document exactly as fetched: what airlock stores and serves.
    public let bytes: [UInt8]

    /// Parses a provenance object; throws `ProvenanceError.malformed` naming the member.
    public init(json bytes: [UInt8]) throws {
        self.bytes = bytes
        let doc: JSONValue
        do { doc = try JSONValue(parsing: bytes) } catch { throw ProvenanceError.malformed("not JSON: \(error)") }
        guard doc["version"]?.int == 1 else { throw ProvenanceError.malformed("version is not 1") }
        guard let bundles = doc["attestation_bundles"]?.array else { throw ProvenanceError.malformed("attestation_bundles missing") }
        self.bundles = try bundles.enumerated().map { b, bundle in
            var claimed: [String: String] = [:]
            if case .object(let members)? = bundle["publisher"] {
                for (k, v) in members { if let s = v.string { claimed[k] = s } }
            }
            let list = try (bundle["attestations"]?.array ?? []).enumerated().map { a, att in
                try Self.attestation(att, at: "attestation_bundles[\(b)].attestations[\(a)]")
            }
            return Bundle(claimedPublisher: claimed, attestations: list)
        }
    }

    public var attestations: [Attestation] { bundles.flatMap(\.attestations) }

    private static func attestation(_ a: JSONValue, at place: String) throws -> Attestation {
        func bytes(_ v: JSONValue?, _ name: String) throws -> [UInt8] {
            guard let s = v?.string, let b = base64Bytes(s) else { throw ProvenanceError.malformed("\(place): \(name) missing or not base64") }
            return b
        }
        guard a["version"]?.int == 1 else { throw ProvenanceError.malformed("\(place): version is not 1") }
        let material = a["verification_material"]
        let entries = try (material?["transparency_entries"]?.array ?? []).enumerated().map { i, e in
            try logEntry(e, at: "\(place).transparency_entries[\(i)]")
        }
        return Attestation(
            certificateDER: try bytes(material?["certificate"], "verification_material.certificate"),
            statement: try bytes(a["envelope"]?["statement"], "envelope.statement"),
            signature: try bytes(a["envelope"]?["signature"], "envelope.signature"),
            logEntries: entries)
    }

    private static func logEntry(_ e: JSONValue, at place: String) throws -> LogEntry {
        /// Protobuf JSON writes 64-bit integers as strings.
        func integer(_ v: JSONValue?, _ name: String) throws -> Int {
            if let i = v?.int { return i }
            guard let s = v?.string, let i = Int(s) else { throw ProvenanceError.malformed("\(place): \(name) missing or not an integer") }
            return i
        }
        guard let bodyB64 = e["canonicalizedBody"]?.string, let body = base64Bytes(bodyB64) else {
            throw ProvenanceError.malformed("\(place): canonicalizedBody missing or not base64")
        }
        guard let keyID = e["logId"]?["keyId"]?.string.flatMap(base64Bytes) else { throw ProvenanceError.malformed("\(place): logId.keyId missing") }
        var proof: InclusionProof?
        if let p = e["inclusionProof"], !p.isNull {
            let hashes = try (p["hashes"]?.array ?? []).map { h -> [UInt8] in
                guard let b = h.string.flatMap(base64Bytes) else {
                    throw ProvenanceError.malformed("\(place): inclusionProof.hashes holds a non-base64 value")
                }
                return b
            }
            guard let root = p["rootHash"]?.string.flatMap(base64Bytes) else {
                throw ProvenanceError.malformed("\(place): inclusionProof.rootHash missing")
            }
            proof = InclusionProof(
                logIndex: try integer(p["logIndex"], "inclusionProof.logIndex"), treeSize: try integer(p["treeSize"], "inclusionProof.treeSize"),
                rootHash: root, hashes: hashes, checkpoint: p["checkpoint"]?["envelope"]?.string ?? "")
        }
        return LogEntry(
            logIndex: try integer(e["logIndex"], "logIndex"), logKeyID: keyID, integratedTime: try integer(e["integratedTime"], "integratedTime"),
            canonicalizedBody: body, canonicalizedBodyBase64: bodyB64,
            signedEntryTimestamp: e["inclusionPromise"]?["signedEntryTimestamp"]?.string.flatMap(base64Bytes), inclusionProof: proof)
    }
}

/// Why a provenance object or a trusted root was refused; each case names the check that failed.
public enum ProvenanceError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case trustedRoot(String)
    /// A verification check failed: `check` is its stable name (`statement_subject`, `certificate_chain`, …).
    case failed(check: String, detail: String)

    public var description: String {
        switch self {
        case .malformed(let s): "malformed provenance: \(s)"
        case .trustedRoot(let s): "Sigstore trusted root: \(s)"
        case .failed(let check, let detail): "provenance check \(check) failed: \(detail)"
        }
    }
}
