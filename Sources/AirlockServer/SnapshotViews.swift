import AirlockCatalog
import AirlockCore
import Foundation
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

    init(snapshot: Snapshot, files: [Distribution]) {
        self.snapshot = snapshot
        var grouped: [String: [Distribution]] = [:]
        for f in files { grouped[f.project.normalized, default: []].append(f) }
        var projects: [String: Project] = [:]
        for (name, files) in grouped {
            let versions = Set(files.map(\.version)).sorted { a, b in
                guard let x = PythonVersion(a), let y = PythonVersion(b) else { return a < b }
                return x < y
            }
            projects[name] = Project(name: files[0].project, files: files.sorted { $0.filename < $1.filename }, versions: versions)
        }
        self.projects = projects
        self.projectNames = projects.values.map(\.name).sorted()
    }
}

/// Finds and caches snapshot views for the endpoint.
final class SnapshotViews: Sendable {
    private let catalog: any SnapshotCatalog
    private let views = Mutex<[Int64: SnapshotView]>([:])
    private let selectors = Mutex<[String: (Int64, Date)]>([:])
    private let servedFiles = Mutex<[String: Distribution]>([:])
    private let refreshInterval: TimeInterval

    init(catalog: any SnapshotCatalog, refreshInterval: TimeInterval = 1) {
        self.catalog = catalog
        self.refreshInterval = refreshInterval
    }

    /// The view a selector names now, or nil when no snapshot matches.
    func view(_ ecosystem: Ecosystem, _ selector: SnapshotSelector) throws -> SnapshotView? {
        let key = "\(ecosystem.rawValue)/\(selector)"
        let now = Date()
        if let (id, resolvedAt) = selectors.withLock({ $0[key] }), now.timeIntervalSince(resolvedAt) < refreshInterval || isExact(selector),
            let view = views.withLock({ $0[id] })
        {
            return view
        }
        guard let snapshot = try catalog.snapshot(ecosystem, selector) else { return nil }
        selectors.withLock { $0[key] = (snapshot.id, now) }
        if let view = views.withLock({ $0[snapshot.id] }) { return view }
        let view = SnapshotView(snapshot: snapshot, files: try catalog.servedFiles(in: snapshot))
        views.withLock { $0[snapshot.id] = view }
        return view
    }

    /// The distribution behind a file URL, if some snapshot serves it.
    func servedFile(digest: Digest, filename: String) throws -> Distribution? {
        let key = digest.hex + "/" + filename
        if let hit = servedFiles.withLock({ $0[key] }) { return hit }
        guard let found = try catalog.servedFile(digest: digest, filename: filename) else { return nil }
        servedFiles.withLock { $0[key] = found }
        return found
    }

    private func isExact(_ selector: SnapshotSelector) -> Bool {
        if case .id = selector { return true }
        return false
    }
}
