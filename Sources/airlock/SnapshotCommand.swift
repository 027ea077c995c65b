import AirlockCatalog
import AirlockCore
import ArgumentParser
import Foundation

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "List, show and compare published snapshots.",
        subcommands: [List.self, Show.self, Diff.self])

    typealias Options = EcosystemOptions
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
                if options.json {
                    struct Shown: Encodable {
                        let snapshot: Snapshot
                        let files: [Distribution]
                    }
                    return try printJSON(Shown(snapshot: s, files: files))
                }
                print("\(ecosystem.rawValue) snapshot \(s.id), published \(Timestamp.format(s.publishedAt)), policy \(s.policyDigest)")
                for f in files { print("  \(f.project.normalized) \(f.version)\t\(f.filename)\tsha256:\(f.digest.hex)") }
            }
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Releases added, removed and changed between two snapshots.")
        @OptionGroup var options: Options
        @Argument(help: "The older snapshot.")
        var from: String
        @Argument(help: "The newer snapshot.")
        var to = "latest"

        func run() async throws {
            try await reportingErrors {
                let (a, af, ecosystem) = try await options.snapshot(from)
                let (b, bf, _) = try await options.snapshot(to)
                let diff = SnapshotDiff(from: a, fromFiles: af, to: b, toFiles: bf)
                if options.json { return try printJSON(diff) }
                print("\(ecosystem.rawValue) snapshot \(a.id) → \(b.id)")
                for c in diff.added { print("+ \(c.project) \(c.version)") }
                for c in diff.removed { print("- \(c.project) \(c.version)") }
                for c in diff.changed { print("~ \(c.project) \(c.version): \(c.files.joined(separator: ", "))") }
                if diff.added.isEmpty && diff.removed.isEmpty && diff.changed.isEmpty { print("  (no changes)") }
            }
        }
    }
}

extension Ecosystem: ExpressibleByArgument {}
