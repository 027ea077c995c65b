public import AirlockCatalog
public import AirlockCore
public import AirlockPolicy
import AirlockProvenance
import AirlockUpstream
public import Foundation

/// Imports offline feeds into the catalog, where the policy reads them: nothing is fetched at
/// decision time. A feed that fails to parse imports nothing.
public struct FeedImporter: Sendable {
    let catalog: any FeedCatalog

    public init(catalog: any FeedCatalog) {
        self.catalog = catalog
    }

    /// What one import brought in.
    public struct Summary: Codable, Sendable {
        public var kind: String
        public var source: String
        public var entries: Int
        public var sha256: String
    }

    /// Reads a popularity feed (JSON or CSV) and replaces the ecosystem's download counts.
    public func importPopularity(_ path: String, ecosystem: Ecosystem) async throws -> Summary {
        let bytes = try Self.read(path)
        let downloads = try FeedParsers.popularity(bytes, source: path)
        let digest = Digest.of(bytes)
        try await catalog.replacePopularity(ecosystem, downloads, source: path, digest: digest, at: Date())
        return Summary(kind: "popularity", source: path, entries: downloads.count, sha256: digest.hex)
    }

    /// Reads OSV records from a JSON file, a directory of them, or a zip as OSV publishes per ecosystem.
    public func importOSV(_ path: String, ecosystem: Ecosystem) async throws -> Summary {
        var records: [(source: String, bytes: [UInt8])] = []
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw AirlockError(.invalidArgument, "no OSV feed at \(path)")
        }
        if isDirectory.boolValue {
            let names = (try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []
            for name in names.sorted() where name.hasSuffix(".json") { records.append(("\(path)/\(name)", try Self.read("\(path)/\(name)"))) }
        } else if path.hasSuffix(".zip") {
            let members = try ArchiveInspector().readMembers(path: path, displayName: path) { $0.hasSuffix(".json") }
            records = members.map { ("\(path):\($0.name)", $0.bytes) }
        } else {
            records = [(path, try Self.read(path))]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var advisories: [StoredAdvisory] = []
        var digest = [UInt8]()
        for record in records {
            for a in try FeedParsers.osv(record.bytes, source: record.source, ecosystem: ecosystem) {
                advisories.append(StoredAdvisory(id: a.id, project: a.project, document: String(decoding: try encoder.encode(a), as: UTF8.self)))
            }
            digest += Digest.of(record.bytes).hex.utf8
        }
        let feedDigest = Digest.of(digest)
        try await catalog.storeAdvisories(ecosystem, advisories, source: path, digest: feedDigest, at: Date())
        return Summary(kind: "osv", source: path, entries: advisories.count, sha256: feedDigest.hex)
    }

    /// Reads a Sigstore `trusted_root.json` and makes it the root provenance is verified against; a root
    /// that does not parse (or names no CA or log key) is refused and the previous one stays.
    public func importSigstoreRoot(_ path: String) async throws -> Summary {
        let bytes = try Self.read(path)
        let root: TrustedRoot
        do { root = try TrustedRoot(json: bytes) } catch { throw AirlockError(.invalidArgument, "\(path): \(error)") }
        guard !root.authorities.isEmpty, !root.transparencyLogs.isEmpty else {
            throw AirlockError(
                .invalidArgument, "\(path): the trusted root names no certificate authority or no transparency log; nothing could verify against it")
        }
        let digest = Digest.of(bytes)
        try await catalog.storeTrustedRoot(bytes, source: path, digest: digest, at: Date())
        return Summary(
            kind: "sigstore-root", source: path, entries: root.authorities.count + root.transparencyLogs.count + root.certificateLogs.count,
            sha256: digest.hex)
    }

    /// The feeds imported so far, as the policy engine takes them.
    public static func load(from catalog: any FeedCatalog, ecosystem: Ecosystem) async throws -> Feeds {
        let decoder = JSONDecoder()
        var advisories: [String: [Advisory]] = [:]
        for document in try await catalog.advisoryDocuments(ecosystem) {
            let a = try decoder.decode(Advisory.self, from: Data(document.utf8))
            advisories[a.project, default: []].append(a)
        }
        return Feeds(downloads: try await catalog.popularity(ecosystem), advisories: advisories)
    }

    private static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw AirlockError(.invalidArgument, "cannot read feed file \(path)") }
        return [UInt8](data)
    }
}
