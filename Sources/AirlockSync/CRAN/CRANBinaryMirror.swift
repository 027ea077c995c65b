import AirlockCatalog
public import AirlockCore
import AirlockStore
import AirlockUpstream
import Foundation
import Logging

/// Where binaries come from: a Posit-Package-Manager-style repository, which serves Linux binaries at
/// `{root}/__linux__/{distro}/latest/src/contrib/` to clients whose `User-Agent` is R's.
public struct CRANBinaryOptions: Sendable {
    public var upstreamURL: String
    public var distro: String
    /// R's minor version the binaries must be built with: `4.4`.
    public var rMinor: String

    public init(upstreamURL: String, distro: String, rMinor: String) throws {
        guard distro.range(of: #"^[a-z0-9][a-z0-9.-]{0,31}$"#, options: .regularExpression) != nil else {
            throw AirlockError(.invalidArgument, "--distro '\(distro)' is not a distribution name such as bookworm, jammy or rhel9")
        }
        guard rMinor.range(of: #"^[0-9]+\.[0-9]+$"#, options: .regularExpression) != nil else {
            throw AirlockError(.invalidArgument, "--r-version '\(rMinor)' is not an R minor version such as 4.4")
        }
        self.upstreamURL = upstreamURL.hasSuffix("/") ? String(upstreamURL.dropLast()) : upstreamURL
        self.distro = distro
        self.rMinor = rMinor
    }

    /// The `User-Agent` R of this minor version sends on Linux; binary repositories answer binaries to it.
    public var userAgent: String { "R (\(rMinor).0 x86_64-pc-linux-gnu x86_64 linux-gnu)" }
    var contribURL: String { "\(upstreamURL)/__linux__/\(distro)/latest/src/contrib/" }
}

/// What mirroring binaries did.
public struct BinaryReport: Codable, Sendable {
    public struct Refusal: Codable, Sendable {
        public let file: String
        public let reason: String
    }
    public let distro: String
    public let rMinor: String
    /// Binaries fetched, checked and stored by this sync.
    public var mirrored: [String] = []
    /// Served source releases whose binary was stored already.
    public var alreadyStored = 0
    /// Served source releases the upstream offers no binary of (R installs their source).
    public var notOffered: [String] = []
    /// Binaries refused: each is left out, its source release still served.
    public var refused: [Refusal] = []
}

/// Fetches, for each source release a CRAN snapshot serves, the binary of the same package and version
/// from a binary repository (as R asks for it), checks it is that package's binary built for this R
/// minor version on Linux (`DESCRIPTION`'s `Package`, `Version` and `Built:`), inspects it like every
/// archive (libarchive, hostile members refused) and stores it beside the source. One refused binary
/// sets aside only itself.
struct CRANBinaryMirror {
    let options: CRANBinaryOptions
    let download: VerifiedDownload
    let catalog: any ReleaseCatalog & SnapshotCatalog
    let logger: Logger
    let inspector = ArchiveInspector()

    func run(serving files: [Distribution]) async throws -> BinaryReport {
        var report = BinaryReport(distro: options.distro, rMinor: options.rMinor)
        let offered = try await offeredRecords()
        let stored = Set(
            try await catalog.binaries(distro: options.distro).filter { $0.rMinor == options.rMinor }.map { "\($0.package) \($0.version)" })
        var recorded: [RBinary] = []
        for file in files.sorted(by: { $0.filename < $1.filename }) {
            let (package, version) = (file.project.normalized, file.version)
            if stored.contains("\(package) \(version)") {
                report.alreadyStored += 1
                continue
            }
            guard let record = offered["\(package) \(version)"] else {
                report.notOffered.append("\(package) \(version)")
                continue
            }
            let url = options.contribURL + file.filename
            do {
                recorded.append(try await fetch(url, package: package, version: version, md5: record["MD5sum"]))
                report.mirrored.append("\(package) \(version)")
            } catch let e as AirlockError {
                logger.warning("binary refused", metadata: ["file": "\(url)", "error": "\(e.message)"])
                report.refused.append(.init(file: url, reason: e.message))
            }
        }
        try await catalog.recordBinaries(recorded, at: Date())
        return report
    }

    /// The upstream's binary `PACKAGES` records, by `package version`.
    private func offeredRecords() async throws -> [String: DCFRecord] {
        let headers = ["User-Agent": options.userAgent]
        let gz = try await download.fetcher.get(options.contribURL + "PACKAGES.gz", headers: headers)
        let records: [DCFRecord]
        if (200..<300).contains(gz.status) {
            let source = options.contribURL + "PACKAGES.gz"
            records = try DCF.parse(try Gzip.decompress(gz.body, source: source), source: source)
        } else {
            let plain = try await download.fetcher.get(options.contribURL + "PACKAGES", headers: headers)
            guard (200..<300).contains(plain.status) else {
                throw AirlockError(
                    .upstreamStatus,
                    "\(options.contribURL) offers no binaries to R \(options.rMinor) (HTTP \(plain.status) for PACKAGES): is it a binary repository for \(options.distro)?"
                )
            }
            records = try DCF.parse(plain.body, source: options.contribURL + "PACKAGES")
        }
        var out: [String: DCFRecord] = [:]
        for r in records {
            guard let p = r["Package"], let v = r["Version"] else { continue }
            out["\(p) \(v)"] = r
        }
        return out
    }

    private func fetch(_ url: String, package: String, version: String, md5 declared: String?) async throws -> RBinary {
        try await download.fetch(url, headers: ["User-Agent": options.userAgent]) { path, result in
            let md5 = try CRANUpstream.md5(ofFileAt: path)
            if let declared, declared != md5 {
                throw AirlockError(.hashMismatch, "md5 mismatch: the binary PACKAGES declares \(declared), the download has \(md5)")
            }
            let (description, built, platform) = try Self.check(
                path, package: package, version: version, rMinor: options.rMinor, inspector: inspector)
            let rMinor = options.rMinor
            let record = try download.store.put(Array(CRANFetcher.packagesRecord(description, md5: md5).text.utf8))
            return RBinary(
                package: package, version: version, distro: options.distro, rMinor: rMinor, platform: platform, built: built, digest: result.digest,
                size: result.size, recordDigest: record, origin: url)
        }
    }

    /// Checks that the archive at `path` is the binary of `package` `version` built with R `rMinor` on
    /// Linux (or for no platform): its `DESCRIPTION`'s `Package`, `Version` and `Built:`, read with the
    /// same hostile-archive checks as every archive. Returns the `DESCRIPTION`, `Built:` and platform.
    static func check(_ path: String, package: String, version: String, rMinor expected: String, inspector: ArchiveInspector) throws -> (
        DCFRecord, String, String
    ) {
        let name = "\(package)_\(version).tar.gz (binary)"
        let report = try inspector.inspect(path: path, displayName: name, metadata: .rDescription)
        guard let bytes = report.metadata, let description = try DCF.parse(bytes, source: name + ": DESCRIPTION").first else {
            throw AirlockError(.malformedMetadata, "\(name) has no \(package)/DESCRIPTION; it is not an R package")
        }
        guard description["Package"] == package, description["Version"] == version else {
            throw AirlockError(
                .malformedMetadata,
                "DESCRIPTION names package '\(description["Package"] ?? "nothing")' version \(description["Version"] ?? "nothing"), not \(package) \(version)"
            )
        }
        guard let built = description["Built"] else {
            throw AirlockError(.malformedMetadata, "DESCRIPTION has no Built: field: this is a source package, not a binary")
        }
        guard let parsed = RBinary.parseBuilt(built) else {
            throw AirlockError(.malformedMetadata, "DESCRIPTION's Built: field '\(built.prefix(80))' names no R version and platform")
        }
        let (rMinor, platform) = (parsed.rMinor, parsed.platform)
        guard rMinor == expected else {
            throw AirlockError(.malformedMetadata, "DESCRIPTION's Built: field names R \(rMinor), not R \(expected) ('\(built.prefix(80))')")
        }
        // A package without compiled code is built for no platform (`Built: R 4.4.1; ; …`): it runs anywhere.
        guard platform.isEmpty || platform.contains("linux") else {
            throw AirlockError(.malformedMetadata, "DESCRIPTION's Built: field names platform \(platform), not Linux")
        }
        return (description, built, platform)
    }
}
