public import AirlockCatalog
public import AirlockCore
public import Foundation

/// The publish rule, the one definition of what a snapshot serves:
/// the last sync's candidates the active policy approves (or serves yanked), plus the releases an
/// approve override in force names, minus those a deny override in force names (a deny wins), minus
/// revoked releases, minus every release that could not be installed from the snapshot: one whose
/// dependencies (markers evaluated on the synced targets, with the extras asked for) no other served
/// release satisfies. An expired override no longer counts.
///
/// On a replica the connected side already applied the rule: an imported snapshot serves what the
/// signed bundle says it served there, minus releases revoked here.
public enum PublishRule {
    public static func plan(_ state: PublishState, at now: Date) throws -> PublishPlan {
        if let imposed = state.imposed { return plan(imposed, revoked: state.revoked) }
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
        var decidedBy: [ReleaseKey: Override] = [:]
        for o in active {
            let range: VersionRange
            do {
                range = try VersionRange(o.versions, ecosystem: state.ecosystem)
            } catch {
                throw AirlockError(
                    .catalog, "override \(o.id) (\(o.action.rawValue) \(o.project) '\(o.versions)') has a range that does not parse: \(error)")
            }
            for release in state.releases where release.key.project == o.project && range.contains(release.key.version) {
                if o.action == .approve { served[release.key] = release } else { served[release.key] = nil }
                plan.decisions[release.key] = o.decision
                decidedBy[release.key] = o
            }
        }
        for key in state.revoked { served[key] = nil }
        let yanked = Set(
            served.values.filter { r in r.files.contains { plan.yanking[$0] != nil } && decidedBy[r.key]?.action != .approve }.map(\.key))
        plan.held = try holdUninstallable(&served, yanked: yanked, state: state, decidedBy: decidedBy)
        plan.files = Set(served.values.flatMap(\.files))
        plan.yanking = plan.yanking.filter { plan.files.contains($0.key) }
        plan.decisions = plan.decisions.filter { served[$0.key] != nil }
        return plan
    }

    static func plan(_ imposed: PublishState.Imposed, revoked: Set<ReleaseKey>) -> PublishPlan {
        var plan = PublishPlan()
        for file in imposed.files where !revoked.contains(file.release) {
            plan.files.insert(file.id)
            if let reason = file.yankReason { plan.yanking[file.id] = reason }
            if let decision = imposed.decisions[file.release] { plan.decisions[file.release] = decision }
        }
        return plan
    }

    /// Takes out of `served`, until none is left, every release with a dependency no other served
    /// (and not yanked) release satisfies, and says why, naming the release in the way when there is one.
    /// PyPI releases are judged on each target on its own (a dependency served only as cp312 wheels does
    /// not install on 3.11): on every target a release has a file for, each of its dependencies there
    /// must be met by a served release with a file for that target. CRAN packages are sources: one pass.
    static func holdUninstallable(
        _ served: inout [ReleaseKey: PublishState.Release], yanked: Set<ReleaseKey>, state: PublishState, decidedBy: [ReleaseKey: Override]
    ) throws -> [ReleaseKey: HeldRelease] {
        let targets = try DependencyNeeds.targets(state.targets)
        var extras: [String: Set<String>] = state.extras.mapValues(Set.init)
        for release in served.values {
            for need in try DependencyNeeds.needs(release.requires, state.ecosystem, targets: targets, extras: []) where !need.extras.isEmpty {
                extras[need.project, default: []].formUnion(need.extras)
            }
        }
        let perTarget = state.ecosystem == .pypi && targets.count > 1
        let passes: [[TargetEnvironment]] = perTarget ? targets.map { [$0] } : [targets]
        // With one target (or for CRAN) every file the sync kept installs there: nothing to parse.
        let installable =
            perTarget
            ? Dictionary(state.releases.map { r in (r.key, passes.map { installs(r, on: $0, state.ecosystem) }) }, uniquingKeysWith: { a, _ in a })
            : [:]
        let byProject = Dictionary(grouping: state.releases, by: \.key.project)
        // Each served release's needs on each pass, worked out once: the loop below repeats until nothing changes.
        var needs: [ReleaseKey: [[DependencyNeed]]] = [:]
        for release in served.values {
            needs[release.key] = try DependencyNeeds.needs(
                release.requires, state.ecosystem, perTargets: passes, extras: extras[release.key.project] ?? [])
        }
        var held: [ReleaseKey: HeldRelease] = [:]
        var changed = true
        while changed {
            changed = false
            releases: for release in served.values.sorted(by: { $0.key < $1.key }) {
                for (pass, target) in passes.enumerated() where installable[release.key]?[pass] ?? true {
                    for need in needs[release.key]![pass] where need.project != release.key.project {
                        let fitting = (byProject[need.project] ?? []).filter { r in
                            served[r.key] != nil && !yanked.contains(r.key) && need.accepts(r.key.version)
                        }
                        if fitting.contains(where: { installable[$0.key]?[pass] ?? true }) { continue }
                        served[release.key] = nil
                        let reason: String
                        if let other = fitting.max(by: { VersionOrder.older($0.key.version, $1.key.version, state.ecosystem) }) {
                            reason =
                                "on \(target[0]), its dependency \(need.requirement) has no served version installable there "
                                + "(\(other.key.project) \(other.key.version) has files only for other targets)"
                        } else {
                            reason =
                                "its dependency \(need.requirement) \(why(need, byProject[need.project] ?? [], state: state, held: held, decidedBy: decidedBy))"
                        }
                        held[release.key] = HeldRelease(reason: reason, blockedBy: need.project)
                        changed = true
                        continue releases
                    }
                }
            }
        }
        return held
    }

    /// Whether some file of a release installs on one of `targets`: a wheel whose tags and
    /// `Requires-Python` fit, or an sdist whose `Requires-Python` does. A release whose files are not
    /// known (or a CRAN package) installs everywhere.
    static func installs(_ release: PublishState.Release, on targets: [TargetEnvironment], _ ecosystem: Ecosystem) -> Bool {
        guard ecosystem == .pypi, !release.artifacts.isEmpty else { return true }
        return release.artifacts.contains { file in targets.contains { $0.installs(filename: file.filename, requiresPython: file.requiresPython) } }
    }

    /// Why no served release meets a dependency, from the newest recorded version that would.
    private static func why(
        _ need: DependencyNeed, _ recorded: [PublishState.Release], state: PublishState, held: [ReleaseKey: HeldRelease],
        decidedBy: [ReleaseKey: Override]
    ) -> String {
        let matching = recorded.filter { need.accepts($0.key.version) }.sorted { VersionOrder.older($0.key.version, $1.key.version, state.ecosystem) }
        guard let newest = matching.last else {
            return recorded.isEmpty ? "is not in the mirror (missing upstream, or set aside by the sync)" : "has no mirrored version that fits"
        }
        let name = "(\(newest.key.project) \(newest.key.version))"
        if state.revoked.contains(newest.key) { return "is revoked \(name)" }
        if let o = decidedBy[newest.key], o.action == .deny { return "is denied by \(o.actor): \(o.reason) \(name)" }
        if let h = held[newest.key] { return "is held back \(name): \(h.reason)" }
        switch newest.decision?.verdict {
        case .review: return "is held for review \(name)"
        case .deny: return newest.decision?.serveYanked != nil ? "is served only as yanked \(name)" : "is denied by the policy \(name)"
        default: return "is not served \(name)"
        }
    }
}
