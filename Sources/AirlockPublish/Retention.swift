public import AirlockCatalog
public import AirlockCore
import AirlockStore
public import Foundation

/// Which snapshots to keep: every one from the last `keepDays`, then the newest of each UTC week or
/// month (`then`), the pinned ones, and always the newest of each ecosystem.
public struct RetentionRule: Sendable, Equatable {
    public enum Thinning: String, Sendable, CaseIterable { case weekly, monthly, none }

    public var keepDays: Int
    public var then: Thinning
    public var pinned: Set<Int64>

    public init(keepDays: Int, then: Thinning, pinned: Set<Int64> = []) {
        self.keepDays = keepDays
        self.then = then
        self.pinned = pinned
    }

    /// The snapshots this rule lets go at `now`.
    public func expired(_ snapshots: [Snapshot], now: Date) -> [Snapshot] {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let horizon = now.addingTimeInterval(-Double(keepDays) * 86_400)
        var out: [Snapshot] = []
        for ecosystem in Ecosystem.allCases {
            let mine = snapshots.filter { $0.ecosystem == ecosystem }.sorted { $0.id > $1.id }
            var bucketsSeen: Set<String> = []
            for (index, s) in mine.enumerated() {
                guard index > 0, s.publishedAt < horizon, !pinned.contains(s.id) else { continue }
                let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear, .year, .month], from: s.publishedAt)
                let bucket: String? =
                    switch then {
                    case .weekly: "\(c.yearForWeekOfYear ?? 0)-W\(c.weekOfYear ?? 0)"
                    case .monthly: "\(c.year ?? 0)-\(c.month ?? 0)"
                    case .none: nil
                    }
                // Newest first: the first snapshot seen in a bucket is the one kept.
                if let bucket, bucketsSeen.insert(bucket).inserted { continue }
                out.append(s)
            }
        }
        return out.sorted { $0.id < $1.id }
    }
}

/// Expires snapshots by a `RetentionRule`, then deletes the blobs nothing retained needs. It holds the
/// sync lock (a running sync makes it refuse: that sync's downloads are not in the catalog yet) and
/// the publish lock (a review act waits), so no blob is deleted while something that will reference it
/// is in progress. Expiry is one transaction; a kill during the sweep leaves only unreferenced blobs,
/// which the next run removes.
public struct GarbageCollector: Sendable {
    public struct Report: Codable, Sendable {
        public var expired: [Int64]
        public var retained: [Int64]
        public var blobsRemoved: Int
        public var bytesFreed: Int64
        public var blobsKept: Int
        public var dryRun: Bool
    }

    let catalog: any RetentionCatalog & ReviewCatalog
    let store: any BlobStore
    let dataDirectory: String

    public init(catalog: any RetentionCatalog & ReviewCatalog, store: any BlobStore, dataDirectory: String) {
        self.catalog = catalog
        self.store = store
        self.dataDirectory = dataDirectory
    }

    /// With no rule, expires nothing and only sweeps unreferenced blobs. `dryRun` changes nothing.
    public func run(_ rule: RetentionRule?, dryRun: Bool, actor: String, at now: Date = Date()) async throws -> Report {
        let syncLock = try DataDirectoryLock(.sync, dataDirectory: dataDirectory)
        let publishLock = try await DataDirectoryLock.acquire(.publish, dataDirectory: dataDirectory)
        defer { withExtendedLifetime((syncLock, publishLock)) {} }
        let snapshots = try await catalog.retainedSnapshots()
        let expired = Set((rule?.expired(snapshots, now: now) ?? []).map(\.id))
        let referenced: Set<String>
        if dryRun {
            referenced = try await catalog.referencedBlobs(expiring: expired)
        } else {
            try await catalog.expire(expired.sorted(), actor: actor, at: now)
            referenced = try await catalog.referencedBlobs(expiring: [])
        }
        var removed = 0
        var kept = 0
        var freed: Int64 = 0
        for digest in try store.allDigests() {
            if referenced.contains(digest.hex) {
                kept += 1
                continue
            }
            removed += 1
            freed += dryRun ? (store.size(of: digest) ?? 0) : try store.remove(digest)
        }
        if !dryRun {
            try await catalog.audit(
                actor: actor, action: "gc.sweep", object: "blobs",
                details: [
                    "removed": String(removed), "bytes_freed": String(freed), "kept": String(kept), "snapshots_expired": String(expired.count),
                ], at: now)
        }
        return Report(
            expired: expired.sorted(), retained: snapshots.map(\.id).filter { !expired.contains($0) }, blobsRemoved: removed, bytesFreed: freed,
            blobsKept: kept, dryRun: dryRun)
    }
}
