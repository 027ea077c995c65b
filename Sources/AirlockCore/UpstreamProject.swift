/// A project's status as its index marks it (PEP 792): `active` unless the index says otherwise.
public struct ProjectStatus: Sendable, Hashable, Codable {
    /// `active`, `archived`, `quarantined` or `deprecated` (an unknown marker is kept as written).
    public let status: String
    /// The index's explanation, if it gives one.
    public let reason: String?

    public init(status: String, reason: String? = nil) {
        self.status = status
        self.reason = reason.flatMap { $0.isEmpty ? nil : $0 }
    }

    public static let active = ProjectStatus(status: "active")
    /// The index considers the project unsafe (malware, say) and offers none of its files.
    public var isQuarantined: Bool { status == "quarantined" }
    public var isActive: Bool { status == "active" }

    /// `quarantined (reason: …)`, for explanations.
    public var described: String { reason.map { "\(status) (reason: \($0))" } ?? status }
}

/// What a sync learned about a project from the upstream's project page: where that page is (PEP 708
/// `tracks`: the mirror names the project it mirrors) and the project's status (PEP 792).
public struct UpstreamProject: Sendable, Hashable, Codable {
    public let name: String
    /// The upstream project page, without credentials.
    public let pageURL: String
    public let status: ProjectStatus

    public init(name: String, pageURL: String, status: ProjectStatus) {
        self.name = name
        self.pageURL = pageURL
        self.status = status
    }
}
