import AirlockCore
import AirlockSync
import ArgumentParser
import Foundation

struct FeedsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feeds", abstract: "Import the offline feeds the policy reads (download counts, OSV advisories, the Sigstore trusted root).",
        subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        enum Kind: String, ExpressibleByArgument {
            case osv, popularity
            case sigstoreRoot = "sigstore-root"
        }

        static let configuration = CommandConfiguration(
            abstract: "Import a feed file.",
            discussion: """
                osv: an OSV JSON record, a directory of them, or the per-ecosystem zip OSV publishes.
                popularity: JSON rows {"project", "download_count"} (as published for top PyPI packages) or CSV project,downloads.
                sigstore-root: a Sigstore trusted_root.json (Fulcio CAs, Rekor and CT log keys) that PEP 740 provenance is
                verified against instead of the shipped public-good root (Sources/AirlockProvenance/Resources/SOURCE.md).
                The next sync with --policy decides under the imported feeds.
                """)

        @OptionGroup var options: EcosystemOptions
        @Argument(help: "osv, popularity or sigstore-root.")
        var kind: Kind
        @Argument(help: "The feed file (or directory, or zip).")
        var path: String

        func run() async throws {
            try await reportingErrors {
                let (catalog, _) = try await options.common.open()
                let importer = FeedImporter(catalog: catalog)
                let summary: FeedImporter.Summary
                let what: String
                switch kind {
                case .osv: (summary, what) = (try await importer.importOSV(path, ecosystem: options.ecosystem), "advisories")
                case .popularity: (summary, what) = (try await importer.importPopularity(path, ecosystem: options.ecosystem), "projects")
                case .sigstoreRoot: (summary, what) = (try await importer.importSigstoreRoot(path), "CAs and log keys")
                }
                if options.json { return try printJSON(summary) }
                print("imported \(summary.entries) \(what) from \(summary.source) (sha256 \(summary.sha256))")
            }
        }
    }
}
