import Crypto
import Foundation
import SwiftASN1
import X509

/// Signed certificate timestamps embedded in a certificate (RFC 6962 §3.3) and the precertificate
/// entry they sign: what a CT log promised to publish when the certificate was issued.
enum CertificateTransparency {
    static let sctListOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 11129, 2, 4, 2]

    struct Timestamp {
        let logID: [UInt8]
        let milliseconds: UInt64
        let extensions: [UInt8]
        let signature: [UInt8]
        var date: Date { Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000) }

        /// The `digitally-signed` structure: version, certificate_timestamp, time, precert_entry, the entry, extensions.
        func signedData(entry: [UInt8]) -> [UInt8] {
            var out: [UInt8] = [0, 0]
            out += (0..<8).reversed().map { UInt8(truncatingIfNeeded: milliseconds >> (8 * UInt64($0))) }
            out += [0, 1]
            out += entry
            out += [UInt8(extensions.count >> 8), UInt8(extensions.count & 0xff)] + extensions
            return out
        }
    }

    struct ParseError: Error, CustomStringConvertible { let description: String }

    /// Reads the TLS-encoded `SignedCertificateTimestampList` inside the extension's OCTET STRING.
    static func timestamps(in extensionValue: ArraySlice<UInt8>) throws -> [Timestamp] {
        var list = Reader(bytes: try ASN1OctetString(derEncoded: extensionValue).bytes)
        var all = Reader(bytes: try list.take(try list.integer(2)))
        var result: [Timestamp] = []
        while !all.isAtEnd {
            var sct = Reader(bytes: try all.take(try all.integer(2)))
            guard try sct.integer(1) == 0 else { continue }  // only v1 is defined
            let logID = Array(try sct.take(32))
            let time = UInt64(try sct.integer(8))
            let extensions = Array(try sct.take(try sct.integer(2)))
            _ = try sct.take(2)  // hash and signature algorithm: the log key decides
            let signature = Array(try sct.take(try sct.integer(2)))
            result.append(Timestamp(logID: logID, milliseconds: time, extensions: extensions, signature: signature))
        }
        return result
    }

    /// `issuer_key_hash` and the leaf's TBSCertificate without the SCT list extension, length-prefixed.
    static func precertificateEntry(leaf: Certificate, issuer: Certificate) throws -> [UInt8] {
        var key = DER.Serializer()
        try key.serialize(issuer.publicKey)
        let tbs = try tbsWithoutTimestamps(leaf.tbsCertificateBytes)
        let n = tbs.count
        return Array(SHA256.hash(data: key.serializedBytes)) + [UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + tbs
    }

    private static func tbsWithoutTimestamps(_ tbs: ArraySlice<UInt8>) throws -> [UInt8] {
        let node = try DER.parse(Array(tbs))
        guard case .constructed(let children) = node.content else { throw ParseError(description: "TBSCertificate is not a SEQUENCE") }
        let extensionsTag = ASN1Identifier(tagWithNumber: 3, tagClass: .contextSpecific)
        var out = DER.Serializer()
        try out.appendConstructedNode(identifier: node.identifier) { out in
            for child in children {
                guard child.identifier == extensionsTag, case .constructed(let wrapped) = child.content else {
                    out.serializeRawBytes(child.encodedBytes)
                    continue
                }
                try out.appendConstructedNode(identifier: extensionsTag) { out in
                    for sequence in wrapped {
                        guard case .constructed(let extensions) = sequence.content else {
                            throw ParseError(description: "extensions are not a SEQUENCE")
                        }
                        try out.appendConstructedNode(identifier: sequence.identifier) { out in
                            for ext in extensions where try Certificate.Extension(derEncoded: ext).oid != sctListOID {
                                out.serializeRawBytes(ext.encodedBytes)
                            }
                        }
                    }
                }
            }
        }
        return out.serializedBytes
    }

    /// Big-endian TLS presentation-language reader.
    private struct Reader {
        var bytes: ArraySlice<UInt8>
        var isAtEnd: Bool { bytes.isEmpty }

        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, bytes.count >= n else { throw ParseError(description: "truncated signed certificate timestamp list") }
            defer { bytes = bytes.dropFirst(n) }
            return bytes.prefix(n)
        }

        mutating func integer(_ width: Int) throws -> Int { try take(width).reduce(0) { $0 << 8 | Int($1) } }
    }
}
