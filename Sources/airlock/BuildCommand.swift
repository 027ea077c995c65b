import AirlockCore
import AirlockSync
import ArgumentParser
import Foundation

struct Build: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Build binary packages of what a snapshot serves.", subcommands: [BuildCRAN.self])
}

struct BuildCRAN: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cran",
        abstract: "Build Linux binaries of the current R packages the latest CRAN snapshot serves, for this machine's distribution and R.",
        discussion: """
            Each package without a binary for this distribution and R minor version is built with R CMD INSTALL --build, in \
            dependency order, inside bubblewrap (no network, the build directory the only writable place) with a time and \
            memory limit. A failed build sets aside that binary only (its source stays served) and names the missing system \
            library where the log tells. Binaries are served at /cran/__linux__/DISTRO/SNAPSHOT/ to R of the same minor version.
            """)

    @OptionGroup var common: CommonOptions
    @Option(help: "This machine's distribution, as binary repositories name it (bookworm, jammy, rhel9); checked against /etc/os-release.")
    var distro: String
    @Option(name: .customLong("r-version"), help: "The R minor version to build for (default: this machine's R, which it must be).")
    var rVersion: String?
    @Flag(help: "Build without the sandbox (builds can then reach the network); refused otherwise on a machine that cannot create namespaces.")
    var noSandbox = false
    @Option(help: "Longest one package's build may take, such as 30m (default 30m).")
    var timeout = "30m"
    @Option(help: "Address space one build may use, in GiB (default 4).")
    var memoryGib: Int = 4
    @Flag(help: "Also build the archived versions the snapshot serves (remotes::install_version installs them), after the current ones.")
    var archived = false
    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        try await reportingErrors {
            guard let limit = DurationText.parse(timeout), limit >= .seconds(10) else {
                throw AirlockError(.invalidArgument, "--timeout takes a duration of at least 10s, such as 30m, not '\(timeout)'")
            }
            var options = CRANBuildOptions(distro: distro, rMinor: rVersion)
            options.sandbox = !noSandbox
            options.timeout = limit
            options.memoryBytes = Int64(max(1, memoryGib)) << 30
            options.archived = archived
            let logger = common.logger("airlock.build")
            let report = try await CRANBinaryBuilder(try await common.openForSync(ecosystem: .cran, policy: nil, logger: logger)).run(options)
            if json {
                try printJSON(report)
            } else {
                print(
                    "built \(report.built.count) binary(ies) for \(report.distro), R \(report.rVersion) (\(report.compiler); sandbox: \(report.sandbox)); "
                        + "\(report.alreadyBuilt) already built, \(report.failed.count) failed, \(report.skipped.count) skipped")
                for b in report.built { print("  built \(b.package) \(b.version) in \(String(format: "%.1f", b.seconds)) s") }
                if let snapshot = report.snapshot { print("published cran snapshot \(snapshot), serving the new binaries") }
                for f in report.failed {
                    print("  failed \(f.package) \(f.version): \(f.reason) (build log: blob sha256 \(f.log))")
                    for line in f.tail { print("    | \(line)") }
                }
                for s in report.skipped { print("  skipped \(s)") }
            }
            if !report.failed.isEmpty || !report.skipped.isEmpty {
                FileHandle.standardError.write(
                    Data(
                        "error: \(report.failed.count + report.skipped.count) binary(ies) not built; their sources stay served (exit \(setAsideExitCode))\n"
                            .utf8))
                throw ExitCode(setAsideExitCode)
            }
        }
    }
}
