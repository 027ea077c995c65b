import AirlockCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// The Sigstore trust material attestations are verified against, read from a Sigstore
/// `trusted_root.json` (media type `application/vnd.dev.sigstore.trustedroot+json`): the Fulcio
/// certificate authorities, the Rekor transparency logs and the certificate-transparency logs, each
/// with the period it was valid for. Verification never fetches anything: the root is a feed.
public struct TrustedRoot: Sendable {
    /// A certificate authority (Fulcio): the chain from its issuing certificate up to its root.
    public struct Authority: Sendable {
        public let uri: String
        /// Issuing certificate first, self-signed root last.
        public let chain: [Certificate]
        public let validity: Validity
    }

    /// A signing key of a log (Rekor or a CT log), known by its key id (SHA-256 of the key's DER).
    public struct LogKey: Sendable {
        public let baseURL: String
        public let keyID: [UInt8]
        public let key: Certificate.PublicKey
        public let validity: Validity
    }

    /// When a CA or a key may be used: `start` inclusive, `end` (if any) inclusive.
    public struct Validity: Sendable {
        public let start: Date
        public let end: Date?
        public func contains(_ date: Date) -> Bool { date >= start && (end.map { date <= $0 } ?? true) }
    }

    public let authorities: [Authority]
    public let transparencyLogs: [LogKey]
    public let certificateLogs: [LogKey]

    public init(authorities: [Authority], transparencyLogs: [LogKey], certificateLogs: [LogKey]) {
        self.authorities = authorities
        self.transparencyLogs = transparencyLogs
        self.certificateLogs = certificateLogs
    }

    /// The Sigstore public-good instance's root shipped with airlock (see `Resources/SOURCE.md`).
    public static func publicGood() throws -> TrustedRoot {
        guard let url = Bundle.module.url(forResource: "sigstore-trusted-root", withExtension: "json") else {
            throw ProvenanceError.trustedRoot("the shipped Sigstore trusted root is missing from the bundle")
        }
        return try TrustedRoot(json: Array(try Data(contentsOf: url)))
    }

    /// Parses a `trusted_root.json`; throws naming the entry that is malformed.
    public init(json bytes: [UInt8]) throws {
        let doc: JSONValue
        do { doc = try JSONValue(parsing: bytes) } catch { throw ProvenanceError.trustedRoot("not JSON: \(error)") }
        guard let mediaType = doc["mediaType"]?.string, mediaType.hasPrefix("application/vnd.dev.sigstore.trustedroot") else {
            throw ProvenanceError.trustedRoot("mediaType is not application/vnd.dev.sigstore.trustedroot+json")
        }
        authorities = try (doc["certificateAuthorities"]?.array ?? []).enumerated().map { i, ca in
            let where_ = "certificateAuthorities[\(i)]"
            let certs = try (ca["certChain"]?["certificates"]?.array ?? []).map { c -> Certificate in
                guard let der = c["rawBytes"]?.string.flatMap(base64Bytes) else {
                    throw ProvenanceError.trustedRoot("\(where_): a certificate lacks rawBytes")
                }
                do { return try Certificate(derEncoded: der) } catch {
                    throw ProvenanceError.trustedRoot("\(where_): certificate does not parse: \(error)")
                }
            }
            guard !certs.isEmpty else { throw ProvenanceError.trustedRoot("\(where_): empty certificate chain") }
            return Authority(uri: ca["uri"]?.string ?? "", chain: certs, validity: try Self.validity(ca["validFor"], where_))
        }
        transparencyLogs = try Self.logKeys(doc["tlogs"], "tlogs")
        certificateLogs = try Self.logKeys(doc["ctlogs"], "ctlogs")
    }

    private static func logKeys(_ list: JSONValue?, _ name: String) throws -> [LogKey] {
        try (list?.array ?? []).enumerated().map { i, log in
            let where_ = "\(name)[\(i)]"
            guard let der = log["publicKey"]?["rawBytes"]?.string.flatMap(base64Bytes) else {
                throw ProvenanceError.trustedRoot("\(where_): publicKey.rawBytes missing")
            }
            let key: Certificate.PublicKey
            do { key = try Certificate.PublicKey(derEncoded: der) } catch {
                throw ProvenanceError.trustedRoot("\(where_): unsupported public key: \(error)")
            }
            let id = log["logId"]?["keyId"]?.string.flatMap(base64Bytes) ?? Array(SHA256.hash(data: der))
            return LogKey(baseURL: log["baseUrl"]?.string ?? "", keyID: id, key: key, validity: try validity(log["publicKey"]?["validFor"], where_))
        }
    }

    private static func validity(_ v: JSONValue?, _ where_: String) throws -> Validity {
        guard let start = v?["start"]?.string else { return Validity(start: .distantPast, end: nil) }
        guard let s = Timestamp.parse(start) else { throw ProvenanceError.trustedRoot("\(where_): validFor.start is not a timestamp: \(start)") }
        let end = try v?["end"]?.string.map { e -> Date in
            guard let d = Timestamp.parse(e) else { throw ProvenanceError.trustedRoot("\(where_): validFor.end is not a timestamp: \(e)") }
            return d
        }
        return Validity(start: s, end: end)
    }

    /// The transparency log whose key id is `id`.
    func transparencyLog(id: [UInt8]) -> LogKey? { transparencyLogs.first { $0.keyID == id } }
}

func base64Bytes(_ s: String) -> [UInt8]? { Data(base64Encoded: s).map(Array.init) }
