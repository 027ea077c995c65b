public import AirlockCore
public import Foundation

/// One release as a sync records it: project, version, declared dependencies, files and decision.
public struct ReleaseRecord: Sendable {
    public var project: ProjectName
    public var people: ProjectPeople?
    public var version: String
    public var requiresDist: [String]?
    public var files: [(distribution: Distribution, upstreamURL: String)]
    public var decision: Decision
    /// What the decision was made on, kept so it can be made again (`airlock policy check|test`).
    public var facts: DecisionFacts

    public init(
        project: ProjectName, people: ProjectPeople?, version: String, requiresDist: [String]?,
        files: [(distribution: Distribution, upstreamURL: String)], decision: Decision, facts: DecisionFacts
    ) {
        self.facts = facts
        self.project = project
        self.people = people
        self.version = version
        self.requiresDist = requiresDist
        self.files = files
        self.decision = decision
    }
}

/// The facts beyond files and people that a decision rests on.
public struct DecisionFacts: Sendable, Codable {
    public var firstUpload: Date?
    public var lastUpload: Date?
    public var releaseCount: Int
    /// The licence as an SPDX expression, when it could be read.
    public var licenseExpression: String?
    public var licenseDeclared: String?
    public var selectedBy: String
    public var newMaintainerEmails: [String]
    public var dependents: Int
    public var maintainersOtherProjects: [String]

    public init(
        firstUpload: Date?, lastUpload: Date?, releaseCount: Int, licenseExpression: String?, licenseDeclared: String?, selectedBy: String,
        newMaintainerEmails: [String] = [], dependents: Int = 0, maintainersOtherProjects: [String] = []
    ) {
        self.maintainersOtherProjects = maintainersOtherProjects
        self.newMaintainerEmails = newMaintainerEmails
        self.dependents = dependents
        self.firstUpload = firstUpload
        self.lastUpload = lastUpload
        self.releaseCount = releaseCount
        self.licenseExpression = licenseExpression
        self.licenseDeclared = licenseDeclared
        self.selectedBy = selectedBy
    }
}

/// A recorded release with everything needed to decide it again, and its current decision.
public struct StoredRelease: Sendable {
    public var project: ProjectName
    public var version: String
    public var people: ProjectPeople?
    public var files: [Distribution]
    public var facts: DecisionFacts
    public var decision: Decision?
    /// Its declared dependencies as recorded (`Requires-Dist` lines, R's dependency fields).
    public var requiresDist: [String] = []
}
