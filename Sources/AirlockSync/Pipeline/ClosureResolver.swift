import AirlockCatalog
import AirlockCore
import AirlockUpstream
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
    associatedtype Release: SyncedRelease
    associatedtype Candidates: Sequence<Candidate>

    /// Identifies a want, so equal wants are resolved once.
    func key(_ want: Want<Requirement>) -> String
    /// The project a want names (normalized), for what is set aside.
    func project(_ want: Want<Requirement>) -> String
    /// The versions matching the want that the targets can install, newest first. Throws, naming the
    /// requirement and its requirer, when the upstream has none (an optional want gets an empty list).
    func candidates(_ want: Want<Requirement>) async throws -> Candidates
    /// The release a candidate is, as `project`, `version` and the file that would be read, for what is set aside.
    func describe(_ candidate: Candidate, _ want: Want<Requirement>) -> (version: String, filename: String?)
    /// Reads a candidate: the release as it will be recorded, and the wants it brings in.
    func examine(_ candidate: Candidate, _ want: Want<Requirement>) async throws -> (Release, [Want<Requirement>])
    /// Whether the policy would serve the release (judged on what is known before recording).
    func passes(_ release: Release) -> Bool
    /// The target environments a candidate has files for (every target, where files are not per target).
    func targets(of candidate: Candidate) -> Set<String>
    /// Every target environment the sync serves.
    var allTargets: Set<String> { get }
}

/// Follows requirements level by level to the full closure, the same way for every ecosystem.
/// Each requirement keeps its newest `count` versions that pass the policy; versions that do not pass
/// are recorded (and decided) but bring nothing in, and up to `maxHeldBack` of them are examined past
/// the wanted count, so the index carries the newest version that passes. A version whose file cannot
/// be fetched, verified or read, and a dependency the upstream does not have, are set aside (logged
/// and returned), never fatal: the rest of the closure goes on. Versions in `excluded` (held back by
/// an earlier round, say) count as not passing.
struct ClosureResolver<Adapter: ResolverAdapter> {
    let adapter: Adapter
    let logger: Logger
    let excluded: Set<ReleaseKey>
    let setAside = SetAsideLog()
    static var maxHeldBack: Int { 5 }

    init(adapter: Adapter, logger: Logger, excluded: Set<ReleaseKey> = []) {
        self.adapter = adapter
        self.logger = logger
        self.excluded = excluded
    }

    func resolve(_ top: [Want<Adapter.Requirement>]) async throws -> [Adapter.Release] {
        var releases: [ReleaseKey: Adapter.Release] = [:]
        var order: [ReleaseKey] = []
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
                if releases[release.key] == nil {
                    releases[release.key] = release
                    order.append(release.key)
                }
                next += deps
            }
            level = next
        }
        return order.compactMap { releases[$0] }
    }

    /// Picks the versions a requirement keeps and the requirements each of them brings in.
    private func select(_ want: Want<Adapter.Requirement>) async throws -> [(Adapter.Release, [Want<Adapter.Requirement>])] {
        let candidates: Adapter.Candidates
        do {
            candidates = try await adapter.candidates(want)
        } catch let e as AirlockError where e.code == .quarantined || (!want.origin.isSelection && e.code == .resolution) {
            await setAside(
                SetAsideRelease(
                    project: adapter.project(want), version: "", filename: nil, check: e.code.name, error: e.message, requiredBy: "\(want.origin)"))
            return []
        }
        var out: [(Adapter.Release, [Want<Adapter.Requirement>])] = []
        var passing = 0
        var examined = 0
        // Each target needs a version it can install: the newest may have dropped an older Python.
        var uncovered = adapter.allTargets
        for candidate in candidates {
            if want.count > 0 && ((passing >= want.count && uncovered.isEmpty) || examined >= want.count + Self.maxHeldBack) { break }
            if want.count > 0 && passing >= want.count && adapter.targets(of: candidate).isDisjoint(with: uncovered) { continue }
            examined += 1
            let release: Adapter.Release
            let deps: [Want<Adapter.Requirement>]
            do {
                (release, deps) = try await adapter.examine(candidate, want)
            } catch let e as AirlockError where e.setsAsideRelease {
                let (version, filename) = adapter.describe(candidate, want)
                await setAside(
                    SetAsideRelease(
                        project: adapter.project(want), version: version, filename: filename, check: e.code.name, error: e.message,
                        requiredBy: "\(want.origin)"))
                continue
            }
            // An excluded release (held back as not installable) still brings its dependencies in, so the
            // snapshot can say what holds it back; it does not count toward the versions wanted.
            let policyPasses = adapter.passes(release)
            out.append((release, policyPasses ? deps : []))
            if policyPasses && !excluded.contains(release.key) {
                passing += 1
                uncovered.subtract(adapter.targets(of: candidate))
            }
        }
        if passing == 0 && !out.isEmpty {
            logger.warning(
                "no examined version passes the policy",
                metadata: ["requirement": "\(want.requirement)", "required_by": "\(want.origin)", "examined": "\(out.count)"])
        }
        return out
    }

    private func setAside(_ entry: SetAsideRelease) async {
        logger.error(
            "set aside",
            metadata: ["project": "\(entry.project)", "version": "\(entry.version)", "check": "\(entry.check)", "error": "\(entry.error)"])
        await setAside.add(entry)
    }
}

/// What a sync set aside, collected from concurrent resolution and fetching.
actor SetAsideLog {
    private(set) var entries: [SetAsideRelease] = []

    func add(_ entry: SetAsideRelease) {
        if !entries.contains(entry) { entries.append(entry) }
    }
}

extension AirlockError {
    /// Errors that condemn one release (or one file of it), not the sync: bad bytes, a hostile or
    /// unreadable archive, a file the upstream no longer has, a link to another scheme or host, a file
    /// without a hash, one transfer past its time limit. Network trouble is not among them, nor the
    /// sync's own time limit: a sync that cannot reach its upstream fails whole and publishes nothing.
    var setsAsideRelease: Bool {
        switch code {
        case .hashMismatch, .sizeMismatch, .tooLarge, .truncated, .malformedMetadata, .hostileArchive, .unverifiable, .timeLimit, .provenance,
            .quarantined:
            return true
        // A link or redirect to another scheme or host: that file's fault, never followed.
        case .forbidden: return true
        case .upstreamStatus: return (underlying as? HTTPStatus)?.isTransient == false
        default: return false
        }
    }
}
