import Foundation

/// A binary build of an R source release for one Linux distribution and R minor version: installed
/// by R without compiling. Served only beside the source release a snapshot serves.
public struct RBinary: Sendable, Hashable, Codable {
    public let package: String
    public let version: String
    /// The distribution it was built on, as Posit Package Manager names them: `bookworm`, `jammy`, `rhel9`.
    public let distro: String
    /// R's minor version it was built with: `4.4`.
    public let rMinor: String
    /// The platform of its `Built:` field: `x86_64-pc-linux-gnu`; empty for a package without compiled code.
    public let platform: String
    /// Its `DESCRIPTION`'s `Built:` field, as recorded.
    public let built: String
    public let digest: Digest
    public let size: Int64
    /// The `PACKAGES` record served for it (its fields, with the binary's MD5).
    public let recordDigest: Digest
    /// How it was made: the upstream URL it was fetched from, or what built it (R, compiler, sandbox, source digest).
    public let origin: String
    /// The log of the build that made it (a blob), when airlock built it.
    public let buildLog: Digest?
    /// When the catalog recorded it (nil before it is recorded): a snapshot serves only binaries recorded
    /// before it was published, so a dated snapshot's bytes never change.
    public var recordedAt: Date?

    public init(
        package: String, version: String, distro: String, rMinor: String, platform: String, built: String, digest: Digest, size: Int64,
        recordDigest: Digest,
        origin: String, buildLog: Digest? = nil, recordedAt: Date? = nil
    ) {
        self.buildLog = buildLog
        self.recordedAt = recordedAt
        self.package = package
        self.version = version
        self.distro = distro
        self.rMinor = rMinor
        self.platform = platform
        self.built = built
        self.digest = digest
        self.size = size
        self.recordDigest = recordDigest
        self.origin = origin
    }

    /// The binaries a snapshot serves, out of `binaries`: those of a release it serves (same package and
    /// version as a served source tarball), recorded no later than its publication. A binary built or
    /// mirrored afterwards is served from the next snapshot on.
    public static func served(by snapshot: Snapshot, files: [Distribution], from binaries: [RBinary]) -> [RBinary] {
        let releases = Set(files.map { "\($0.project.normalized) \($0.version)" })
        return binaries.filter { b in
            releases.contains("\(b.package) \(b.version)") && (b.recordedAt.map { $0 <= snapshot.publishedAt } ?? false)
        }
    }

    /// Its filename as served: the source tarball's name, for R to install in its place.
    public var filename: String { "\(package)_\(version).tar.gz" }

    /// The R minor version R names in its `User-Agent` (`R (4.4.1 x86_64-pc-linux-gnu x86_64 linux-gnu)`, or
    /// `R/4.4.1 R (4.4.1 …)` as Posit Package Manager's setup sets it → `4.4`), or nil.
    public static func rMinor(userAgent: String) -> String? {
        guard let open = userAgent.range(of: "R ("),
            open.lowerBound == userAgent.startIndex || userAgent[userAgent.index(before: open.lowerBound)] == " ",
            let version = userAgent[open.upperBound...].split(separator: " ").first
        else { return nil }
        let parts = version.split(separator: ".")
        guard parts.count >= 2, parts.prefix(2).allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else {
            return nil
        }
        return "\(parts[0]).\(parts[1])"
    }

    /// The R minor version and platform a `Built:` field names (`R 4.4.1; x86_64-pc-linux-gnu; 2024-06-14 …; unix`), or nil.
    public static func parseBuilt(_ field: String) -> (rMinor: String, platform: String)? {
        let parts = field.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count >= 2, parts[0].hasPrefix("R ") else { return nil }
        let numbers = parts[0].dropFirst(2).split(separator: ".")
        guard numbers.count >= 2, numbers.prefix(2).allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else { return nil }
        return ("\(numbers[0]).\(numbers[1])", parts[1])
    }
}
