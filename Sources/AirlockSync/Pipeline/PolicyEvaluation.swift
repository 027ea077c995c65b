public import AirlockCore
public import AirlockPolicy
import AirlockUpstream
public import Foundation

/// Measures a whole policy on labelled sets (`airlock policy eval`): names decided as if a release had
/// just been offered, and archives scanned and decided the same way, under stated facts. Counts the
/// verdicts and which rule decided each, and keeps every non-approve verdict with its explanation.
public struct PolicyEvaluation: Sendable {
    /// The facts a name or archive is decided under when nothing else is known about it.
    public enum Facts: String, Sendable, CaseIterable {
        /// First and only release today, one maintainer, no downloads beyond the feed's.
        case fresh
        /// First release five years ago, forty releases, this one three months old, two maintainers.
        case mature
    }

    /// One label's counts (`--json` prints these under `labels`).
    public struct Result: Sendable, Codable {
        public var total = 0
        public var approve = 0
        public var review = 0
        public var deny = 0
        /// What decided each verdict: a rule (`rule:typosquat`, `rule:content:pth_exec`), `score`, or `approve`.
        public var by_rule: [String: Int] = [:]
        /// Every rule that fired with review or deny, whatever decided the verdict (under fresh facts the
        /// score denies everything, and a name rule firing too is what catches the name).
        public var fired: [String: Int] = [:]
        /// Every verdict other than approve, with its explanation (what and why).
        public var flagged: [Flagged] = []
    }

    public struct Flagged: Sendable, Codable {
        public let item: String
        public let verdict: Verdict
        public let decidedBy: String
        public let explanation: [String]
    }

    let engine: PolicyEngine
    let facts: Facts
    /// Real facts of the projects a catalog knows (its newest recorded release), by ecosystem and normalized name.
    let known: [Ecosystem: [String: ReleaseFacts]]
    let now: Date

    public init(engine: PolicyEngine, facts: Facts, known: [Ecosystem: [String: ReleaseFacts]] = [:], at now: Date = Date()) {
        self.engine = engine
        self.facts = facts
        self.known = known
        self.now = now
    }

    /// Decides each project name as a new release of it; a name the catalog knows is decided on the
    /// facts of its newest recorded release.
    public func names(_ names: [String]) -> Result {
        var result = Result()
        for name in names where !name.isEmpty {
            let release =
                known[.pypi]?[ProjectName.normalize(name)]
                ?? releaseFacts(project: ProjectName(name), version: "1.0", filename: "\(name)-1.0.tar.gz", findings: [], ecosystem: .pypi)
            add(name, engine.evaluate(release, at: now), to: &result)
        }
        return result
    }

    /// Scans and decides each distribution archive (wheel, sdist or R tarball) in `paths`; an archive
    /// that cannot be read counts as denied by `rule:archive` (the sync would set it aside).
    public func archives(_ paths: [String]) -> Result {
        var result = Result()
        for path in paths {
            let filename = URL(fileURLWithPath: path).lastPathComponent
            let parsed = DistributionFilename(filename)
            let isR = parsed == nil && filename.contains("_") && filename.hasSuffix(".tar.gz")
            let project = parsed?.project ?? ProjectName(String(filename.split(separator: isR ? "_" : "-").first ?? Substring(filename)))
            let kind: ContentScanner.Kind = filename.hasSuffix(".whl") ? .wheel : isR ? .rSource : .sdist
            let member: ArchiveInspector.MetadataMember = kind == .wheel ? .wheelMetadata : kind == .rSource ? .rDescription : .sdistPKGINFO
            do {
                let report = try ArchiveInspector().inspect(
                    path: path, displayName: filename, metadata: member,
                    scanner: ContentScanner(kind: kind, file: filename, project: project.normalized))
                let version = parsed?.version.description ?? String(filename.dropLast(".tar.gz".count).split(separator: "_").last ?? "0")
                let ecosystem: Ecosystem = isR ? .cran : .pypi
                var facts = releaseFacts(project: project, version: version, filename: filename, findings: report.findings, ecosystem: ecosystem)
                if var real = known[ecosystem]?[project.normalized] {
                    // The project as the catalog knows it; the release and its content are this archive's.
                    (real.version, real.files, real.contentFindings) = (version, facts.files, report.findings)
                    facts = real
                }
                add(filename, engine.evaluate(facts, at: now), to: &result)
            } catch {
                result.total += 1
                result.deny += 1
                result.by_rule["rule:archive", default: 0] += 1
                result.flagged.append(Flagged(item: filename, verdict: .deny, decidedBy: "rule:archive", explanation: ["\(error)"]))
            }
        }
        return result
    }

    private func add(_ item: String, _ decision: Decision, to result: inout Result) {
        result.total += 1
        switch decision.verdict {
        case .approve: result.approve += 1
        case .review: result.review += 1
        case .deny: result.deny += 1
        }
        let decidedBy = decision.decidedBy
        result.by_rule[decidedBy, default: 0] += 1
        for rule in Set(decision.factors.filter { $0.name.hasPrefix("rule:") && !$0.signal.hasSuffix("→ approve") }.map(\.name)) {
            result.fired[rule, default: 0] += 1
        }
        if decision.verdict != .approve {
            let explanation = decision.factors.filter { $0.name.hasPrefix("rule:") || $0.name.hasPrefix("note:") || $0.name == "score" }.map {
                "\($0.name): \($0.signal)"
            }
            result.flagged.append(Flagged(item: item, verdict: decision.verdict, decidedBy: decidedBy, explanation: explanation))
        }
    }

    private func releaseFacts(project: ProjectName, version: String, filename: String, findings: [ContentFinding], ecosystem: Ecosystem)
        -> ReleaseFacts
    {
        let day = 86_400.0
        let uploaded = facts == .fresh ? now.addingTimeInterval(-3600) : now.addingTimeInterval(-90 * day)
        let file = Distribution(
            ecosystem: ecosystem, project: project, version: version, filename: filename, kind: filename.hasSuffix(".whl") ? .wheel : .sdist,
            digest: Digest.of(Array(filename.utf8)), size: 1, uploadTime: uploaded)
        let people =
            facts == .fresh
            ? ProjectPeople(author: "New Author", authorEmail: "author@example.org")
            : ProjectPeople(author: "Ada Lovelace", authorEmail: "ada@example.org", maintainer: "Grace Hopper", maintainerEmail: "grace@example.org")
        let history =
            facts == .fresh
            ? ProjectHistory(firstUpload: uploaded, lastUpload: uploaded, releaseCount: 1)
            : ProjectHistory(firstUpload: now.addingTimeInterval(-5 * 365 * day), lastUpload: uploaded, releaseCount: 40)
        var release = ReleaseFacts(
            ecosystem: ecosystem, project: project, version: version, files: [file], people: people, selectedBy: project.normalized, history: history,
            license: LicenseExpression.parse("MIT"), declaredLicense: "MIT")
        release.contentFindings = findings
        return release
    }
}
