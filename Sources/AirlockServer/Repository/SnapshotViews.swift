import AirlockCatalog
import AirlockCore
import Foundation
import ServiceLifecycle
import Synchronization

/// One published snapshot, loaded once and grouped by project: snapshots never change, so the
/// endpoint answers from memory. Selectors that move (`latest`, today's date) are re-resolved
/// against the catalog at most once a second.
final class SnapshotView: Sendable {
    struct Project: Sendable {
        let name: ProjectName
        let files: [Distribution]
        let versions: [String]
    }

    let snapshot: Snapshot
    let projects: [String: Project]
    let projectNames: [ProjectName]
    /// Each project's upstream page and status, as the syncs last read them (PEP 708, PEP 792).
    let upstream: [String: UpstreamProject]
    /// The revocation stamp the view was built under; pages rendered from it carry it in their keys.
    let generation: Int64

    init(snapshot: Snapshot, files: [Distribution], upstream: [String: UpstreamProject] = [:], generation: Int64 = 0) {
        self.snapshot = snapshot
        self.generation = generation
        self.upstream = upstream
        var grouped: [String: [Distribution]] = [:]
        for f in files { grouped[f.project.normalized, default: []].append(f) }
        var projects: [String: Project] = [:]
        for (name, files) in grouped {
            let versions = Set(files.map(\.version)).sorted { VersionOrder.older($0, $1, snapshot.ecosystem) }
            projects[name] = Project(name: files[0].project, files: files.sorted { $0.filename < $1.filename }, versions: versions)
        }
        self.projects = projects
        self.projectNames = projects.values.map(\.name).sorted()
    }

    /// Whether `selector` names this snapshot by its id, which never moves.
    func isExact(_ selector: String) -> Bool { selector == String(snapshot.id) }
}

/// What answering a repository route needs from the catalog, found before the answer is decided:
/// the snapshot view a selector names (nil: none matches) and, for a file URL, the distribution a
/// snapshot serves under it (nil: none).
struct RouteFacts {
    var view: SnapshotView?
    var served: Distribution?
}

/// Finds and caches snapshot views for the endpoint. Two ways in: `facts` reads the catalog (async,
/// off the event loops) and fills the caches; `cachedFacts` answers from the caches alone, on the
/// event loop, or says it does not know (and the request goes the async way).
final class SnapshotViews: Sendable {
    private let catalog: any SnapshotCatalog
    private let views = Mutex<[Int64: SnapshotView]>([:])
    private struct Resolution {
        let view: SnapshotView
        let resolvedAt: ContinuousClock.Instant
    }

    private struct Selector: Hashable {
        let ecosystem: Ecosystem
        let selector: SnapshotSelector
    }

    /// Views and selector resolutions kept at once; when full, the map is cleared (a client naming
    /// many old snapshots costs reloads, never memory).
    static let maxViews = 64
    static let maxSelectors = 1024
    static let maxServedFiles = 200_000

    private let selectors = Mutex<[Selector: Resolution]>([:])
    private let servedFiles = Mutex<[String: Distribution]>([:])
    let refreshInterval: Duration
    /// Moves whenever cached resolutions are dropped (a withdrawal seen, or `invalidate`): what was
    /// cached from them under an older epoch is stale.
    private let epochCounter = Atomic<Int>(0)
    var epoch: Int { epochCounter.load(ordering: .acquiring) }
    /// The withdrawal stamp and when it was last read: a revocation or an expired snapshot drops every cached view.
    private let revocations = Mutex<(stamp: Int64, checkedAt: ContinuousClock.Instant?)>((0, nil))

    init(catalog: any SnapshotCatalog, refreshInterval: Duration = .seconds(1)) {
        self.catalog = catalog
        self.refreshInterval = refreshInterval
    }

    /// What a route needs, from the catalog where the caches are not fresh.
    func facts(_ route: RepositoryRoute) async throws -> RouteFacts {
        switch route.lookup {
        case .view(let ecosystem, let text): return RouteFacts(view: try await view(ecosystem, text))
        case .file(let digest, let filename): return RouteFacts(served: try await servedFile(digest: digest, filename: filename))
        case .none: return RouteFacts()
        }
    }

    /// What a route needs, from the caches alone: nil when they do not know it freshly (including
    /// "no snapshot matches" and "not served", which are left to the async path and its messages).
    func cachedFacts(_ route: RepositoryRoute, now: ContinuousClock.Instant = .now) -> RouteFacts? {
        guard revocations.withLock({ $0.checkedAt.map { now - $0 < refreshInterval } ?? false }) else { return nil }
        switch route.lookup {
        case .view(let ecosystem, let text):
            guard let selector = SnapshotSelector(text),
                let hit = selectors.withLock({ $0[Selector(ecosystem: ecosystem, selector: selector)] }),
                hit.view.isExact(text) || now - hit.resolvedAt < refreshInterval
            else { return nil }
            return RouteFacts(view: hit.view)
        case .file(let digest, let filename):
            return servedFiles.withLock { $0[digest.hex + "/" + filename] }.map { RouteFacts(served: $0) }
        case .none: return RouteFacts()
        }
    }

    /// The view a selector (as written in the URL) names now, or nil when no snapshot matches.
    /// Exact ids are resolved once; `latest` and dates at most once per refresh interval.
    func view(_ ecosystem: Ecosystem, _ text: String) async throws -> SnapshotView? {
        let generation = try await checkWithdrawals(olderThan: refreshInterval)
        guard let selector = SnapshotSelector(text) else { return nil }
        let key = Selector(ecosystem: ecosystem, selector: selector)
        if let hit = selectors.withLock({ $0[key] }), hit.view.isExact(text) || .now - hit.resolvedAt < refreshInterval {
            return hit.view
        }
        return try await resolve(key, generation: generation)
    }

    /// Keeps what the direct paths read fresh while the endpoint runs: twice per refresh interval,
    /// the withdrawal stamp and every moving selector resolved lately (`latest`, dates) are read
    /// again, so a hot `latest` never goes stale between two requests and the event loops never wait.
    func keepFresh() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: refreshInterval / 2)
            do {
                let generation = try await checkWithdrawals(olderThan: refreshInterval / 2)
                let moving = selectors.withLock { $0.keys.filter { if case .id = $0.selector { false } else { true } } }
                for key in moving { _ = try await resolve(key, generation: generation) }
            } catch {
                continue  // the next request through the router reports it
            }
        }
    }

    /// Resolves a selector against the catalog now and caches the view.
    private func resolve(_ key: Selector, generation: Int64) async throws -> SnapshotView? {
        let now = ContinuousClock.now
        guard let snapshot = try await catalog.snapshot(key.ecosystem, key.selector) else { return nil }
        let view: SnapshotView
        if let known = views.withLock({ $0[snapshot.id] }) {
            view = known
        } else {
            view = SnapshotView(
                snapshot: snapshot, files: try await catalog.servedFiles(in: snapshot), upstream: try await catalog.upstreamProjects(key.ecosystem),
                generation: generation)
        }
        views.withLock { Self.insert(view, at: snapshot.id, into: &$0, limit: Self.maxViews) }
        selectors.withLock { Self.insert(Resolution(view: view, resolvedAt: now), at: key, into: &$0, limit: Self.maxSelectors) }
        return view
    }

    /// Reads the withdrawal stamp at most once per refresh interval; when it moved, forgets every
    /// view and file lookup, so revoked releases vanish from old snapshots too and expired snapshots
    /// from every selector. Returns the stamp.
    private func checkWithdrawals(olderThan age: Duration) async throws -> Int64 {
        let now = ContinuousClock.now
        let (stamp, checkedAt) = revocations.withLock { $0 }
        if let checkedAt, now - checkedAt < age { return stamp }
        let current = try await catalog.withdrawalStamp()
        if current != stamp {
            epochCounter.add(1, ordering: .releasing)
            views.withLock { $0.removeAll() }
            selectors.withLock { $0.removeAll() }
            servedFiles.withLock { $0.removeAll() }
        }
        revocations.withLock { $0 = (current, now) }
        return current
    }

    private static func insert<Key: Hashable, Value>(_ value: Value, at key: Key, into map: inout [Key: Value], limit: Int) {
        if map[key] == nil, map.count >= limit { map.removeAll(keepingCapacity: true) }
        map[key] = value
    }

    /// Forgets cached resolutions now (after this process published or revoked something).
    func invalidate() {
        epochCounter.add(1, ordering: .releasing)
        revocations.withLock { $0.checkedAt = nil }
        selectors.withLock { $0.removeAll() }
    }

    /// The distribution behind a file URL, if some snapshot serves it.
    func servedFile(digest: Digest, filename: String) async throws -> Distribution? {
        _ = try await checkWithdrawals(olderThan: refreshInterval)
        let key = digest.hex + "/" + filename
        if let hit = servedFiles.withLock({ $0[key] }) { return hit }
        guard let found = try await catalog.servedFile(digest: digest, filename: filename) else { return nil }
        servedFiles.withLock { Self.insert(found, at: key, into: &$0, limit: Self.maxServedFiles) }
        return found
    }
}

/// Runs `SnapshotViews.keepFresh` for as long as the endpoint serves.
struct ViewRefresher: Service {
    let views: SnapshotViews

    func run() async throws {
        await cancelWhenGracefulShutdown { await views.keepFresh() }
    }
}
