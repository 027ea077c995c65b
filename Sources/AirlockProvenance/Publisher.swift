import AirlockCore
import Foundation
import SwiftASN1
import X509

/// Fulcio's certificate extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md).
enum FulcioExtension {
    static let legacyIssuer: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 57264, 1, 1]
    static let issuer: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 57264, 1, 8]
    static let sourceRepositoryURI: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 57264, 1, 12]
    static let sourceRepositoryRef: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 57264, 1, 14]
    static let buildConfigURI: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 57264, 1, 18]
}

extension Publisher {
    /// Reads the publisher from a verified leaf certificate; `claimed` is the index's unsigned
    /// description, of which only the environment is taken (the rest must agree with the certificate).
    init(certificate: Certificate, claimed: [String: String]) throws {
        func utf8(_ oid: ASN1ObjectIdentifier) -> String? {
            guard let ext = certificate.extensions.first(where: { $0.oid == oid }) else { return nil }
            if let s = try? ASN1UTF8String(derEncoded: ext.value) { return String(s) }
            return nil
        }
        let legacy = certificate.extensions.first { $0.oid == FulcioExtension.legacyIssuer }.map { String(decoding: $0.value, as: UTF8.self) }
        guard let issuer = utf8(FulcioExtension.issuer) ?? legacy else {
            throw ProvenanceError.failed(check: "publisher", detail: "the certificate names no OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8)")
        }
        var san = ""
        for name in (try? certificate.extensions.subjectAlternativeNames) ?? SubjectAlternativeNames() {
            if case .uniformResourceIdentifier(let uri) = name {
                san = uri
                break
            }
            if case .rfc822Name(let mail) = name {
                san = mail
                break
            }
        }
        let sourceRepository = utf8(FulcioExtension.sourceRepositoryURI)
        let buildConfig = utf8(FulcioExtension.buildConfigURI) ?? san
        let ref = utf8(FulcioExtension.sourceRepositoryRef)

        func path(_ uri: String?, host: String) -> String? {
            guard let uri else { return nil }
            for prefix in ["https://\(host)/", "\(host)/"] where uri.hasPrefix(prefix) { return String(uri.dropFirst(prefix.count)) }
            return nil
        }
        /// `…/.github/workflows/release.yml@refs/tags/v1` → `release.yml`.
        func workflowFile(_ uri: String, marker: String) -> String? {
            let rest = uri.hasPrefix("https://") ? uri.dropFirst(8) : Substring(uri)
            guard let r = rest.range(of: marker) else { return nil }
            return String(rest[r.upperBound...].prefix { $0 != "@" })
        }

        let kind: String
        let identity: String
        let repository: String?
        let workflow: String?
        switch issuer {
        case "https://token.actions.githubusercontent.com":
            kind = "github"
            repository = path(sourceRepository, host: "github.com")
            workflow = workflowFile(buildConfig, marker: "/.github/workflows/")
            identity = "github:" + (repository ?? san)
        case "https://gitlab.com":
            kind = "gitlab"
            repository = path(sourceRepository, host: "gitlab.com")
            workflow = workflowFile(buildConfig, marker: "//")
            identity = "gitlab:" + (repository ?? san)
        case "https://accounts.google.com":
            kind = "google"
            repository = nil
            workflow = nil
            identity = "google:" + san
        case let i where i.hasPrefix("https://oidc.circleci.com"):
            kind = "circleci"
            repository = sourceRepository
            workflow = nil
            identity = "circleci:" + (san.range(of: "/projects/").map { String(san[$0.upperBound...]) } ?? san)
        default:
            kind = "oidc"
            repository = sourceRepository
            workflow = nil
            identity = "oidc:\(issuer)#\(san)"
        }
        // The index's claim is unsigned: where it names a repository or workflow, it must be the certificate's.
        if let claimedRepo = claimed["repository"], let repository, claimedRepo.lowercased() != repository.lowercased() {
            throw ProvenanceError.failed(check: "publisher_claim", detail: "the index names repository \(claimedRepo), the certificate \(repository)")
        }
        if let claimedWorkflow = claimed["workflow"] ?? claimed["workflow_filepath"], let workflow,
            claimedWorkflow.split(separator: "/").last.map(String.init) != workflow
        {
            throw ProvenanceError.failed(check: "publisher_claim", detail: "the index names workflow \(claimedWorkflow), the certificate \(workflow)")
        }
        self.init(
            kind: kind, identity: identity, issuer: issuer, subject: san, repository: repository, workflow: workflow, ref: ref,
            environment: claimed["environment"])
    }
}
