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
    /// The snapshot `text` names, with the files it serves.
    func snapshot(_ text: String) async throws -> (Snapshot, [Distribution]) {
        let (catalog, _) = try await common.open()
        guard let selector = SnapshotSelector(text) else {
            throw AirlockError(.invalidArgument, "'\(text)' names no snapshot: use latest, a date YYYY-MM-DD or an id")
        }
        guard let s = try await catalog.snapshot(ecosystem, selector) else {
            throw AirlockError(.notFound, "no \(ecosystem.rawValue) snapshot matches '\(text)' in \((try? common.dataDirectory()) ?? "")")
        }
        return (s, try await catalog.servedFiles(in: s))
    }
}

extension SnapshotCommand {
    struct List: AsyncParsableCommand {
        @OptionGroup var options: Options

        func run() async throws {
            try await reportingErrors {
                let (catalog, _) = try await options.common.open()
                let all = try await catalog.snapshots(options.ecosystem)
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
                let (s, files) = try await options.snapshot(snapshot)
                if options.json {
                    struct Shown: Encodable {
                        let snapshot: Snapshot
                        let files: [Distribution]
                    }
                    return try printJSON(Shown(snapshot: s, files: files))
                }
                print("\(options.ecosystem.rawValue) snapshot \(s.id), published \(Timestamp.format(s.publishedAt)), policy \(s.policyDigest)")
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
                let (a, af) = try await options.snapshot(from)
                let (b, bf) = try await options.snapshot(to)
                let diff = SnapshotDiff(from: a, fromFiles: af, to: b, toFiles: bf)
                if options.json { return try printJSON(diff) }
                print("\(options.ecosystem.rawValue) snapshot \(a.id) → \(b.id)")
                for c in diff.added { print("+ \(c.project) \(c.version)") }
                for c in diff.removed { print("- \(c.project) \(c.version)") }
                for c in diff.changed { print("~ \(c.project) \(c.version): \(c.files.joined(separator: ", "))") }
                if diff.added.isEmpty && diff.removed.isEmpty && diff.changed.isEmpty { print("  (no changes)") }
            }
        }
    }
}

extension Ecosystem: ExpressibleByArgument {}
