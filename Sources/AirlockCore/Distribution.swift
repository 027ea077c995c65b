import Foundation

/// What kind of file a distribution is.
public enum DistributionKind: String, Codable, Sendable, Hashable {
    case wheel
    case sdist
    /// An R source package tarball.
    case rSource = "r-source"
}

/// One file of one release as airlock keeps it: the bytes live in the blob store under `digest`.
public struct Distribution: Codable, Sendable, Hashable {
    public var ecosystem: Ecosystem
    public var project: ProjectName
    public var version: String
    public var filename: String
    public var kind: DistributionKind
    public var digest: Digest
    public var size: Int64
    public var uploadTime: Date?
    public var requiresPython: String?
    /// nil when not yanked; the reason (possibly empty) when yanked (PEP 592).
    public var yanked: String?
    /// The digest of the file's core metadata (PEP 658), stored as its own blob.
    public var metadataDigest: Digest?
    /// The upstream gave no upload time (PEP 503 indexes such as pypiserver, devpi, Artifactory):
    /// `uploadTime` is when this mirror first saw the file.
    public var uploadTimeObserved: Bool
    /// The digest of the file's verified PEP 740 provenance document, stored as its own blob.
    public var provenanceDigest: Digest?
    /// The identity that published the file, as its verified provenance proves (`github:org/repo`).
    public var publisherIdentity: String?

    public init(
        ecosystem: Ecosystem, project: ProjectName, version: String, filename: String, kind: DistributionKind,
        digest: Digest, size: Int64, uploadTime: Date? = nil, requiresPython: String? = nil, yanked: String? = nil,
        metadataDigest: Digest? = nil, uploadTimeObserved: Bool = false, provenanceDigest: Digest? = nil, publisherIdentity: String? = nil
    ) {
        self.provenanceDigest = provenanceDigest
        self.publisherIdentity = publisherIdentity
        self.ecosystem = ecosystem
        self.project = project
        self.version = version
        self.filename = filename
        self.kind = kind
        self.digest = digest
        self.size = size
        self.uploadTime = uploadTime
        self.requiresPython = requiresPython
        self.yanked = yanked
        self.metadataDigest = metadataDigest
        self.uploadTimeObserved = uploadTimeObserved
    }
}

/// Who made a project and who keeps it, as upstream metadata names them.
public struct ProjectPeople: Codable, Sendable, Hashable {
    public var author: String?
    public var authorEmail: String?
    public var maintainer: String?
    public var maintainerEmail: String?

    public init(author: String? = nil, authorEmail: String? = nil, maintainer: String? = nil, maintainerEmail: String? = nil) {
        self.author = author
        self.authorEmail = authorEmail
        self.maintainer = maintainer
        self.maintainerEmail = maintainerEmail
    }
}
