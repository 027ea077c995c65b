import AirlockCatalog
import AirlockConfig
import AirlockCore
import AirlockStore
import AirlockTransfer
import ArgumentParser
import Foundation

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Signing keys for air-gap bundles.", subcommands: [Generate.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write DIR/airlock.key (Ed25519 private key, mode 0600) and DIR/airlock.pub (for the air-gapped side's --trust).")
        @Option(help: "Directory to write the key pair to.") var out: String

        func run() async throws {
            try await reportingErrors {
                let id = try SigningKeys.generate(into: out)
                print(
                    "key \(id): private \(out)/airlock.key (keep it on the connected side), public \(out)/airlock.pub (copy it to the air-gapped side)"
                )
            }
        }
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a signed bundle for an air-gapped airlock: a snapshot with the blobs it needs, or revocations only.",
        discussion: """
            A full bundle carries one snapshot and every blob it serves. With --since ID it carries every snapshot after ID up
            to --snapshot, and only the blobs snapshot ID does not serve (the air-gapped side must hold ID). A name ending in
            .tar.zst is compressed. --split 4G writes NAME.part1-of-N, … for media with file-size limits.
            --revocations-only writes a small bundle of every revocation: on import it takes effect at once in every snapshot.
            """)

    @OptionGroup var common: CommonOptions
    @Option(help: "The private key file (airlock.key).") var key: String
    @Option(help: "Bundle file to write (.tar or .tar.zst).") var out: String
    @Option(help: "Ecosystem: pypi or cran.") var ecosystem: Ecosystem = .pypi
    @Option(help: "Snapshot to export: an id, a date or latest.") var snapshot: String = "latest"
    @Option(help: "Export incrementally since this snapshot id, which the air-gapped side already holds.") var since: Int64?
    @Option(help: "Split into parts of at most this size (bytes, or with K, M, G).") var split: String?
    @Option(help: "How long the bundle stays acceptable: 14d, 12h, 30m (a replica refuses it afterwards).") var expiresIn: String = "14d"
    @Option(help: "The name this side goes by on the air-gapped side (default: the host name).") var origin: String = ProcessInfo.processInfo.hostName
    @Flag(help: "Export only the revocations.") var revocationsOnly = false
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        try await reportingErrors {
            let (catalog, store) = try await common.open()
            let exporter = BundleExporter(
                catalog: catalog, store: store, dataDirectory: try common.dataDirectory(), signer: try SigningKey(file: key), origin: origin)
            let validFor = try Self.duration(expiresIn)
            let report: BundleExporter.Report
            if revocationsOnly {
                report = try await exporter.exportRevocations(to: out, validFor: validFor)
            } else {
                guard let selector = SnapshotSelector(snapshot) else {
                    throw AirlockError(.invalidArgument, "--snapshot \(snapshot): expected an id, a date YYYY-MM-DD or latest")
                }
                report = try await exporter.exportSnapshots(
                    ecosystem, selector, since: since, to: out, partSize: try split.map(Self.size), validFor: validFor)
            }
            if json { return try printJSON(report) }
            let what =
                report.kind == .revocations
                ? "\(report.revocations) revocation(s)"
                : "snapshot(s) \(report.snapshots.map(String.init).joined(separator: ", "))\(report.base.map { " since \($0)" } ?? ""), \(report.blobs) blob(s), \(String(format: "%.1f", Double(report.blobBytes) / 1_048_576)) MiB"
            print("bundle \(report.sequence) signed by \(report.signer), valid until \(report.expiresAt): \(what)")
            for part in report.parts { print("  \(part)") }
        }
    }

    static func duration(_ text: String) throws -> TimeInterval {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        guard let unit = text.last.flatMap({ units[$0] }), let n = TimeInterval(text.dropLast()), n > 0 else {
            throw AirlockError(.invalidArgument, "--expires-in \(text): expected a number and a unit, such as 14d, 12h or 30m")
        }
        return n * unit
    }

    static func size(_ text: String) throws -> Int64 {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        let upper = text.uppercased()
        let unit = upper.last.flatMap { units[$0] } ?? 1
        let digits = units[upper.last ?? " "] == nil ? upper : String(upper.dropLast())
        guard let n = Int64(digits), n > 0, n <= Int64.max / unit, n * unit >= 1 << 10 else {
            throw AirlockError(.invalidArgument, "--split \(text): expected a size of at least 1K, such as 700M or 4G")
        }
        return n * unit
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a signed bundle and publish what it carries; the data directory becomes (or stays) a replica.",
        discussion: """
            Checks the signature against the trusted keys, that the sequence is newer than the last import (no replay or
            rollback), that the bundle has not expired, that its base is here, and every member's SHA-256 and size, before
            anything becomes visible. A refusal changes nothing and names the member and the check. For a split bundle, give
            its first part (the others are found beside it) or every part.
            """)

    @OptionGroup var common: CommonOptions
    @Option(help: "A trusted public key file (airlock.pub); repeat to trust several (key rotation). Added to the configuration's [transfer] trust.")
    var trust: [String] = []
    @Argument(help: "The bundle file, or its parts.") var bundle: [String]
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        try await reportingErrors {
            let (catalog, store) = try await common.open()
            let importer = BundleImporter(
                catalog: catalog, store: store, dataDirectory: try common.dataDirectory(),
                trusted: try TrustedKeys(files: trust + (try common.configuration()?.trust ?? [])))
            let report = try await importer.run(bundle)
            if json { return try printJSON(report) }
            if report.kind == .revocations {
                print(
                    "bundle \(report.sequence) from \(report.origin) (key \(report.signer)): \(report.revocationsAdded) new revocation(s), in force in every snapshot"
                )
            } else {
                print(
                    "bundle \(report.sequence) from \(report.origin) (key \(report.signer)): published snapshot(s) \(report.snapshots.map(String.init).joined(separator: ", ")); \(report.blobsAdded) blob(s) added, \(String(format: "%.1f", Double(report.bytesAdded) / 1_048_576)) MiB"
                )
            }
        }
    }
}

struct MissesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "misses", abstract: "What clients asked for and could not get, carried from the air-gapped side back to the connected one.",
        subcommands: [ExportMisses.self, ImportMisses.self])

    /// The file format: one JSON document.
    struct File: Codable {
        static let format = "airlock-misses/1"
        var format: String
        var exportedAt: Date
        var misses: [Miss]
    }

    static func coder() -> (JSONEncoder, JSONDecoder) {
        let e = JSONEncoder()
        let d = JSONDecoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        d.dateDecodingStrategy = .iso8601
        return (e, d)
    }

    struct ExportMisses: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Write every recorded miss, with counts and last-seen times, to a file.")
        @OptionGroup var common: CommonOptions
        @Option(help: "File to write.") var out: String

        func run() async throws {
            try await reportingErrors {
                let misses = try await common.open().catalog.misses(nil)
                let bytes = try MissesCommand.coder().0.encode(File(format: File.format, exportedAt: Date(), misses: misses))
                try DurableFile.write([UInt8](bytes), to: out)
                print("wrote \(misses.count) miss(es) to \(out)")
            }
        }
    }

    struct ImportMisses: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import", abstract: "Add misses exported on the air-gapped side to the review queue as demand (counts add up).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "A file written by airlock misses export.") var file: String

        func run() async throws {
            try await reportingErrors {
                guard let data = FileManager.default.contents(atPath: file) else { throw AirlockError(.notFound, "cannot read \(file)") }
                let parsed: File
                do {
                    parsed = try MissesCommand.coder().1.decode(File.self, from: data)
                } catch {
                    throw AirlockError(.invalidArgument, "\(file) is not a misses file written by airlock misses export: \(error)")
                }
                guard parsed.format == File.format else {
                    throw AirlockError(.invalidArgument, "\(file) has format \(parsed.format); expected \(File.format)")
                }
                for (i, miss) in parsed.misses.enumerated() {
                    if let problem = miss.problem {
                        throw AirlockError(.invalidArgument, "\(file): miss \(i + 1) (\(miss.ecosystem.rawValue)): \(problem); nothing was imported")
                    }
                }
                let catalog = try await common.open().catalog
                try await catalog.recordMisses(parsed.misses)
                try await catalog.audit(
                    actor: cliActor, action: "misses.imported", object: file,
                    details: ["count": String(parsed.misses.count), "exported_at": Timestamp.format(parsed.exportedAt)],
                    at: Date())
                print("added \(parsed.misses.count) miss(es) to the review queue's demand")
            }
        }
    }
}
