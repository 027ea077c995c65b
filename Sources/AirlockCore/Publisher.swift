public import Foundation

/// Who published a file, as its verified PEP 740 attestation's Fulcio certificate proves it: the
/// OIDC issuer and the identity the issuer vouched for (for GitHub Actions: repository, workflow and
/// ref). `identity` is the stable form a policy pins and compares (`github:psf/requests`,
/// `gitlab:group/project`, `google:ci@…`).
public struct Publisher: Sendable, Equatable, Codable {
    /// `github`, `gitlab`, `google`, `circleci`, or `oidc` for any other issuer.
    public let kind: String
    public let identity: String
    public let issuer: String
    /// The certificate's subject alternative name (a workflow URI or an e-mail address).
    public let subject: String
    public let repository: String?
    public let workflow: String?
    public let ref: String?
    /// The deployment environment the index says the publisher used (not covered by the signature).
    public let environment: String?

    public init(
        kind: String, identity: String, issuer: String, subject: String, repository: String?, workflow: String?, ref: String?, environment: String?
    ) {
        self.kind = kind
        self.identity = identity
        self.issuer = issuer
        self.subject = subject
        self.repository = repository
        self.workflow = workflow
        self.ref = ref
        self.environment = environment
    }

    /// Whether `pin` (`github:owner/repo`, compared without regard to case, as the hosts do) names this publisher.
    public func matches(pin: String) -> Bool { identity.lowercased() == pin.lowercased() }

    /// A one-line description for explanations: `github:psf/requests (workflow publish.yml, environment pypi)`.
    public var summary: String {
        var parts: [String] = []
        if let workflow { parts.append("workflow \(workflow)") }
        if let environment, !environment.isEmpty { parts.append("environment \(environment)") }
        return parts.isEmpty ? identity : "\(identity) (\(parts.joined(separator: ", ")))"
    }
}

/// A file's verified PEP 740 provenance as the catalog keeps it: the provenance document (a blob,
/// served beside the file) and what its attestations proved.
public struct FileProvenance: Sendable, Equatable, Codable {
    /// The stored provenance document, exactly as the upstream served it.
    public let document: Digest
    public let publisher: Publisher
    /// When the transparency log recorded the signature.
    public let signedAt: Date

    public init(document: Digest, publisher: Publisher, signedAt: Date) {
        self.document = document
        self.publisher = publisher
        self.signedAt = signedAt
    }
}
