import AirlockCatalog
import AirlockCore
import AirlockPublish
import AirlockUpstream
import ArgumentParser
import Foundation

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "List, show, compare and verify published snapshots.",
        subcommands: [List.self, Show.self, Diff.self, Verify.self])

    typealias Options = EcosystemOptions

    /// A local file's bytes, or an error naming it.
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw AirlockError(.notFound, "cannot read \(path)") }
        return [UInt8](data)
    }
}

extension EcosystemOptions {
    /// The ecosystem whose snapshots are meant: the one named, else PyPI, unless only one other
    /// ecosystem has snapshots (a CRAN-only data directory needs no `--ecosystem cran`).
    func snapshotEcosystem(_ catalog: any Catalog) async throws -> Ecosystem {
        if let chosenEcosystem { return chosenEcosystem }
        var published: [Ecosystem] = []
        for e in Ecosystem.allCases where !(try await catalog.snapshots(e)).isEmpty { published.append(e) }
        return published.count == 1 ? published[0] : .pypi
    }

    /// The snapshot `text` names, with its ecosystem and the files it serves.
    func snapshot(_ text: String) async throws -> (Snapshot, [Distribution], Ecosystem) {
        let (catalog, _) = try await common.open()
        guard let selector = SnapshotSelector(text) else {
            throw AirlockError(.invalidArgument, "'\(text)' names no snapshot: use latest, a date YYYY-MM-DD or an id")
        }
        let ecosystem = try await snapshotEcosystem(catalog)
        guard let s = try await catalog.snapshot(ecosystem, selector) else {
            var others: [String] = []
            for e in Ecosystem.allCases where e != ecosystem {
                let n = try await catalog.snapshots(e).count
                if n > 0 { others.append("\(e.rawValue) has \(n) (--ecosystem \(e.rawValue))") }
            }
            throw AirlockError(
                .notFound,
                "no \(ecosystem.rawValue) snapshot matches '\(text)' in \((try? common.dataDirectory()) ?? "")"
                    + (others.isEmpty ? "" : "; " + others.joined(separator: ", ")))
        }
        return (s, try await catalog.servedFiles(in: s), ecosystem)
    }
}

extension SnapshotCommand {
    struct List: AsyncParsableCommand {
        @OptionGroup var options: Options

        func run() async throws {
            try await reportingErrors {
                let (catalog, _) = try await options.common.open()
                let all = try await catalog.snapshots(try await options.snapshotEcosystem(catalog))
                if options.json { return try printJSON(all) }
                print("ID\tPUBLISHED\t\t\tFILES\tPOLICY")
                for s in all { print("\(s.id)\t\(Timestamp.format(s.publishedAt))\t\(s.distributionCount)\t\(s.policyDigest)") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        @OptionGroup var options: Options
        @Argument(help: "latest, a date YYYY-MM-DD, or an id.")
        var snapshot = "latest"

        func run() async throws {
            try await reportingErrors {
                let (s, files, ecosystem) = try await options.snapshot(snapshot)
                let binaries = try await options.common.open().catalog.servedBinaries(in: s, files: files)
                if options.json {
                    struct Shown: Encodable {
                        let snapshot: Snapshot
                        let files: [Distribution]
                        let binaries: [RBinary]
                    }
                    return try printJSON(Shown(snapshot: s, files: files, binaries: binaries))
                }
                print("\(ecosystem.rawValue) snapshot \(s.id), published \(Timestamp.format(s.publishedAt)), policy \(s.policyDigest)")
                for f in files { print("  \(f.project.normalized) \(f.version)\t\(f.filename)\tsha256:\(f.digest.hex)") }
                for b in binaries { print("  \(b.package) \(b.version)\tbinary for \(b.distro), R \(b.rMinor)\tsha256:\(b.digest.hex)") }
            }
        }
    }

    struct Diff: AsyncParsableCommand {
        enum Format: String, ExpressibleByArgument { case text, markdown }

        static let configuration = CommandConfiguration(abstract: "Releases added, removed and changed between two snapshots.")
        @OptionGroup var options: Options
        @Argument(help: "The older snapshot.")
        var from: String
        @Argument(help: "The newer snapshot.")
        var to = "latest"
        @Option(help: "text, or markdown (a table for a pull request or a code review).") var format: Format = .text

        func run() async throws {
            try await reportingErrors {
                let (a, af, ecosystem) = try await options.snapshot(from)
                let (b, bf, _) = try await options.snapshot(to)
                let diff = try await options.common.open().catalog.diff(a, b, files: (af, bf))
                if options.json { return try printJSON(diff) }
                func binary(_ c: SnapshotDiff.BinaryChange) -> String { "\(c.package) \(c.version) binary for \(c.distro), R \(c.rMinor)" }
                if format == .markdown {
                    print("### \(ecosystem.rawValue) snapshot \(a.id) → \(b.id)\n")
                    let binaryCounts = ecosystem == .cran ? "; \(diff.binariesAdded.count) binaries added, \(diff.binariesRemoved.count) removed" : ""
                    print("\(diff.added.count) added, \(diff.removed.count) removed, \(diff.changed.count) changed\(binaryCounts)\n")
                    guard !diff.isEmpty else { return }
                    print("| | project | version | files |\n| --- | --- | --- | --- |")
                    func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
                    for c in diff.added { print("| added | \(cell(c.project)) | \(cell(c.version)) | |") }
                    for c in diff.removed { print("| removed | \(cell(c.project)) | \(cell(c.version)) | |") }
                    for c in diff.changed {
                        print("| changed | \(cell(c.project)) | \(cell(c.version)) | \(cell(c.files.joined(separator: ", "))) |")
                    }
                    for c in diff.binariesAdded {
                        print("| binary added | \(cell(c.package)) | \(cell(c.version)) | \(cell("\(c.distro), R \(c.rMinor): \(c.origin)")) |")
                    }
                    for c in diff.binariesRemoved {
                        print("| binary removed | \(cell(c.package)) | \(cell(c.version)) | \(cell("\(c.distro), R \(c.rMinor)")) |")
                    }
                    return
                }
                print("\(ecosystem.rawValue) snapshot \(a.id) → \(b.id)")
                for c in diff.added { print("+ \(c.project) \(c.version)") }
                for c in diff.removed { print("- \(c.project) \(c.version)") }
                for c in diff.changed { print("~ \(c.project) \(c.version): \(c.files.joined(separator: ", "))") }
                for c in diff.binariesAdded { print("+ \(binary(c)): \(c.origin)") }
                for c in diff.binariesRemoved { print("- \(binary(c))") }
                if diff.isEmpty { print("  (no changes)") }
            }
        }
    }
}

extension SnapshotCommand {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a snapshot manifest's signature: from the data directory, or from a running endpoint with --server.",
            discussion: """
                Manifests are signed when the data directory has a key at keys/airlock.key (airlock keys generate --out DATA/keys); \
                --pub is that key's airlock.pub. Exits non-zero if the manifest or its signature was changed, or the key differs.
                """)
        @OptionGroup var options: Options
        @Option(help: "The public key (airlock.pub) the manifest must be signed with.") var pub: String
        @Option(help: "An airlock endpoint (https://host:port) to fetch the manifest and signature from, instead of --data.") var server: String?
        @Argument(help: "latest, a date YYYY-MM-DD, or an id.") var snapshot = "latest"

        struct Verified: Encodable {
            let ecosystem: Ecosystem
            let snapshot: Int64
            let signer: String
            let files: Int
            let auditHead: AuditHead?
        }

        func run() async throws {
            try await reportingErrors {
                let (manifest, signature, source) = try await fetch()
                let signer = try TrustedKeys(files: [pub]).verify(detached: String(decoding: signature, as: UTF8.self), of: manifest, what: source)
                struct Header: Decodable {
                    let ecosystem: Ecosystem
                    let snapshot: Int64
                    let files: [AnyFile]
                    struct AnyFile: Decodable {}
                }
                let header = try JSONDecoder().decode(Header.self, from: Data(manifest))
                if let id = Int64(snapshot), id != header.snapshot {
                    throw AirlockError(.hashMismatch, "\(source) is the manifest of snapshot \(header.snapshot), not \(id)")
                }
                let verified = Verified(
                    ecosystem: header.ecosystem, snapshot: header.snapshot, signer: signer, files: header.files.count,
                    auditHead: try PublishedManifests.auditHead(of: manifest, source: source))
                if options.json { return try printJSON(verified) }
                print(
                    "verified: \(header.ecosystem.rawValue) snapshot \(header.snapshot) (\(header.files.count) files) is signed by key \(signer)"
                        + (verified.auditHead.map { "; audit chain head #\($0.sequence) at publication" } ?? ""))
            }
        }

        /// The manifest bytes, the signature and a name for them in messages.
        private func fetch() async throws -> ([UInt8], [UInt8], String) {
            let ecosystem = options.chosenEcosystem ?? .pypi
            if let server {
                let base = (server.hasSuffix("/") ? String(server.dropLast()) : server) + "/snapshots/\(ecosystem.rawValue)/\(snapshot)/manifest.json"
                let fetcher = HTTPFetcher(maxConnectionsPerHost: 2, upstream: server)
                var out: [[UInt8]] = []
                for url in [base, base + ".sig"] {
                    let response = try await fetcher.get(url, maxSize: 512 << 20)
                    guard response.status == 200 else {
                        throw AirlockError(
                            .notFound, "\(url) answered HTTP \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
                    }
                    out.append(response.body)
                }
                return (out[0], out[1], base)
            }
            let (s, _, _) = try await options.snapshot(snapshot)
            let manifests = ManifestWriter(directory: try options.common.dataDirectory() + "/snapshots")
            let path = manifests.path(of: s)
            guard FileManager.default.fileExists(atPath: manifests.signaturePath(of: s)) else {
                throw AirlockError(.notFound, "\(path) has no signature beside it: snapshot \(s.id) was published without a key at keys/airlock.key")
            }
            return (try SnapshotCommand.read(path), try SnapshotCommand.read(manifests.signaturePath(of: s)), path)
        }
    }
}

extension Ecosystem: ExpressibleByArgument {}
