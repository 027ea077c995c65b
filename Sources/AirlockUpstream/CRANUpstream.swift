public import AirlockCore
import Foundation

import enum Crypto.Insecure

/// One R source package tarball an upstream CRAN-like repository offers.
public struct CRANTarball: Sendable, Hashable {
    public var package: String
    public var version: RVersion
    public var url: String
    /// The MD5 `PACKAGES` declares (current versions only), lowercase hex.
    public var md5: String?
    /// When the file was published, where the Archive listing says.
    public var listedAt: Date?
    /// The `PACKAGES` record (current versions only).
    public var record: DCFRecord?

    public var filename: String { "\(package)_\(version).tar.gz" }
}

/// What the CRAN resolver reads from an upstream: current packages and the Archive listings.
public protocol CRANIndexReader: Sendable {
    /// `…/src/contrib/`, for messages.
    var contribURL: String { get }
    /// Every current package, by name.
    func currentPackages() async throws -> [String: [CRANTarball]]
    /// The versions `src/contrib/Archive/{package}/` lists.
    func archived(_ package: String) async throws -> [CRANTarball]
}

/// Reads a CRAN-like repository: `src/contrib/PACKAGES.gz` (or `PACKAGES`) for current versions and
/// the `src/contrib/Archive/{pkg}/` listing for older ones (`Meta/archive.rds` is R's serialization
/// format; the listing carries the same file names).
public final class CRANUpstream: CRANIndexReader {
    /// `…/src/contrib/`.
    public let contribURL: String
    private let fetcher: HTTPFetcher

    /// `url` is the repository root (`https://cloud.r-project.org`) or its `src/contrib/` directory.
    public init(url: String, fetcher: HTTPFetcher) throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https", "file"].contains(scheme) else {
            throw AirlockError(
                .invalidArgument,
                "invalid --upstream '\(url)': expected the http(s) URL of a CRAN-like repository, such as https://cloud.r-project.org")
        }
        var root = url.hasSuffix("/") ? String(url.dropLast()) : url
        if !root.hasSuffix("/src/contrib") { root += "/src/contrib" }
        self.contribURL = root + "/"
        self.fetcher = fetcher
    }

    /// Every current package, by name (a name may have several records, e.g. for different R versions).
    public func currentPackages() async throws -> [String: [CRANTarball]] {
        let records: [DCFRecord]
        let source: String
        let gz = try await fetcher.get(contribURL + "PACKAGES.gz")
        if (200..<300).contains(gz.status) {
            source = contribURL + "PACKAGES.gz"
            records = try DCF.parse(try Gzip.decompress(gz.body, source: source), source: source)
        } else {
            let plain = try await fetcher.get(contribURL + "PACKAGES")
            source = contribURL + "PACKAGES"
            guard (200..<300).contains(plain.status) else {
                throw AirlockError(
                    .upstreamStatus, "\(contribURL) is not a CRAN-like repository: neither PACKAGES.gz nor PACKAGES exists (HTTP \(plain.status))")
            }
            records = try DCF.parse(plain.body, source: source)
        }
        var out: [String: [CRANTarball]] = [:]
        for record in records {
            let t = try Self.tarball(record, source: source, contribURL: contribURL)
            out[t.package, default: []].append(t)
        }
        return out
    }

    /// The older versions in `Archive/{package}/`; empty when the repository has none.
    public func archived(_ package: String) async throws -> [CRANTarball] {
        let directory = contribURL + "Archive/" + package + "/"
        let listing = try await fetcher.get(directory)
        guard (200..<300).contains(listing.status) else { return [] }
        return Self.parseArchiveListing(String(decoding: listing.body, as: UTF8.self), package: package, directoryURL: directory)
    }

    /// Checks one `PACKAGES` record and turns it into a tarball; errors name the record's line.
    static func tarball(_ record: DCFRecord, source: String, contribURL: String) throws -> CRANTarball {
        let at = "\(source):\(record.line)"
        guard let name = record["Package"], RDependency.isPackageName(name) else {
            throw AirlockError(.malformedIndex, "\(at): record has no valid Package field (got '\(record["Package"] ?? "nothing")')")
        }
        guard let versionText = record["Version"], let version = RVersion(versionText), version.components.count >= 2 else {
            throw AirlockError(.malformedIndex, "\(at): package '\(name)' has no valid Version field (got '\(record["Version"] ?? "nothing")')")
        }
        var md5: String?
        if let m = record["MD5sum"] {
            guard m.count == 32, m.allSatisfy(\.isHexDigit) else {
                throw AirlockError(.malformedIndex, "\(at): package '\(name)' has a malformed MD5sum '\(m)'")
            }
            md5 = m.lowercased()
        }
        for field in ["Depends", "Imports", "LinkingTo", "Suggests"] {
            if let value = record[field] { _ = try RDependency.parseField(value, source: "\(at): \(name) \(field)") }
        }
        let directory = record["Path"].map { contribURL + $0 + "/" } ?? contribURL
        return CRANTarball(package: name, version: version, url: directory + "\(name)_\(versionText).tar.gz", md5: md5, record: record)
    }

    /// File links `{package}_{version}.tar.gz` in an HTML directory listing, with the date on the same
    /// line when the server prints one (Apache and nginx do).
    static func parseArchiveListing(_ html: String, package: String, directoryURL: String) -> [CRANTarball] {
        let prefix = package + "_"
        let suffix = ".tar.gz"
        var out: [String: CRANTarball] = [:]
        for line in html.textLines {
            var rest = line[...]
            while let range = rest.range(of: "href=\"") {
                let start = range.upperBound
                guard let end = rest[start...].firstIndex(of: "\"") else { break }
                let href = String(rest[start..<end]).removingPercentEncoding ?? String(rest[start..<end])
                rest = rest[end...]
                let file = href.split(separator: "/").last.map(String.init) ?? href
                guard file.hasPrefix(prefix), file.hasSuffix(suffix),
                    let version = RVersion(String(file.dropFirst(prefix.count).dropLast(suffix.count)))
                else { continue }
                out[file] = CRANTarball(package: package, version: version, url: directoryURL + file, listedAt: Self.listingDate(String(line)))
            }
        }
        return out.values.sorted { $0.version > $1.version }
    }

    private static func listingDate(_ line: String) -> Date? {
        guard let match = line.firstMatch(of: /(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})/) else { return nil }
        return Timestamp.parse("\(match.1)T\(match.2):00Z")
    }
}

extension CRANUpstream {
    /// The MD5 of a file as lowercase hex, the digest CRAN's `PACKAGES` declares.
    public static func md5(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw AirlockError(.storage, "cannot read \(path)") }
        defer { try? handle.close() }
        var hasher = Insecure.MD5()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
