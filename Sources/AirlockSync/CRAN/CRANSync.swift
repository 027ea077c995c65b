import AirlockCatalog
public import AirlockCore
import AirlockPolicy
import AirlockPublish
import AirlockStore
import AirlockUpstream
public import Foundation
import Logging

/// What a sync of a CRAN-like repository mirrors.
public struct CRANSyncOptions: Sendable {
    public var upstreamURL: String
    /// Newest versions kept per selected package; dependencies get the newest match per requirer.
    public var versionsPerPackage: Int
    /// Also mirror the `Suggests` of the selected packages.
    public var withSuggests: Bool
    public var maxFileSize: Int64
    public var maxConnections: Int
    /// Redirects, time limits and unhashed files.
    public var limits = UpstreamLimits()
    /// Proxy, CA, client certificate, credentials, headers, request rate.
    public var access = UpstreamAccess()
    /// Where to mirror binaries of the served releases from, if anywhere.
    public var binaries: CRANBinaryOptions?

    public init(upstreamURL: String, versionsPerPackage: Int = 3, withSuggests: Bool = false, maxFileSize: Int64 = 1 << 30, maxConnections: Int = 8) {
        self.upstreamURL = upstreamURL
        self.versionsPerPackage = versionsPerPackage
        self.withSuggests = withSuggests
        self.maxFileSize = maxFileSize
        self.maxConnections = maxConnections
    }
}

/// Mirrors R packages from a CRAN-like repository with their `Depends`/`Imports`/`LinkingTo` closure,
/// decides each version with the same policy engine as PyPI, and publishes one CRAN snapshot
/// atomically. A sync that fails publishes nothing.
public struct CRANSync: Sendable {
    let context: SyncContext

    public init(_ context: SyncContext) { self.context = context }

    /// Adds `packages` (`pkg` or `pkg (>= 1.2)`) to the stored selection (or replaces it), then syncs it all.
    public func run(adding packages: [String], replace: Bool, options: CRANSyncOptions, progress: SyncProgress) async throws -> SyncReport {
        let started = Date()
        let (catalog, store, logger) = (context.catalog, context.store, context.logger)
        try store.removeAbandonedStaging()
        let wanted = try packages.flatMap { try RDependency.parseField($0, source: "package argument '\($0)'") }
        if let shipped = wanted.first(where: { RDependency.shippedWithR.contains($0.name) }) {
            throw AirlockError(.invalidArgument, "'\(shipped.name)' ships with R itself; airlock mirrors repository packages only")
        }
        try await catalog.updateSelection(.cran, adding: wanted.map(\.description), replace: replace, at: started)
        let selection = try await catalog.selection(.cran).flatMap { try RDependency.parseField($0, source: "stored CRAN selection") }
        guard !selection.isEmpty else {
            throw AirlockError(
                .invalidArgument, "nothing to sync: name R packages (e.g. 'data.table' or 'Rcpp (>= 1.0)'); the stored selection is empty")
        }

        let fetcher = HTTPFetcher(
            maxConnectionsPerHost: options.maxConnections, upstream: options.upstreamURL, limits: options.limits, access: options.access,
            logger: logger)
        let upstream = try CRANUpstream(url: options.upstreamURL, fetcher: fetcher)
        let tarballs = CRANFetcher(
            download: VerifiedDownload(store: store, fetcher: fetcher, progress: progress, maxFileSize: options.maxFileSize), catalog: catalog)
        progress.phase("resolving and fetching")
        let evaluator = context.evaluator
        let adapter = CRANResolver(upstream: upstream, tarballs: tarballs, withSuggests: options.withSuggests, logger: logger) { release in
            evaluator.evaluate(release.facts(), at: started).verdict == .approve
        }
        let pipeline = context.pipeline(.cran)
        let (releases, setAside) = try await pipeline.resolveInstallable(
            adapter, selection.map { Want(requirement: $0, origin: .selection, count: options.versionsPerPackage) }, targets: [], extras: [:]
        ) { ($0, []) }
        progress.finish()

        let outcome = try await pipeline.recordAndPublish(releases, targets: [], setAside: setAside, at: Date())
        var report = try await pipeline.report(
            outcome, releases, setAside: setAside, files: releases.count, transfers: tarballs.counts, started: started)
        if let binaries = options.binaries {
            progress.phase("mirroring binaries for \(binaries.distro), R \(binaries.rMinor)")
            let binaryFetcher = HTTPFetcher(
                maxConnectionsPerHost: options.maxConnections, upstream: binaries.upstreamURL, limits: options.limits, access: options.access,
                logger: logger)
            let mirror = CRANBinaryMirror(
                options: binaries,
                download: VerifiedDownload(store: store, fetcher: binaryFetcher, progress: progress, maxFileSize: options.maxFileSize),
                catalog: catalog, logger: logger)
            let binaryReport = try await mirror.run(serving: try await catalog.servedFiles(in: report.snapshot))
            report.binaries = binaryReport
            progress.finish()
            if !binaryReport.mirrored.isEmpty {
                let publication = try await context.publishRecordedBinaries(actor: "sync")
                (report.snapshot, report.manifest) = (publication.snapshot, publication.manifest)
                report.published = report.published || publication.isNew
            }
        }
        return report
    }
}
