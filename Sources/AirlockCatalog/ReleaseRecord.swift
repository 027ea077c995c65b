public import AirlockCore

/// One release as a sync records it: project, version, declared dependencies, files and decision.
public struct ReleaseRecord: Sendable {
    public var project: ProjectName
    public var people: ProjectPeople?
    public var version: String
    public var requiresDist: [String]?
    public var files: [(distribution: Distribution, upstreamURL: String)]
    public var decision: Decision

    public init(
        project: ProjectName, people: ProjectPeople?, version: String, requiresDist: [String]?,
        files: [(distribution: Distribution, upstreamURL: String)], decision: Decision
    ) {
        self.project = project
        self.people = people
        self.version = version
        self.requiresDist = requiresDist
        self.files = files
        self.decision = decision
    }
}
