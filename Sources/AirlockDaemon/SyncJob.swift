import AirlockCatalog
public import AirlockConfig
public import AirlockCore
import AirlockSync
import Foundation
public import Logging

/// One ecosystem's sync exactly as the configuration describes it: its selection replaces the stored
/// one, so what the file says is what the mirror holds.
public enum SyncJob {
    public static func run(_ ecosystem: Ecosystem, _ config: Configuration, logger: Logger) async throws -> SyncReport {
        let data = try config.directory()
        switch ecosystem {
        case .pypi:
            guard let p = config.pypi else { throw AirlockError(.invalidArgument, "\(config.path) has no [pypi] section") }
            var requirements = try p.requirements.map(Requirement.init(parsing:))
            for file in p.requirementFiles { requirements += try Requirement.parseFile(at: file, contents: try read(file)) { try read($0) } }
            let environments = try p.python.flatMap { py in try p.platform.map { try TargetEnvironment(python: py, platform: $0) } }
            try await importFeeds(p.feeds, .pypi, data, logger)
            let context = try await SyncContext.open(data, ecosystem: .pypi, policy: p.policy.argument, logger: logger)
            var options = PyPISyncOptions(
                upstreamURL: p.upstream, environments: environments, versionsPerRequirement: p.versions, maxFileSize: p.maxFileSize,
                maxConnections: p.connections)
            options.limits = p.limits
            options.access = p.access
            return try await PyPISync(context).run(
                adding: requirements, replace: true, options: options, progress: SyncProgress(interactive: false, logger: logger))
        case .cran:
            guard let c = config.cran else { throw AirlockError(.invalidArgument, "\(config.path) has no [cran] section") }
            try await importFeeds(c.feeds, .cran, data, logger)
            let context = try await SyncContext.open(data, ecosystem: .cran, policy: c.policy.argument, logger: logger)
            var options = CRANSyncOptions(
                upstreamURL: c.upstream, versionsPerPackage: c.versions, withSuggests: c.withSuggests, maxFileSize: c.maxFileSize,
                maxConnections: c.connections)
            options.limits = c.limits
            options.access = c.access
            options.binaries = try c.binaries.map { try CRANBinaryOptions(upstreamURL: $0.upstream, distro: $0.distro, rMinor: $0.rMinor) }
            return try await CRANSync(context).run(
                adding: c.packages, replace: true, options: options, progress: SyncProgress(interactive: false, logger: logger))
        }
    }

    /// `[build]`: the binaries the served current CRAN releases lack, built as `airlock build cran` builds them.
    public static func build(_ build: Configuration.Build, _ config: Configuration, logger: Logger) async throws -> BuildReport {
        let context = try await SyncContext.open(try config.directory(), ecosystem: .cran, policy: config.cran?.policy.argument, logger: logger)
        var options = CRANBuildOptions(distro: build.distro, rMinor: build.rMinor)
        options.sandbox = build.sandbox
        options.timeout = build.timeout
        options.memoryBytes = Int64(build.memoryGiB) << 30
        options.archived = build.archived
        return try await CRANBinaryBuilder(context).run(options)
    }

    /// Re-imports the configured feed files, so this sync decides on what they say now.
    private static func importFeeds(_ feeds: Configuration.Feeds, _ ecosystem: Ecosystem, _ data: DataDirectory, _ logger: Logger) async throws {
        guard feeds.popularity != nil || feeds.osv != nil else { return }
        let importer = FeedImporter(catalog: try await data.open().catalog)
        var summaries: [FeedImporter.Summary] = []
        if let path = feeds.popularity { summaries.append(try await importer.importPopularity(path, ecosystem: ecosystem)) }
        if let path = feeds.osv { summaries.append(try await importer.importOSV(path, ecosystem: ecosystem)) }
        for summary in summaries {
            logger.info(
                "feed imported",
                metadata: [
                    "ecosystem": "\(ecosystem.rawValue)", "kind": "\(summary.kind)", "entries": "\(summary.entries)", "sha256": "\(summary.sha256)",
                ])
        }
    }

    private static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AirlockError(.invalidArgument, "cannot read requirements file \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
