import AirlockCatalog
import AirlockCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The only way anonymous requests write to the catalog: install misses, downloads and failed sign-ins
/// are counted in memory and flushed in batches (one catalog write per interval), with a cap on distinct
/// misses per interval; only names a project could have are counted, and the catalog keeps at most
/// `Miss.maxStored` of them, so an anonymous client cannot grow the catalog or the audit log without bound.
/// Failed sign-ins become one audit event per client per interval, with a count; a client with too
/// many in one interval is throttled.
final class DemandRecorder: Service, Sendable {
    struct MissKey: Hashable {
        let ecosystem: Ecosystem
        let project: String
        let version: String
    }

    struct Failures {
        var count = 0
        var reasons: Set<String> = []
        var first: Date
        var last: Date
    }

    private struct State {
        var misses: [MissKey: Miss] = [:]
        var droppedMisses = 0
        /// Files sent since the last flush, by content digest (only served files are counted, so this is bounded).
        var downloads: [Digest: Int] = [:]
        var failures: [String: Failures] = [:]
        /// Failures per client in the current window, for throttling (kept across flushes).
        var window: [String: (start: Date, count: Int)] = [:]
    }

    let catalog: any ReviewCatalog
    let logger: Logger
    let interval: Duration
    /// Distinct misses kept per interval; more are counted as dropped.
    let maxMissesPerInterval: Int
    /// Failed sign-ins per client per minute before it is throttled.
    let maxFailuresPerMinute: Int
    private let state = Mutex(State())

    init(
        catalog: any ReviewCatalog, logger: Logger, interval: Duration = .seconds(5), maxMissesPerInterval: Int = 1000, maxFailuresPerMinute: Int = 30
    ) {
        self.catalog = catalog
        self.logger = logger
        self.interval = interval
        self.maxMissesPerInterval = maxMissesPerInterval
        self.maxFailuresPerMinute = maxFailuresPerMinute
    }

    /// Counts one miss; a name no project could have (too long, not a valid name) is dropped.
    func miss(_ ecosystem: Ecosystem, project: String, version: String, client: String?, at now: Date = Date()) {
        let key = MissKey(ecosystem: ecosystem, project: project, version: version)
        let plausible = Miss.problem(ecosystem, project: project, version: version) == nil
        state.withLock { s in
            if !plausible {
                s.droppedMisses += 1
            } else if let m = s.misses[key] {
                s.misses[key] = Miss(
                    ecosystem: ecosystem, project: project, version: version, count: m.count + 1, firstSeen: m.firstSeen, lastSeen: now,
                    lastClient: client)
            } else if s.misses.count < maxMissesPerInterval {
                s.misses[key] = Miss(
                    ecosystem: ecosystem, project: project, version: version, count: 1, firstSeen: now, lastSeen: now, lastClient: client)
            } else {
                s.droppedMisses += 1
            }
        }
    }

    /// Counts one download of a served file (recorded under the day of the flush).
    func download(_ digest: Digest) {
        state.withLock { $0.downloads[digest, default: 0] += 1 }
    }

    func loginFailed(client: String?, reason: String, at now: Date = Date()) {
        let who = client ?? "unknown"
        state.withLock { s in
            s.failures[who, default: Failures(first: now, last: now)].count += 1
            s.failures[who]!.reasons.insert(reason)
            s.failures[who]!.last = now
            let w = s.window[who].flatMap { now.timeIntervalSince($0.start) < 60 ? $0 : nil } ?? (start: now, count: 0)
            s.window[who] = (w.start, w.count + 1)
        }
    }

    func isThrottled(_ client: String?, at now: Date = Date()) -> Bool {
        state.withLock { s in
            guard let w = s.window[client ?? "unknown"], now.timeIntervalSince(w.start) < 60 else { return false }
            return w.count >= maxFailuresPerMinute
        }
    }

    /// Writes what was counted since the last flush: misses and downloads each in one transaction, one
    /// audit event per client.
    func flush() async {
        let (misses, dropped, failures, downloads) = state.withLock { s in
            defer {
                s.misses = [:]
                s.downloads = [:]
                s.droppedMisses = 0
                s.failures = [:]
                s.window = s.window.filter { Date().timeIntervalSince($0.value.start) < 60 }
            }
            return (Array(s.misses.values), s.droppedMisses, s.failures, s.downloads)
        }
        do {
            if !misses.isEmpty { try await catalog.recordMisses(misses) }
            if !downloads.isEmpty {
                let day = DownloadCount.day(of: Date())
                try await catalog.recordDownloads(downloads.map { DownloadCount(sha256: $0.key, day: day, count: $0.value) })
            }
            for (client, f) in failures.sorted(by: { $0.key < $1.key }) {
                try await catalog.audit(
                    actor: "client:\(client)", action: "login.failed", object: "endpoint",
                    details: [
                        "count": String(f.count), "reasons": f.reasons.sorted().joined(separator: "; "), "first": Timestamp.format(f.first),
                        "last": Timestamp.format(f.last),
                    ], at: f.last)
            }
        } catch {
            logger.error("could not record demand", metadata: ["error": "\(error)", "misses": "\(misses.count)"])
        }
        if dropped > 0 { logger.warning("install misses dropped: too many distinct names in one interval", metadata: ["dropped": "\(dropped)"]) }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await flush()
            }
        }
        await flush()
    }
}
