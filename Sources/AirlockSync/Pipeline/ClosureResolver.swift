import AirlockCore
import Logging

/// A requirement the closure must satisfy, with where it came from and how many versions it keeps.
struct Want<Requirement: Sendable & CustomStringConvertible>: Sendable {
    let requirement: Requirement
    let origin: RequirementOrigin
    /// Versions kept (0: all); the selection asks for N, dependencies for one.
    let count: Int
    /// A missing optional requirement (R's `Suggests`) is logged, not an error.
    var optional = false

    /// The requirement as the policy records why a release was selected.
    var selectedBy: String { origin.isSelection ? requirement.description : "\(requirement) via \(origin)" }
}

/// What one ecosystem tells the closure resolver: which upstream versions match a requirement, what a
/// version requires in turn, and whether the policy would serve it.
protocol ResolverAdapter: Sendable {
    associatedtype Requirement: Sendable & CustomStringConvertible
    associatedtype Candidate: Sendable
    associatedtype Release: Sendable

    /// Identifies a want, so equal wants are resolved once.
    func key(_ want: Want<Requirement>) -> String
    /// The versions matching the want that the targets can install, newest first. Throws, naming the
    /// requirement and its requirer, when the upstream has none (an optional want gets an empty list).
    func candidates(_ want: Want<Requirement>) async throws -> [Candidate]
    /// Reads a candidate: the release as it will be recorded, and the wants it brings in.
    func examine(_ candidate: Candidate, _ want: Want<Requirement>) async throws -> (Release, [Want<Requirement>])
    /// Whether the policy would serve the release (judged on what is known before recording).
    func passes(_ release: Release) -> Bool
    /// Identifies a release, so one required twice is recorded once.
    func releaseKey(_ release: Release) -> String
}

/// Follows requirements level by level to the full closure, the same way for every ecosystem.
/// Each requirement keeps its newest `count` versions that pass the policy; versions that do not pass
/// are recorded (and decided) but bring nothing in, and up to `maxHeldBack` of them are examined past
/// the wanted count, so the index carries the newest version that passes.
struct ClosureResolver<Adapter: ResolverAdapter> {
    let adapter: Adapter
    let logger: Logger
    static var maxHeldBack: Int { 5 }

    func resolve(_ top: [Want<Adapter.Requirement>]) async throws -> [Adapter.Release] {
        var releases: [String: Adapter.Release] = [:]
        var order: [String] = []
        var seen = Set<String>()
        var level = top
        while !level.isEmpty {
            level = level.filter { seen.insert(adapter.key($0)).inserted }
            let results = try await withThrowingTaskGroup(of: [(Adapter.Release, [Want<Adapter.Requirement>])].self) { group in
                for want in level { group.addTask { try await self.select(want) } }
                var all: [(Adapter.Release, [Want<Adapter.Requirement>])] = []
                for try await r in group { all += r }
                return all
            }
            var next: [Want<Adapter.Requirement>] = []
            for (release, deps) in results {
                let key = adapter.releaseKey(release)
                if releases[key] == nil {
                    releases[key] = release
                    order.append(key)
                }
                next += deps
            }
            level = next
        }
        return order.map { releases[$0]! }
    }

    /// Picks the versions a requirement keeps and the requirements each of them brings in.
    private func select(_ want: Want<Adapter.Requirement>) async throws -> [(Adapter.Release, [Want<Adapter.Requirement>])] {
        var out: [(Adapter.Release, [Want<Adapter.Requirement>])] = []
        var passing = 0
        for candidate in try await adapter.candidates(want) {
            let (release, deps) = try await adapter.examine(candidate, want)
            let passed = adapter.passes(release)
            out.append((release, passed ? deps : []))
            if passed { passing += 1 }
            if want.count > 0 && (passing >= want.count || out.count >= want.count + Self.maxHeldBack) { break }
        }
        if passing == 0 && !out.isEmpty {
            logger.warning(
                "no examined version passes the policy",
                metadata: ["requirement": "\(want.requirement)", "required_by": "\(want.origin)", "examined": "\(out.count)"])
        }
        return out
    }
}
