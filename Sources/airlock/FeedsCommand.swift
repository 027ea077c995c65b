import AirlockCore
import AirlockSync
import ArgumentParser
import Foundation

struct FeedsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feeds", abstract: "Import the offline feeds the policy reads (download counts, OSV advisories).",
        subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        enum Kind: String, ExpressibleByArgument {
            case osv, popularity
        }

        static let configuration = CommandConfiguration(
            abstract: "Import a feed file.",
            discussion: """
                osv: an OSV JSON record, a directory of them, or the per-ecosystem zip OSV publishes.
                popularity: JSON rows {"project", "download_count"} (as published for top PyPI packages) or CSV project,downloads.
                The next sync with --policy decides under the imported feeds.
                """)

        @OptionGroup var options: EcosystemOptions
        @Argument(help: "osv or popularity.")
        var kind: Kind
        @Argument(help: "The feed file (or directory, or zip).")
        var path: String

        func run() async throws {
            try await reportingErrors {
                let (catalog, _) = try await options.common.open()
                let importer = FeedImporter(catalog: catalog)
                let summary = kind == .osv ? try await importer.importOSV(path, ecosystem: options.ecosystem) : try await importer.importPopularity(path, ecosystem: options.ecosystem)
                if options.json { return try printJSON(summary) }
                print("imported \(summary.entries) \(kind == .osv ? "advisories" : "projects") from \(summary.source) (sha256 \(summary.sha256))")
            }
        }
    }
}
