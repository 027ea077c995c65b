import AirlockCatalog
import AirlockCore
import AirlockPublish
import Foundation
import Testing

@Suite struct PublishRuleTests {
    private static let approve = Decision(verdict: .approve, score: 100, factors: [], policyDigest: "p")
    private static let review = Decision(verdict: .review, score: 50, factors: [], policyDigest: "p")

    private func release(_ id: Int64, _ name: String, _ version: String, _ decision: Decision?, requires: [String] = [], candidate: Bool = true)
        -> PublishState.Release
    {
        PublishState.Release(id: id, key: ReleaseKey(name, version), isCandidate: candidate, decision: decision, files: [id], requires: requires)
    }

    private func state(_ releases: [PublishState.Release], ecosystem: Ecosystem = .pypi, extras: [String: [String]] = [:]) -> PublishState {
        PublishState(
            ecosystem: ecosystem, policyDigest: "p", targets: ["3.12|manylinux_2_28_x86_64"], extras: extras, releases: releases, overrides: [],
            revoked: [])
    }

    @Test func aReleaseWhoseDependencyIsHeldForReviewIsHeldWithTheReason() throws {
        // importlib-metadata 10.2.0 needs lazy-importer, which the policy holds; dash needs importlib-metadata.
        let plan = try PublishRule.plan(
            state([
                release(1, "dash", "3.0", Self.approve, requires: ["importlib-metadata>=10"]),
                release(2, "importlib-metadata", "10.2.0", Self.approve, requires: ["lazy-importer>=0.1; python_version < '3.15'"]),
                release(3, "lazy-importer", "0.1.0", Self.review),
                release(4, "requests", "2.32.3", Self.approve, requires: ["idna; python_version < '3.0'"]),
            ]), at: Date())
        #expect(plan.files == [4], "only requests is installable (its idna requirement does not apply on 3.12)")
        #expect(
            plan.held[ReleaseKey("importlib-metadata", "10.2.0")]?.reason
                == "its dependency lazy-importer>=0.1 is held for review (lazy-importer 0.1.0)")
        #expect(plan.held[ReleaseKey("importlib-metadata", "10.2.0")]?.blockedBy == "lazy-importer")
        #expect(
            plan.held[ReleaseKey("dash", "3.0")]?.reason.hasPrefix("its dependency importlib-metadata>=10 is held back (importlib-metadata 10.2.0)")
                == true)
    }

    @Test func extrasAskedForMustBeInstallableToo() throws {
        let releases = [
            release(1, "app", "1.0", Self.approve, requires: ["lib[fast]>=1"]),
            release(2, "lib", "1.0", Self.approve, requires: ["speedup; extra == 'fast'"]),
            release(3, "speedup", "1.0", Self.review),
        ]
        #expect(try PublishRule.plan(state(releases), at: Date()).files.isEmpty, "app needs lib[fast], whose speedup is held: neither installs")
        let plain = [release(2, "lib", "1.0", Self.approve, requires: ["speedup; extra == 'fast'"]), release(3, "speedup", "1.0", Self.review)]
        #expect(try PublishRule.plan(state(plain), at: Date()).files == [2], "without the extra, lib installs")
        #expect(try PublishRule.plan(state(plain, extras: ["lib": ["fast"]]), at: Date()).files.isEmpty, "the selection asked for lib[fast]")
    }

    @Test func cranDependenciesMissingFromTheMirrorHoldTheirRequirers() throws {
        let plan = try PublishRule.plan(
            state(
                [
                    release(1, "lifecycle", "1.0.4", Self.approve, requires: ["R (>= 3.6)", "cli (>= 3.4.0)", "rlang (>= 1.1.0)"]),
                    release(2, "cli", "3.6.3", Self.approve, requires: ["utils"]),
                ], ecosystem: .cran), at: Date())
        #expect(plan.files == [2])
        #expect(plan.held[ReleaseKey("lifecycle", "1.0.4")]?.reason.contains("rlang (>= 1.1.0) is not in the mirror") == true)
    }

    /// For random dependency graphs, verdicts, versions, markers and targets, every published snapshot is
    /// closed: each served release's requirements that apply on some target are met by a served release.
    @Test(arguments: 0..<200) func everySnapshotIsClosedUnderItsRequirements(seed: Int) throws {
        var rng = SeededGenerator(seed: UInt64(seed + 1))
        let names = (0..<Int.random(in: 3...12, using: &rng)).map { "p\($0)" }
        var releases: [PublishState.Release] = []
        var id: Int64 = 0
        for name in names {
            for v in 1...Int.random(in: 1...3, using: &rng) {
                id += 1
                let requires = (0..<Int.random(in: 0...3, using: &rng)).map { _ -> String in
                    let dep = names.randomElement(using: &rng)!
                    let spec = [">=\(Int.random(in: 1...3, using: &rng))", "<\(Int.random(in: 1...4, using: &rng))", ""].randomElement(using: &rng)!
                    let marker = ["", "; python_version < '3.11'", "; sys_platform == 'win32'", "; extra == 'x'"].randomElement(using: &rng)!
                    return "\(dep)\(spec)\(marker)"
                }
                let decision = [Self.approve, Self.approve, Self.approve, Self.review, nil].randomElement(using: &rng)!
                releases.append(release(id, name, "\(v).0", decision, requires: requires, candidate: Int.random(in: 0..<10, using: &rng) > 0))
            }
        }
        let targets = [["3.10|manylinux_2_28_x86_64"], ["3.12|manylinux_2_28_x86_64", "3.12|win_amd64"], []].randomElement(using: &rng)!
        let extras = Bool.random(using: &rng) ? [names.randomElement(using: &rng)!: ["x"]] : [:]
        let s = PublishState(ecosystem: .pypi, policyDigest: "p", targets: targets, extras: extras, releases: releases, overrides: [], revoked: [])
        let plan = try PublishRule.plan(s, at: Date())
        let served = releases.filter { plan.files.contains($0.id) }
        let environments = try DependencyNeeds.targets(targets)
        var wantedExtras = extras.mapValues(Set.init)
        for r in served {
            for need in try DependencyNeeds.needs(r.requires, .pypi, targets: environments, extras: []) {
                wantedExtras[need.project, default: []].formUnion(need.extras)
            }
        }
        for r in served {
            for need in try DependencyNeeds.needs(r.requires, .pypi, targets: environments, extras: wantedExtras[r.key.project] ?? [])
            where need.project != r.key.project {
                #expect(
                    served.contains { $0.key.project == need.project && need.accepts($0.key.version) },
                    "seed \(seed): \(r.key) needs \(need.requirement)")
            }
        }
        for r in releases where r.isCandidate && r.decision?.verdict == .approve && !plan.files.contains(r.id) {
            #expect(plan.held[r.key] != nil, "seed \(seed): \(r.key) is approved, not served, and not explained")
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failing seed can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
