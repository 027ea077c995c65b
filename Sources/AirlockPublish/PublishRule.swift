public import AirlockCatalog
public import AirlockCore
public import Foundation

/// The publish rule, the one definition of what a snapshot serves:
/// the last sync's candidates the active policy approves (or serves yanked), plus the releases an
/// approve override in force names, minus those a deny override in force names (a deny wins), minus
/// revoked releases. An expired override no longer counts.
public enum PublishRule {
    public static func plan(_ state: PublishState, at now: Date) -> PublishPlan {
        var served: [ReleaseKey: PublishState.Release] = [:]
        var plan = PublishPlan()
        for release in state.releases where release.isCandidate {
            guard let decision = release.decision, decision.verdict == .approve || decision.serveYanked != nil else { continue }
            served[release.key] = release
            plan.decisions[release.key] = decision
            if let reason = decision.serveYanked { for f in release.files { plan.yanking[f] = reason } }
        }
        let active = state.overrides.filter { $0.isActive(at: now) }
            .sorted { ($0.action == .approve ? 0 : 1, $0.id) < ($1.action == .approve ? 0 : 1, $1.id) }
        for o in active {
            guard let range = try? VersionRange(o.versions, ecosystem: state.ecosystem) else { continue }
            for release in state.releases where release.key.project == o.project && range.contains(release.key.version) {
                if o.action == .approve { served[release.key] = release } else { served[release.key] = nil }
                plan.decisions[release.key] = o.decision
            }
        }
        for key in state.revoked { served[key] = nil }
        plan.files = Set(served.values.flatMap(\.files))
        plan.yanking = plan.yanking.filter { plan.files.contains($0.key) }
        plan.decisions = plan.decisions.filter { served[$0.key] != nil }
        return plan
    }
}
