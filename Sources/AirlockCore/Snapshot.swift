import Foundation

/// An immutable, numbered set of served distributions for one ecosystem.
public struct Snapshot: Codable, Sendable, Hashable {
    public var id: Int64
    public var ecosystem: Ecosystem
    public var publishedAt: Date
    /// Digest of the policy the snapshot's releases were decided under.
    public var policyDigest: String
    public var distributionCount: Int

    public init(id: Int64, ecosystem: Ecosystem, publishedAt: Date, policyDigest: String, distributionCount: Int) {
        self.id = id
        self.ecosystem = ecosystem
        self.publishedAt = publishedAt
        self.policyDigest = policyDigest
        self.distributionCount = distributionCount
    }
}

/// What changed between two snapshots, release by release.
public struct SnapshotDiff: Codable, Sendable {
    public struct Change: Codable, Sendable, Hashable {
        public var project: String
        public var version: String
        /// Filenames added or removed within a release that is in both snapshots.
        public var files: [String]
    }

    /// An R binary one snapshot serves and the other does not.
    public struct BinaryChange: Codable, Sendable, Hashable {
        public var package: String
        public var version: String
        public var distro: String
        public var rMinor: String
        public var sha256: String
        /// Where it came from, or how airlock built it.
        public var origin: String
    }

    public var from: Int64
    public var to: Int64
    public var added: [Change]
    public var removed: [Change]
    public var changed: [Change]
    /// R binaries served by `to` and not `from`, and the other way round (CRAN).
    public var binariesAdded: [BinaryChange]
    public var binariesRemoved: [BinaryChange]

    /// Whether the two snapshots serve the same.
    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty && binariesAdded.isEmpty && binariesRemoved.isEmpty }

    public init(from: Snapshot, fromFiles: [Distribution], to: Snapshot, toFiles: [Distribution], binaries: [RBinary] = []) {
        func releases(_ files: [Distribution]) -> [String: [String: Digest]] {
            var out: [String: [String: Digest]] = [:]
            for f in files { out["\(f.project.normalized)==\(f.version)", default: [:]][f.filename] = f.digest }
            return out
        }
        let a = releases(fromFiles)
        let b = releases(toFiles)
        func change(_ key: String, _ files: [String]) -> Change {
            let parts = key.components(separatedBy: "==")
            return Change(project: parts[0], version: parts[1], files: files.sorted())
        }
        self.from = from.id
        self.to = to.id
        self.added = b.keys.filter { a[$0] == nil }.sorted().map { change($0, Array(b[$0]!.keys)) }
        self.removed = a.keys.filter { b[$0] == nil }.sorted().map { change($0, Array(a[$0]!.keys)) }
        self.changed = a.keys.filter { b[$0] != nil && a[$0] != b[$0] }.sorted().map { key in
            let old = a[key]!
            let new = b[key]!
            let differing = Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }
            return change(key, Array(differing))
        }
        func served(_ snapshot: Snapshot, _ files: [Distribution]) -> Set<BinaryChange> {
            Set(
                RBinary.served(by: snapshot, files: files, from: binaries).map {
                    BinaryChange(
                        package: $0.package, version: $0.version, distro: $0.distro, rMinor: $0.rMinor, sha256: $0.digest.hex, origin: $0.origin)
                })
        }
        let binariesBefore = served(from, fromFiles)
        let binariesAfter = served(to, toFiles)
        let order: (BinaryChange, BinaryChange) -> Bool = {
            ($0.package, $0.version, $0.distro, $0.rMinor) < ($1.package, $1.version, $1.distro, $1.rMinor)
        }
        self.binariesAdded = binariesAfter.subtracting(binariesBefore).sorted(by: order)
        self.binariesRemoved = binariesBefore.subtracting(binariesAfter).sorted(by: order)
    }
}
