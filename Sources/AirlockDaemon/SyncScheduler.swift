import AirlockCatalog
public import AirlockConfig
import AirlockCore
import AirlockPublish
import AirlockSync
import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// The configuration in force; SIGHUP replaces it, and each sync loop reads it afresh every cycle.
public final class ConfigurationBox: Sendable {
    private let value: Mutex<Configuration>
    public init(_ c: Configuration) { value = Mutex(c) }
    public var current: Configuration { value.withLock { $0 } }
    public func replace(_ c: Configuration) { value.withLock { $0 = c } }
}

/// One sync loop per ecosystem, on the configured schedule with jitter. Syncs of the data directory
/// never overlap (one runs at a time here; another process's sync makes this one fail and retry).
/// A failed sync publishes nothing, is logged with its cause, counts in the metrics, and is retried
/// after `retry_after`, doubling up to `every`, so the last good snapshot stays served. On graceful
/// shutdown the loops stop; a sync still running after `abandonAfter` is abandoned by exiting:
/// downloads land in staging and publishing is one transaction, so nothing half-done is left and
/// the next start resumes.
public final class SyncScheduler: Service, Sendable {
    let configuration: ConfigurationBox
    let metrics: DaemonMetrics
    let logger: Logger
    let abandonAfter: Duration
    private let running = Mutex<Ecosystem?>(nil)
    private let turn = SyncTurn()

    public init(configuration: ConfigurationBox, metrics: DaemonMetrics, logger: Logger, abandonAfter: Duration = .seconds(5)) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.abandonAfter = abandonAfter
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { group in
                    for e in Ecosystem.allCases { group.addTask { await self.loop(e) } }
                }
            }
        } onGracefulShutdown: {
            let logger = self.logger
            let wait = Self.seconds(self.abandonAfter)
            DispatchQueue.global().asyncAfter(deadline: .now() + wait) {
                guard let e = self.running.withLock({ $0 }) else { return }
                logger.warning("abandoning the in-flight sync at shutdown; the next start resumes it", metadata: ["ecosystem": "\(e.rawValue)"])
                exit(0)
            }
        }
    }

    private func loop(_ e: Ecosystem) async {
        var failures = 0
        while !Task.isCancelled {
            let config = configuration.current
            let configured = e == .pypi ? config.pypi != nil : config.cran != nil
            var delay = config.schedule.every
            if configured {
                let ok = await syncOnce(e, config)
                failures = ok ? 0 : failures + 1
                if !ok {
                    let backoff = config.schedule.retryAfter * (1 << min(failures - 1, 20))
                    delay = min(backoff, config.schedule.every)
                }
            }
            let jitter = failures > 0 ? delay / 10 : config.schedule.jitter
            let seconds = max(0.1, Self.seconds(delay) + Double.random(in: -1...1) * Self.seconds(jitter))
            logger.info(
                "next sync",
                metadata: ["ecosystem": "\(e.rawValue)", "in_seconds": "\(String(format: "%.1f", seconds))", "configured": "\(configured)"])
            try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        }
    }

    private func syncOnce(_ e: Ecosystem, _ config: Configuration) async -> Bool {
        await turn.take()
        defer { Task { await turn.give() } }
        guard !Task.isCancelled else { return false }
        running.withLock { $0 = e }
        defer { running.withLock { $0 = nil } }
        let start = Date()
        logger.info("sync started", metadata: ["ecosystem": "\(e.rawValue)"])
        do {
            let report = try await SyncJob.run(e, config, logger: logger)
            let seconds = Date().timeIntervalSince(start)
            metrics.succeeded(e, report, seconds: seconds)
            logger.info(
                "sync finished",
                metadata: [
                    "ecosystem": "\(e.rawValue)", "snapshot": "\(report.snapshot.id)", "published": "\(report.published)",
                    "downloaded": "\(report.downloaded)",
                    "reused": "\(report.reused)", "set_aside": "\(report.setAside.count)", "seconds": "\(String(format: "%.1f", seconds))",
                ])
            if e == .cran, let build = config.build { await buildBinaries(build, config) }
            if let rule = config.retention { await collectGarbage(rule, config) }
            return true
        } catch {
            let cause = (error as? AirlockError)?.code.name ?? (error is CancellationError ? "cancelled" : "other")
            metrics.failed(e, cause: cause, seconds: Date().timeIntervalSince(start))
            logger.error(
                "sync failed; the last snapshot stays served", metadata: ["ecosystem": "\(e.rawValue)", "cause": "\(cause)", "error": "\(error)"])
            return false
        }
    }

    /// `[build]` after a successful CRAN sync, in the same turn. A failed build sets aside only its
    /// binary (the sources stay served); a build that cannot run at all is logged, and the sync stands.
    private func buildBinaries(_ build: Configuration.Build, _ config: Configuration) async {
        let start = Date()
        do {
            let report = try await SyncJob.build(build, config, logger: logger)
            metrics.built(report)
            logger.info(
                "binaries built",
                metadata: [
                    "distro": "\(report.distro)", "r_version": "\(report.rVersion)", "built": "\(report.built.count)",
                    "already_built": "\(report.alreadyBuilt)",
                    "failed": "\(report.failed.count)", "skipped": "\(report.skipped.count)",
                    "snapshot": "\(report.snapshot.map(String.init) ?? "unchanged")",
                    "seconds": "\(String(format: "%.1f", Date().timeIntervalSince(start)))",
                ])
            for f in report.failed {
                logger.warning(
                    "binary not built; its source stays served",
                    metadata: ["package": "\(f.package)", "version": "\(f.version)", "reason": "\(f.reason)"])
            }
        } catch {
            metrics.buildFailed()
            logger.error("builds failed; the sources stay served", metadata: ["error": "\(error)"])
        }
    }

    /// Retention after a successful sync, in the same turn (no sync runs meanwhile). A failure is logged;
    /// the sync itself stands.
    private func collectGarbage(_ rule: RetentionRule, _ config: Configuration) async {
        do {
            let data = try config.directory()
            let (catalog, store) = try await data.open()
            let report = try await GarbageCollector(catalog: catalog, store: store, dataDirectory: data.path).run(
                rule, dryRun: false, actor: "daemon:gc")
            logger.info(
                "retention applied",
                metadata: ["expired": "\(report.expired)", "blobs_removed": "\(report.blobsRemoved)", "bytes_freed": "\(report.bytesFreed)"])
        } catch {
            logger.error("retention failed", metadata: ["error": "\(error)"])
        }
    }

    private static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
}

/// One sync at a time in this process, first come first served.
actor SyncTurn {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func take() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func give() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
