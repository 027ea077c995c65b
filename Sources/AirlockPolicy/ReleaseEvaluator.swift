public import AirlockCore
public import Foundation

/// What the evaluator knows about one release when it decides.
public struct ReleaseFacts: Sendable {
    public var ecosystem: Ecosystem
    public var project: ProjectName
    public var version: String
    public var files: [Distribution]
    public var people: ProjectPeople?
    /// The requirement (or requirement chain) that brought the release into the mirror.
    public var selectedBy: String

    public init(ecosystem: Ecosystem, project: ProjectName, version: String, files: [Distribution], people: ProjectPeople?, selectedBy: String) {
        self.ecosystem = ecosystem
        self.project = project
        self.version = version
        self.files = files
        self.people = people
        self.selectedBy = selectedBy
    }
}

/// Decides whether a release may be served. The sync asks it about every release it records;
/// the snapshot serves only releases it approves.
public protocol ReleaseEvaluator: Sendable {
    /// Identifies the rules in force; recorded with every decision and snapshot.
    var policyDigest: String { get }
    func evaluate(_ release: ReleaseFacts, at now: Date) -> Decision
}

/// Approves exactly what the sync's selection brought in: the operator's requirement list is the policy.
/// The scoring policy engine replaces it; until then this keeps the decision path real.
public struct SelectionPolicy: ReleaseEvaluator {
    public init() {}

    public var policyDigest: String { "selection-v1" }

    public func evaluate(_ release: ReleaseFacts, at now: Date) -> Decision {
        Decision(
            verdict: .approve, score: 100,
            factors: [Decision.Factor(name: "selection", signal: "selected by \(release.selectedBy)", points: 100)],
            policyDigest: policyDigest)
    }
}
