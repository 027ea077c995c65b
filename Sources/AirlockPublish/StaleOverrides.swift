public import AirlockCatalog
public import AirlockCore
public import Foundation

/// `review stale`: the overrides in force that no client used for a while, so reviewers can withdraw
/// them and serve only what is needed. An approval is used when the endpoint sent a file of a release it
/// covers; a denial, when a client asked for the project it keeps out. Overrides younger than the window
/// are never stale.
public struct StaleOverrides: Sendable {
    let catalog: any ReviewCatalog

    public init(catalog: any ReviewCatalog) { self.catalog = catalog }

    /// One override nobody used since `since`.
    public struct Entry: Codable, Sendable {
        public let override: Override
        /// What "used" means for it, and that it was not: `no download of its 3 files since 2026-09-07`.
        public let detail: String
    }

    public struct Report: Codable, Sendable {
        /// The first day of the window looked at (UTC).
        public let since: String
        public let entries: [Entry]
    }

    public func report(unusedFor window: TimeInterval, now: Date = Date()) async throws -> Report {
        let start = now.addingTimeInterval(-window)
        let since = DownloadCount.day(of: start)
        let downloaded = Set(try await catalog.downloads(since: since).map(\.sha256))
        let asked = Set(try await catalog.misses(nil).filter { $0.lastSeen >= start }.map { "\($0.ecosystem.rawValue)/\($0.project)" })
        var entries: [Entry] = []
        for o in try await catalog.overrides(nil, project: nil) where o.isActive(at: now) && o.createdAt <= start {
            switch o.action {
            case .approve:
                let range = try VersionRange(o.versions, ecosystem: o.ecosystem)
                let files = try await catalog.recordedDigests(o.ecosystem, project: o.project).filter { range.contains($0.key) }.values.reduce(
                    into: Set<Digest>()
                ) {
                    $0.formUnion($1)
                }
                guard files.isDisjoint(with: downloaded) else { continue }
                entries.append(Entry(override: o, detail: "no download of its \(files.count) file(s) since \(since)"))
            case .deny:
                guard !asked.contains("\(o.ecosystem.rawValue)/\(o.project)") else { continue }
                entries.append(Entry(override: o, detail: "no client asked for \(o.project) since \(since)"))
            }
        }
        return Report(since: since, entries: entries)
    }
}
