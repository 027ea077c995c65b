public import AirlockCore
import Foundation

/// One file as an upstream simple index lists it.
public struct UpstreamFile: Sendable, Hashable {
    public var filename: String
    /// Absolute URL, without the hash fragment.
    public var url: String
    public var sha256: Digest?
    public var size: Int64?
    public var requiresPython: String?
    /// nil when not yanked; the reason (possibly empty) when yanked.
    public var yanked: String?
    public var uploadTime: Date?
    /// Whether the upstream serves PEP 658 metadata at `url + ".metadata"`, and its digest if declared.
    public var hasCoreMetadata: Bool
    public var coreMetadataSHA256: Digest?
    /// Where the upstream serves the file's PEP 740 provenance object, if it has one.
    public var provenanceURL: String?

    public init(
        filename: String, url: String, sha256: Digest? = nil, size: Int64? = nil, requiresPython: String? = nil,
        yanked: String? = nil, uploadTime: Date? = nil, hasCoreMetadata: Bool = false, coreMetadataSHA256: Digest? = nil, provenanceURL: String? = nil
    ) {
        self.filename = filename
        self.url = url
        self.sha256 = sha256
        self.size = size
        self.requiresPython = requiresPython
        self.yanked = yanked
        self.uploadTime = uploadTime
        self.hasCoreMetadata = hasCoreMetadata
        self.coreMetadataSHA256 = coreMetadataSHA256
        self.provenanceURL = provenanceURL
    }
}

/// A project as an upstream index describes it: its files, plus what the PyPI JSON API adds.
public struct ProjectIndex: Sendable {
    public var name: ProjectName
    public var files: [UpstreamFile]
    /// Who maintains it, from the PyPI JSON API when offered.
    public var people: ProjectPeople?
    /// PyPI's serial of the project, when the upstream gives one.
    public var serial: Int?
    /// The project page it was read from (PEP 708 `tracks`), credentials removed, and its PEP 792 status.
    public var upstream: UpstreamProject? = nil
}
