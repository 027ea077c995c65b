import Foundation

/// A CRAN-like repository on 127.0.0.1 that a test fills with R packages it builds with `R CMD build`:
/// `src/contrib/` with `PACKAGES`/`PACKAGES.gz` written by `tools::write_PACKAGES`, older versions under
/// `src/contrib/Archive/{pkg}/`, served by Python's http.server (which lists directories).
public final class CRANRepository: @unchecked Sendable {
    public let root: String
    public let contrib: String
    public let port: Int
    private let process: RunningProcess
    private let builds: String

    public init(in directory: TemporaryDirectory) throws {
        root = directory.sub("cran")
        contrib = root + "/src/contrib"
        builds = directory.sub("r-builds")
        try FileManager.default.createDirectory(atPath: contrib, withIntermediateDirectories: true)
        process = try RunningProcess(
            FixtureScripts.python, ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", root],
            logPath: directory.path + "/cran-upstream.log")
        port = Int(try process.waitForLine(matching: #"port (\d+)"#))!
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Builds `name==version` packages and publishes them as current, moving the versions they
    /// replace to `Archive/`, then rewrites `PACKAGES` and `PACKAGES.gz`.
    public func release(_ packages: [String], environment: [String: String] = [:]) throws {
        let r = try Subprocess.run(
            FixtureScripts.python, [FixtureScripts.path("build_r_packages"), builds] + packages,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        guard r.succeeded else { throw TestSupportError("building R packages failed:\n\(r.output)") }
        let fm = FileManager.default
        for spec in packages {
            let name = String(spec.split(separator: "=")[0])
            let file = spec.replacingOccurrences(of: "==", with: "_") + ".tar.gz"
            for old in try fm.contentsOfDirectory(atPath: contrib) where old.hasPrefix(name + "_") && old.hasSuffix(".tar.gz") {
                let archive = contrib + "/Archive/" + name
                try fm.createDirectory(atPath: archive, withIntermediateDirectories: true)
                try fm.moveItem(atPath: contrib + "/" + old, toPath: archive + "/" + old)
            }
            try fm.copyItem(atPath: builds + "/" + file, toPath: contrib + "/" + file)
        }
        try writePackages()
    }

    /// Rewrites the index files with R's own `tools::write_PACKAGES`.
    public func writePackages() throws {
        let r = try RClient.run("tools::write_PACKAGES('\(contrib)', type = 'source')")
        guard r.succeeded else { throw TestSupportError("write_PACKAGES failed:\n\(r.output)") }
    }

    /// Replaces `PACKAGES` (and removes `PACKAGES.gz`/`.rds` so it is the one read) with `text`.
    public func replacePackagesIndex(with text: String) throws {
        for f in ["PACKAGES.gz", "PACKAGES.rds"] { try? FileManager.default.removeItem(atPath: contrib + "/" + f) }
        try text.write(toFile: contrib + "/PACKAGES", atomically: true, encoding: .utf8)
    }

    /// After a test rewrote `package`'s current tarball: `PACKAGES` declares its new MD5 (and is the
    /// index read), so only what the tarball holds is wrong.
    public func declareRewrittenTarball(of package: String) throws {
        let index = try String(contentsOfFile: contrib + "/PACKAGES", encoding: .utf8)
        guard let record = index.components(separatedBy: "\n\n").first(where: { $0.contains("Package: \(package)\n") }),
            let line = record.split(separator: "\n").first(where: { $0.hasPrefix("MD5sum: ") }),
            let tarball = try FileManager.default.contentsOfDirectory(atPath: contrib).first(where: {
                $0.hasPrefix(package + "_") && $0.hasSuffix(".tar.gz")
            })
        else { throw TestSupportError("\(package) has no record with an MD5sum, or no tarball, in \(contrib)") }
        let actual = try Subprocess.run("/usr/bin/md5sum", [contrib + "/" + tarball]).stdout.prefix(32)
        try replacePackagesIndex(with: index.replacingOccurrences(of: String(line.dropFirst(8)), with: String(actual)))
    }

    public func stop() { process.stop() }
}

/// R, run as an analyst runs it: `Rscript` with a clean environment.
public enum RClient {
    public static func run(_ code: String, environment: [String: String] = [:]) throws -> ProcessResult {
        guard let rscript = Subprocess.which("Rscript") else { throw TestSupportError("R is not installed (apt-get install r-base-core)") }
        return try Subprocess.run(rscript, ["--vanilla", "-e", code], environment: Subprocess.cleanEnvironment(environment))
    }

    /// Installs packages into a fresh library `lib` from `repos`, then runs `check` with that library
    /// first on the search path. install.packages only warns when an install fails, so callers judge by
    /// what `check` (which should load the package) prints.
    public static func install(_ packages: [String], repos: String, lib: String, check: String, environment: [String: String] = [:]) throws
        -> ProcessResult
    {
        try FileManager.default.createDirectory(atPath: lib, withIntermediateDirectories: true)
        let names = packages.map { "'\($0)'" }.joined(separator: ", ")
        let reposArg = repos == "NULL" ? "NULL" : "'\(repos)'"
        let type = repos == "NULL" ? ", type = 'source'" : ""
        return try run(
            ".libPaths(c('\(lib)', .libPaths())); install.packages(c(\(names)), repos = \(reposArg), lib = '\(lib)'\(type)); \(check)",
            environment: environment)
    }
}
