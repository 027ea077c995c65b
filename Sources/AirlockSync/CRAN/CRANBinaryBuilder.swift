import AirlockCatalog
public import AirlockCore
import AirlockPublish
import AirlockStore
import AirlockUpstream
public import Foundation
import Logging

/// What `airlock build cran` builds for, and within which limits.
public struct CRANBuildOptions: Sendable {
    /// The distribution this machine runs (checked against `/etc/os-release`).
    public var distro: String
    /// The R minor version the binaries are for; must be this machine's R (nil: whatever it is).
    public var rMinor: String?
    /// Build inside bubblewrap with no network and only the build directory writable.
    public var sandbox = true
    public var timeout: Duration = .seconds(1800)
    public var memoryBytes: Int64 = 4 << 30
    /// Also build the archived versions the snapshot serves (`remotes::install_version` installs them).
    public var archived = false

    public init(distro: String, rMinor: String? = nil) {
        self.distro = distro
        self.rMinor = rMinor
    }
}

/// What a build run did, package by package.
public struct BuildReport: Codable, Sendable {
    public struct Built: Codable, Sendable {
        public let package: String
        public let version: String
        public let seconds: Double
    }
    public struct Failure: Codable, Sendable {
        public let package: String
        public let version: String
        /// What went wrong, from the log where it can tell: a missing header or library, the network.
        public let reason: String
        /// The build log's blob.
        public let log: String
        /// Its last lines.
        public let tail: [String]
    }
    public let distro: String
    public let rVersion: String
    public let compiler: String
    public let sandbox: String
    public var built: [Built] = []
    /// Served releases that already had a binary for this distribution and R version.
    public var alreadyBuilt = 0
    public var failed: [Failure] = []
    /// Releases not built because a dependency failed.
    public var skipped: [String] = []
    /// The snapshot that serves the new binaries (published when any was built).
    public var snapshot: Int64?
}

/// `airlock build cran`: builds, on the connected side, binaries of the current versions a CRAN
/// snapshot serves that have none for this distribution and R version, with `R CMD INSTALL --build`, in
/// dependency order, in a bubblewrap sandbox (no network, the build directory the only writable place,
/// a time and an address-space limit). A failed build sets aside that binary only (its source stays
/// served) and names, where the log tells, the missing system library. Each binary is checked as a
/// mirrored one is (`CRANBinaryMirror.check`) and recorded with its build log and how it was made.
public struct CRANBinaryBuilder: Sendable {
    let context: SyncContext

    public init(_ context: SyncContext) { self.context = context }

    public func run(_ options: CRANBuildOptions) async throws -> BuildReport {
        let (catalog, store, logger) = (context.catalog, context.store, context.logger)
        let work = context.dataDirectory + "/build/run-\(Int(Date().timeIntervalSince1970))-\(getpid())"
        for dir in ["lib", "src", "home", "tmp", "logs"] {
            try FileManager.default.createDirectory(atPath: "\(work)/\(dir)", withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(atPath: work) }

        try Self.checkDistro(options.distro)
        let rVersion = try await output(["Rscript", "--vanilla", "-e", "cat(as.character(getRversion()))"], work: work)
        let rMinor = rVersion.split(separator: ".").prefix(2).joined(separator: ".")
        if let wanted = options.rMinor, wanted != rMinor {
            throw AirlockError(
                .invalidArgument,
                "this machine's R is \(rVersion): it builds binaries for R \(rMinor), not \(wanted); build on a machine with R \(wanted)")
        }
        let compiler = try await output(["sh", "-c", #"$(R CMD config CC | cut -d' ' -f1) --version | head -1"#], work: work)
        let sandbox =
            options.sandbox ? "bubblewrap, no network, only the build directory writable" : "none (--no-sandbox): the build could reach the network"
        if options.sandbox {
            let probe = try await BuildCommand.run(
                Self.sandboxed(["true"], work: work), directory: work, environment: environment(work), log: work + "/logs/sandbox-check.log",
                timeout: .seconds(30))
            guard probe.succeeded else {
                let said = (try? String(contentsOfFile: work + "/logs/sandbox-check.log", encoding: .utf8)) ?? ""
                throw AirlockError(
                    .forbidden,
                    "this machine cannot run builds in a sandbox (bwrap --unshare-net failed: \(said.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))); "
                        + "install bubblewrap and allow user namespaces, or pass --no-sandbox to build without one, with network access")
            }
        }
        var report = BuildReport(distro: options.distro, rVersion: rVersion, compiler: compiler, sandbox: sandbox)
        let how = Provenance(rVersion: rVersion, rMinor: rMinor, compiler: compiler, sandbox: sandbox)

        guard let snapshot = try await catalog.snapshot(.cran, .latest) else {
            throw AirlockError(.notFound, "no cran snapshot is published: sync cran first")
        }
        let served = Dictionary(grouping: try await catalog.servedFiles(in: snapshot), by: { $0.project.normalized })
        let current = served.compactMapValues { files in files.max { VersionOrder.older($0.version, $1.version, .cran) } }
        let existing = Dictionary(
            try await catalog.binaries(distro: options.distro).filter { $0.rMinor == rMinor }.map { ("\($0.package) \($0.version)", $0) },
            uniquingKeysWith: { a, _ in a })
        var failedPackages = Set<String>()
        let order = try dependencyOrder(current, store: store)
        for package in order {
            guard let source = current[package] else { continue }
            let needs = try dependencies(of: source, store: store).filter { current[$0] != nil }
            if let broken = needs.first(where: failedPackages.contains) {
                failedPackages.insert(package)
                report.skipped.append("\(package) \(source.version) (needs \(broken), whose build failed)")
                continue
            }
            if let binary = existing["\(package) \(source.version)"] {
                // Dependents build against it: installed into the build library from its binary.
                report.alreadyBuilt += 1
                let file = "\(work)/src/\(package)_\(source.version)_binary.tar.gz"
                try Data(try store.read(binary.digest)).write(to: URL(fileURLWithPath: file))
                let installed = try await BuildCommand.run(
                    wrap(["R", "CMD", "INSTALL", "-l", work + "/lib", file], options, work: work), directory: work, environment: environment(work),
                    log: "\(work)/logs/\(package).log", timeout: options.timeout)
                if !installed.succeeded { failedPackages.insert(package) }
                continue
            }
            if !(try await build(source, package: package, library: work + "/lib", options, how, work: work, into: &report)) {
                failedPackages.insert(package)
            }
        }
        // Archived versions, against the current versions of what they need; each into a library of its
        // own, so none replaces the current version others build against.
        if options.archived {
            for package in order {
                let older = (served[package] ?? []).filter { $0.version != current[package]?.version }.sorted {
                    VersionOrder.older($0.version, $1.version, .cran)
                }
                for source in older {
                    if failedPackages.contains(package) {
                        report.skipped.append("\(package) \(source.version) (archived; the current version's build failed)")
                        continue
                    }
                    if existing["\(package) \(source.version)"] != nil {
                        report.alreadyBuilt += 1
                        continue
                    }
                    let library = "\(work)/lib-archived/\(package)-\(source.version)"
                    try FileManager.default.createDirectory(atPath: library, withIntermediateDirectories: true)
                    _ = try await build(source, package: package, library: library, options, how, work: work, into: &report)
                }
            }
        }
        if !report.built.isEmpty {
            let publication = try await context.publishRecordedBinaries(actor: "build")
            report.snapshot = publication.snapshot.id
            logger.info(
                "snapshot published",
                metadata: ["ecosystem": "cran", "snapshot": "\(publication.snapshot.id)", "binaries_built": "\(report.built.count)"])
        }
        return report
    }

    /// What every binary of a run is built with, as its record says.
    struct Provenance {
        let rVersion, rMinor, compiler, sandbox: String
    }

    /// Builds one source release's binary into `library`, checks and records it; a failure is reported
    /// with its cause and the log's tail. Returns whether it was built.
    private func build(
        _ source: Distribution, package: String, library: String, _ options: CRANBuildOptions, _ how: Provenance, work: String,
        into report: inout BuildReport
    ) async throws -> Bool {
        let (catalog, store, logger) = (context.catalog, context.store, context.logger)
        let log = "\(work)/logs/\(package)-\(source.version).log"
        let started = Date()
        let tarball = "\(work)/src/\(source.filename)"
        try Data(try store.read(source.digest)).write(to: URL(fileURLWithPath: tarball))
        let outcome = try await BuildCommand.run(
            wrap(["R", "CMD", "INSTALL", "--build", "-l", library, tarball], options, work: work), directory: work, environment: environment(work),
            log: log,
            timeout: options.timeout)
        let logBytes = Array((try? Data(contentsOf: URL(fileURLWithPath: log))) ?? Data())
        let logDigest = try store.put(logBytes)
        let text = String(decoding: logBytes, as: UTF8.self)
        let declared = try Self.systemRequirements(of: source, store: store)
        do {
            guard outcome.succeeded else {
                throw AirlockError(.resolution, Self.diagnose(text, outcome: outcome, timeout: options.timeout, systemRequirements: declared))
            }
            guard
                let name = try FileManager.default.contentsOfDirectory(atPath: work).first(where: {
                    $0.hasPrefix("\(package)_\(source.version)_R_") && $0.hasSuffix(".tar.gz")
                })
            else { throw AirlockError(.resolution, "R CMD INSTALL --build succeeded but wrote no binary tarball") }
            let path = "\(work)/\(name)"
            let (description, built, platform) = try CRANBinaryMirror.check(
                path, package: package, version: source.version, rMinor: how.rMinor, inspector: ArchiveInspector())
            let md5 = try CRANUpstream.md5(ofFileAt: path)
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            let digest = try store.put(bytes)
            let record = try store.put(Array(CRANFetcher.packagesRecord(description, md5: md5).text.utf8))
            try FileManager.default.removeItem(atPath: path)
            let origin =
                "built by airlock on \(options.distro) with R \(how.rVersion) and \(how.compiler); sandbox: \(how.sandbox); source sha256 \(source.digest.hex)"
                + "; SystemRequirements: \(declared ?? "none declared")"
            try await catalog.recordBinaries(
                [
                    RBinary(
                        package: package, version: source.version, distro: options.distro, rMinor: how.rMinor, platform: platform, built: built,
                        digest: digest,
                        size: Int64(bytes.count), recordDigest: record, origin: origin, buildLog: logDigest)
                ], at: Date())
            report.built.append(.init(package: package, version: source.version, seconds: Date().timeIntervalSince(started)))
            logger.info(
                "binary built",
                metadata: ["package": "\(package)", "version": "\(source.version)", "seconds": "\(Int(Date().timeIntervalSince(started)))"])
            return true
        } catch let e as AirlockError {
            let tail = text.textLines.suffix(12).map(String.init)
            report.failed.append(.init(package: package, version: source.version, reason: e.message, log: logDigest.hex, tail: tail))
            logger.warning("build failed", metadata: ["package": "\(package)", "version": "\(source.version)", "reason": "\(e.message)"])
            return false
        }
    }

    /// The machine's distribution must be the one named: a binary is only good where it was built.
    static func checkDistro(_ distro: String) throws {
        let release = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        var fields: [String: String] = [:]
        for line in release.textLines {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        let names = [
            fields["VERSION_CODENAME"],
            fields["ID"].flatMap { id in fields["VERSION_ID"].map { id + $0.split(separator: ".").first.map(String.init)! } },
        ]
        .compactMap { $0 }
        guard names.contains(distro) else {
            throw AirlockError(
                .invalidArgument,
                "this machine runs \(fields["PRETTY_NAME"] ?? "an unknown distribution") (\(names.joined(separator: ", "))), not \(distro): build \(distro)'s binaries on a \(distro) machine"
            )
        }
    }

    /// The served packages, each after those it depends on (`Depends`, `Imports`, `LinkingTo`).
    private func dependencyOrder(_ current: [String: Distribution], store: any BlobStore) throws -> [String] {
        var needs: [String: Set<String>] = [:]
        for (package, file) in current {
            needs[package] = Set(try dependencies(of: file, store: store).filter { current[$0] != nil && $0 != package })
        }
        var order: [String] = []
        var done = Set<String>()
        while order.count < needs.count {
            let ready = needs.keys.filter { !done.contains($0) && needs[$0]!.isSubset(of: done) }.sorted()
            // A cycle (R refuses one at install time anyway): the rest in name order.
            let next = ready.isEmpty ? needs.keys.filter { !done.contains($0) }.sorted() : ready
            order += next
            done.formUnion(next)
        }
        return order
    }

    private func dependencies(of file: Distribution, store: any BlobStore) throws -> [String] {
        guard let record = try Self.record(of: file, store: store) else { return [] }
        return try ["Depends", "Imports", "LinkingTo"].flatMap { field in
            try record[field].map { try RDependency.parseField($0, source: "\(file.filename) \(field)").map(\.name) } ?? []
        }
    }

    /// The source release's `PACKAGES` record (its `DESCRIPTION` fields), as the sync stored it.
    static func record(of file: Distribution, store: any BlobStore) throws -> DCFRecord? {
        guard let digest = file.metadataDigest else { return nil }
        return try DCF.parse(try store.read(digest), source: file.filename).first
    }

    /// What the package says it needs from the system (`SystemRequirements`), on one line, or nil.
    static func systemRequirements(of file: Distribution, store: any BlobStore) throws -> String? {
        SystemRequirements.line(try record(of: file, store: store)?["SystemRequirements"])
    }

    private func environment(_ work: String) -> [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", "HOME": work + "/home", "TMPDIR": work + "/tmp",
            "LANG": "C.UTF-8",
            "R_LIBS": work + "/lib", "MAKEFLAGS": "-j\(max(1, ProcessInfo.processInfo.activeProcessorCount))",
        ]
    }

    private func wrap(_ command: [String], _ options: CRANBuildOptions, work: String) -> [String] {
        let limited = ["prlimit", "--as=\(options.memoryBytes)", "--"] + command
        return options.sandbox ? Self.sandboxed(limited, work: work) : limited
    }

    /// `command` in bubblewrap: its own network (none but a down loopback), PID, IPC and UTS namespaces,
    /// the whole system read-only, the build directory the only writable place; it dies with airlock.
    static func sandboxed(_ command: [String], work: String) -> [String] {
        [
            "bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session", "--ro-bind", "/", "/",
            "--dev", "/dev",
            "--proc", "/proc", "--bind", work, work, "--chdir", work, "--",
        ] + command
    }

    /// Why a build failed, from its log: a missing header, library or pkg-config module, the network, the time limit.
    static func diagnose(_ log: String, outcome: BuildCommand.Outcome, timeout: Duration, systemRequirements: String? = nil) -> String {
        if outcome.timedOut { return "the build took longer than \(timeout.components.seconds) s and was stopped" }
        let declared = systemRequirements.map { "; the package declares SystemRequirements: \($0)" } ?? ""
        let patterns: [(String, (String) -> String)] = [
            (
                #"fatal error: ([A-Za-z0-9_./+-]+\.h): No such file or directory"#,
                { "a system header is missing: \($0) (install the development package that provides it\(declared))" }
            ),
            (#"cannot find -l([A-Za-z0-9_.+-]+)"#, { "a system library is missing: lib\($0) (install its development package\(declared))" }),
            (
                #"Package '?([A-Za-z0-9_.+-]+)'?,? (?:required by '[^']*', )?(?:was )?not found"#,
                { "a pkg-config module is missing: \($0) (install its development package\(declared))" }
            ),
            (
                #"(Could not resolve host|Couldn't connect to server|Failed to connect|Network is unreachable|Connection refused)"#,
                { "the build tried to reach the network (\($0)); builds have none" }
            ),
        ]
        for (pattern, describe) in patterns {
            if let match = log.range(of: pattern, options: .regularExpression) {
                let found = String(log[match])
                let capture =
                    (try? NSRegularExpression(pattern: pattern)).flatMap { regex in
                        regex.firstMatch(in: found, range: NSRange(found.startIndex..., in: found)).flatMap {
                            Range($0.range(at: 1), in: found).map { String(found[$0]) }
                        }
                    } ?? found
                return describe(capture)
            }
        }
        if outcome.status > 128 { return "the build was killed by signal \(outcome.status - 128) (out of memory, or the --memory-gib limit?)" }
        let errorLine = log.textLines.last { $0.contains("ERROR") || $0.contains("error:") }.map { String($0.prefix(200)) }
        return "R CMD INSTALL --build failed (exit \(outcome.status))" + (errorLine.map { ": \($0)" } ?? "")
    }

    /// The standard output of a short command run outside the sandbox (R's version, the compiler's).
    private func output(_ command: [String], work: String) async throws -> String {
        let log = work + "/logs/probe-\(UUID().uuidString.prefix(6)).log"
        let outcome = try await BuildCommand.run(command, directory: work, environment: environment(work), log: log, timeout: .seconds(60))
        let text = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard outcome.succeeded, !text.isEmpty else {
            throw AirlockError(.notFound, "\(command.joined(separator: " ")) failed: \(text.prefix(200)) (is R installed?)")
        }
        return text
    }
}
