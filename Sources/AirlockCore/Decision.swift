/// What the policy (or a reviewer) decided about one release.
public enum Verdict: String, Codable, Sendable, Hashable, CaseIterable {
    case approve, review, deny
}

/// A decision with its score and the factor-by-factor explanation that produced it.
public struct Decision: Codable, Sendable, Hashable {
    /// One line of the explanation: a factor or rule, what it saw, and what it contributed.
    public struct Factor: Codable, Sendable, Hashable {
        public var name: String
        public var signal: String
        public var points: Double

        public init(name: String, signal: String, points: Double) {
            self.name = name
            self.signal = signal
            self.points = points
        }
    }

    public var verdict: Verdict
    public var score: Double
    public var factors: [Factor]
    /// Digest of the policy that decided (so decisions under different policies never mix).
    public var policyDigest: String
    /// For a release denied only for known vulnerabilities under a policy that serves such releases
    /// yanked: the reason clients see (PEP 592), so a pinned install warns rather than breaks.
    public var serveYanked: String?

    public init(verdict: Verdict, score: Double, factors: [Factor], policyDigest: String, serveYanked: String? = nil) {
        self.verdict = verdict
        self.score = score
        self.factors = factors
        self.policyDigest = policyDigest
        self.serveYanked = serveYanked
    }
}

extension Decision {
    /// What decided the verdict: the first rule whose outcome is the verdict (`rule:cooldown`,
    /// `rule:content:pth_exec`), else `score` when the score alone decided, or `approve`.
    public var decidedBy: String {
        if verdict == .approve { return "approve" }
        let arrow = "→ \(verdict.rawValue)"
        return factors.first { $0.name.hasPrefix("rule:") && $0.signal.hasSuffix(arrow) }.map(\.name) ?? "score"
    }
}
