import AirlockCatalog
import AirlockConfig
import AirlockCore
import AirlockLockfile
import AirlockPolicy
import AirlockSync
import ArgumentParser
import Foundation

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mirror an upstream index into the store and publish a snapshot.",
        subcommands: [SyncPyPI.self, SyncCRAN.self])
}

struct SyncPyPI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pypi",
        abstract: "Mirror PyPI projects with their dependency closure.",
        discussion: """
            Requirements add to the stored selection; each sync re-resolves the whole selection against the
            upstream and publishes one snapshot. Example:
              airlock sync pypi --upstream https://pypi.org/simple/ --data /srv/airlock --python 3.11 --python 3.12 'numpy>=1.26' requests
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Simple index root of the upstream (PEP 503/691; default https://pypi.org/simple/).")
    var upstream: String?

    @Option(name: .customLong("python"), help: "Target Python version(s) (repeatable; default 3.10 to 3.13).")
    var pythons: [String] = []

    @Option(name: .customLong("platform"), help: "Target wheel platform tag(s) (repeatable; default manylinux_2_28_x86_64).")
    var platforms: [String] = []

    @Option(name: [.customShort("r"), .customLong("requirements")], help: "Requirements file(s) to add (repeatable).")
    var requirementFiles: [String] = []

    @Option(help: "Lockfile(s) whose exact pins to add (requirements.txt with hashes, pylock.toml, uv.lock, poetry.lock; repeatable).")
    var lockfile: [String] = []

    @Option(help: "Newest matching versions kept per requested requirement (0 keeps all; default 3).")
    var versions: Int?

    @Option(help: "Largest file accepted, in bytes (default 4 GiB).")
    var maxFileSize: Int64?

    @Option(help: "Parallel connections to the upstream (default 8).")
    var connections: Int?

    @OptionGroup var access: UpstreamAccessOptions

    @Flag(help: "Fetch files the index links without a sha256 (checked by nothing but their size; default: set aside).")
    var allowUnhashed = false

    @Option(
        help:
            "Policy file deciding which releases are served, under the imported feeds; default: the built-in policies/default.toml; 'none' serves everything selected (audited)."
    )
    var policy: String?

    @Flag(help: "Replace the stored selection with these requirements instead of adding to it.")
    var replace = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Argument(help: "PEP 508 requirements, such as 'numpy>=1.26' or 'pandas[performance]'.")
    var requirements: [String] = []

    func run() async throws {
        try await reportingErrors {
            let logger = common.logger("airlock.sync")
            let file = try common.configuration()?.pypi
            var parsed = try (requirements + (file?.requirements ?? [])).map(Requirement.init(parsing:))
            for path in requirementFiles + (file?.requirementFiles ?? []) {
                parsed += try Requirement.parseFile(at: path, contents: try readText(path)) { try readText($0) }
            }
            parsed += try lockedRequirements(lockfile, .pypi).map(Requirement.init(parsing:))
            let pythons = pythons.isEmpty ? file?.python ?? ["3.10", "3.11", "3.12", "3.13"] : pythons
            let platforms = platforms.isEmpty ? file?.platform ?? ["manylinux_2_28_x86_64"] : platforms
            let environments = try pythons.flatMap { p in try platforms.map { try TargetEnvironment(python: p, platform: $0) } }
            let sync = PyPISync(try await common.openForSync(ecosystem: .pypi, policy: policy ?? file?.policy.argument, logger: logger))
            let (upstreamURL, upstreamAccess) = try access.upstream(
                upstream, file: file.map { ($0.upstream, $0.access) }, default: "https://pypi.org/simple/")
            var options = PyPISyncOptions(
                upstreamURL: upstreamURL, environments: environments,
                versionsPerRequirement: versions ?? file?.versions ?? 3, maxFileSize: maxFileSize ?? file?.maxFileSize ?? (4 << 30),
                maxConnections: connections ?? file?.connections ?? 8)
            options.limits = try access.limits(file?.limits, allowUnhashed: allowUnhashed)
            options.access = upstreamAccess
            let report = try await sync.run(adding: parsed, replace: replace, options: options, progress: SyncProgress(logger: logger))
            try finish(report, json: json) {
                "\(report.published ? "published" : "nothing changed; still serving") pypi snapshot \(report.snapshot.id): \(report.servedSummary)\n"
                    + "  this sync: \(report.releases) releases of \(report.projects) projects, \(report.files) files "
                    + "(\(report.downloaded) downloaded, \(report.reused) already stored) in \(String(format: "%.1f", report.seconds)) s; "
                    + "\(report.upstreamRequests) upstream requests (\(report.indexNotModified) index pages not modified, \(report.indexUnchanged) documents unchanged by serial)"
                    + report.decisionSummary + report.upstreamGaps.map { "\n  upstream: \($0)" }.joined()
            }
        }
    }
}

struct SyncCRAN: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cran",
        abstract: "Mirror R packages from a CRAN-like repository with their Depends/Imports/LinkingTo closure.",
        discussion: """
            Packages add to the stored selection; each sync re-resolves the whole selection and publishes one
            CRAN snapshot. Packages that ship with R (base and recommended) are never mirrored. Example:
              airlock sync cran --upstream https://cloud.r-project.org --data /srv/airlock data.table 'ggplot2 (>= 3.5)'
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Root of the CRAN-like repository (the directory holding src/contrib; default https://cloud.r-project.org).")
    var upstream: String?

    @Option(help: "Newest versions kept per named package (0 keeps all; default 3); dependencies get the newest that fits.")
    var versions: Int?

    @Flag(help: "Also mirror the Suggests of the named packages.")
    var withSuggests = false

    @Option(help: "Largest file accepted, in bytes (default 1 GiB).")
    var maxFileSize: Int64?

    @Option(help: "Parallel connections to the upstream (default 8).")
    var connections: Int?

    @OptionGroup var access: UpstreamAccessOptions

    @Option(
        help:
            "Policy file deciding which releases are served; default: the built-in policies/default.toml; 'none' serves everything selected (audited)."
    )
    var policy: String?

    @Option(help: "renv.lock file(s) whose exact pins to add (repeatable).")
    var lockfile: [String] = []

    @Option(
        help:
            "A binary repository in Posit Package Manager's layout (binaries at URL/__linux__/DISTRO/latest/src/contrib) to mirror binaries of the served releases from."
    )
    var binaryUpstream: String?

    @Option(help: "The Linux distribution the binaries are for, as the binary repository names it (bookworm, jammy, rhel9); with --binary-upstream.")
    var distro: String?

    @Option(name: .customLong("r-version"), help: "The R minor version the binaries are built with (such as 4.4); with --binary-upstream.")
    var rVersion: String?

    @Flag(help: "Replace the stored selection with these packages instead of adding to it.")
    var replace = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Argument(help: "R packages, such as 'data.table' or 'Rcpp (>= 1.0.7)'.")
    var packages: [String] = []

    func run() async throws {
        try await reportingErrors {
            let logger = common.logger("airlock.sync")
            let file = try common.configuration()?.cran
            let sync = CRANSync(try await common.openForSync(ecosystem: .cran, policy: policy ?? file?.policy.argument, logger: logger))
            let (upstreamURL, upstreamAccess) = try access.upstream(
                upstream, file: file.map { ($0.upstream, $0.access) }, default: "https://cloud.r-project.org")
            var options = CRANSyncOptions(
                upstreamURL: upstreamURL, versionsPerPackage: versions ?? file?.versions ?? 3,
                withSuggests: withSuggests || file?.withSuggests == true, maxFileSize: maxFileSize ?? file?.maxFileSize ?? (1 << 30),
                maxConnections: connections ?? file?.connections ?? 8)
            options.limits = try access.limits(file?.limits, allowUnhashed: false)
            options.access = upstreamAccess
            if let binaryUpstream {
                guard let distro, let rVersion else {
                    throw AirlockError(.invalidArgument, "--binary-upstream needs --distro (such as bookworm) and --r-version (such as 4.4)")
                }
                options.binaries = try CRANBinaryOptions(upstreamURL: binaryUpstream, distro: distro, rMinor: rVersion)
            } else if distro != nil || rVersion != nil {
                throw AirlockError(.invalidArgument, "--distro and --r-version choose binaries: give --binary-upstream too")
            }
            let report = try await sync.run(
                adding: packages + (file?.packages ?? []) + (try lockedRequirements(lockfile, .cran)), replace: replace, options: options,
                progress: SyncProgress(logger: logger))
            try finish(report, json: json) {
                "\(report.published ? "published" : "nothing changed; still serving") cran snapshot \(report.snapshot.id): \(report.servedSummary)\n"
                    + "  this sync: \(report.releases) versions of \(report.projects) packages "
                    + "(\(report.downloaded) downloaded, \(report.reused) already stored) in \(String(format: "%.1f", report.seconds)) s"
                    + report.decisionSummary + (report.binaries.map(Self.describe) ?? "")
            }
            if let refused = report.binaries?.refused, !refused.isEmpty {
                FileHandle.standardError.write(
                    Data("error: \(refused.count) binary(ies) refused; their sources are served (exit \(setAsideExitCode))\n".utf8))
                throw ExitCode(setAsideExitCode)
            }
        }
    }
}

extension SyncCRAN {
    /// The binaries' lines of a sync's summary.
    static func describe(_ b: BinaryReport) -> String {
        "\n  binaries for \(b.distro), R \(b.rMinor): \(b.mirrored.count) mirrored, \(b.alreadyStored) already stored, "
            + "\(b.notOffered.count) not offered upstream (their sources are served)"
            + b.refused.map { "\n  binary refused: \($0.file): \($0.reason)" }.joined()
    }
}

/// Where redirects may lead and how long fetching may take, shared by every `sync` subcommand.
struct UpstreamAccessOptions: ParsableArguments {
    @Option(name: .customLong("redirect-host"), help: "A host redirects may lead to besides the upstream's and the one asked (repeatable).")
    var redirectHosts: [String] = []

    @Option(help: "Longest one transfer may take, such as 90s or 30m (default 30m).")
    var transferTimeout: String?

    @Option(help: "Longest the whole sync may spend fetching, such as 6h (default 6h).")
    var syncTimeout: String?

    @Option(help: "Proxy to reach the upstream through, such as http://proxy.example.com:3128 (default: the proxy environment variables).")
    var proxy: String?

    @Option(help: "PEM file of the CAs trusted for the upstream, in place of the system's.")
    var caBundle: String?

    /// The upstream URL (credentials written into it taken out into basic auth) and how to reach it:
    /// flags over the configuration file.
    func upstream(_ flag: String?, file: (url: String, access: UpstreamAccess)?, default fallback: String) throws -> (
        url: String, access: UpstreamAccess
    ) {
        var access = file?.access ?? UpstreamAccess()
        var url = file?.url ?? fallback
        if let flag {
            let (bare, credentials) = UpstreamAccess.strippingCredentials(from: flag)
            url = bare
            if let credentials { access.credentials = credentials }
        }
        if let proxy { access.proxy = proxy }
        if let caBundle {
            guard FileManager.default.isReadableFile(atPath: caBundle) else {
                throw AirlockError(.invalidArgument, "--ca-bundle names \(caBundle), which cannot be read")
            }
            access.caBundle = caBundle
        }
        return (url, access)
    }

    /// The limits in force: flags over the configuration file over the defaults.
    func limits(_ file: UpstreamLimits?, allowUnhashed: Bool) throws -> UpstreamLimits {
        var limits = file ?? UpstreamLimits()
        limits.redirectHosts += redirectHosts
        if let text = transferTimeout { limits.transferTimeout = try Self.duration(text, "--transfer-timeout") }
        if let text = syncTimeout { limits.syncTimeout = try Self.duration(text, "--sync-timeout") }
        limits.allowUnhashed = limits.allowUnhashed || allowUnhashed
        return limits
    }

    private static func duration(_ text: String, _ flag: String) throws -> Duration {
        guard let d = DurationText.parse(text), d >= .seconds(1) else {
            throw AirlockError(.invalidArgument, "\(flag) takes a duration of at least 1s, such as 90s, 30m or 6h, not '\(text)'")
        }
        return d
    }
}

extension SyncReport {
    /// "serves N releases of M projects (F files)".
    var servedSummary: String { "serves \(served.releases) releases of \(served.projects) projects (\(served.files) files)" }

    /// The verdicts, the most common reasons for holding, and the facts that were missing, one line each.
    var decisionSummary: String {
        var lines = ["\n  decided: \(approved) approved, \(heldForReview) held for review, \(denied) denied"]
        if !holdReasons.isEmpty {
            lines.append("\n  held because: " + holdReasons.prefix(5).map { "\($0.reason) (\($0.releases))" }.joined(separator: ", "))
        }
        lines += missingFacts.map { "\n  missing: \($0)" }
        return lines.joined()
    }
}

/// Exit status of a sync that published but set releases aside: a scheduler must notice.
let setAsideExitCode: Int32 = 3

/// Prints a sync's report (JSON, or the summary line with what was held and set aside) and exits
/// with `setAsideExitCode` when anything was set aside.
func finish(_ report: SyncReport, json: Bool, summary: () -> String) throws {
    if json {
        try printJSON(report)
    } else {
        print(summary())
        for (release, why) in report.held.sorted(by: { $0.key < $1.key }) { print("  held: \(release): \(why)") }
        for s in report.setAside {
            print(
                "  set aside: \(s.project)\(s.version.isEmpty ? "" : " \(s.version)")\(s.filename.map { " (\($0))" } ?? ""): \(s.check): \(s.error)")
        }
    }
    if !report.setAside.isEmpty {
        FileHandle.standardError.write(
            Data("error: \(report.setAside.count) release(s) set aside; the rest was published (exit \(setAsideExitCode))\n".utf8))
        throw ExitCode(setAsideExitCode)
    }
}

/// The exact pins of lockfiles as requirements of the ecosystem synced (`name==1.0`, R's `name (== 1.0)`);
/// a lockfile pinning another ecosystem is an error naming it.
func lockedRequirements(_ paths: [String], _ ecosystem: Ecosystem) throws -> [String] {
    try paths.flatMap { path in
        try Lockfile.read(path).map { pin in
            guard pin.ecosystem == ecosystem else {
                throw AirlockError(
                    .invalidArgument,
                    "\(path) pins \(pin.ecosystem.rawValue) packages (\(pin.source)); sync them with airlock sync \(pin.ecosystem.rawValue)")
            }
            return ecosystem == .pypi ? "\(pin.project)==\(pin.version)" : "\(pin.project) (== \(pin.version))"
        }
    }
}

func readText(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw AirlockError(.invalidArgument, "cannot read requirements file \(path)")
    }
    return String(decoding: data, as: UTF8.self)
}
