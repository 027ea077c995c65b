import AirlockConfig
import AirlockCore
import AirlockPublish
import ArgumentParser
import Foundation

struct GC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Expire snapshots by the configuration's [retention], then delete the blobs nothing retained needs.",
        discussion: """
            Keeps every snapshot from the last keep_days, then the newest of each week or month (then = "weekly" |
            "monthly" | "none"), the pinned ones, and always the newest of each ecosystem. Blobs of retained
            snapshots and of the last sync's releases are kept. Refuses while a sync runs. Audited.
            Without [retention] it expires nothing and only deletes unreferenced blobs.
            """)

    @OptionGroup var common: CommonOptions

    @Flag(help: "Print what would be expired and freed, and change nothing.")
    var dryRun = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        try await reportingErrors {
            let (catalog, store) = try await common.open()
            let collector = GarbageCollector(catalog: catalog, store: store, dataDirectory: try common.dataDirectory())
            let report = try await collector.run(try common.configuration()?.retention, dryRun: dryRun, actor: "cli:gc")
            if json { return try printJSON(report) }
            let verb = dryRun ? "would expire" : "expired"
            print(
                "\(verb) \(report.expired.count) snapshot(s)\(report.expired.isEmpty ? "" : " (\(report.expired.map(String.init).joined(separator: ", ")))"); \(report.retained.count) retained"
            )
            print(
                "\(dryRun ? "would remove" : "removed") \(report.blobsRemoved) blob(s), \(String(format: "%.1f", Double(report.bytesFreed) / 1_048_576)) MiB; \(report.blobsKept) kept"
            )
        }
    }
}
