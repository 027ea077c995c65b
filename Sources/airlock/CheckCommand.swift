import AirlockCatalog
import AirlockCore
import AirlockLockfile
import AirlockPublish
import ArgumentParser
import Foundation

/// `airlock check`: will these lockfiles install from a snapshot? Asked by CI before it installs.
struct CheckCommand: AsyncParsableCommand {
    enum Format: String, ExpressibleByArgument { case text, markdown }

    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Answer, for each pin of requirements.txt, pylock.toml, uv.lock, poetry.lock or renv.lock, whether a snapshot serves it.",
        discussion: """
            Each pin is served (and its hash matches), held for review (with what holds it), denied (with the \\
            decision's rules), revoked (with the reason), served only by other snapshots, or never mirrored. Exits \\
            0 only when every pin is served.
            """)
    @OptionGroup var common: CommonOptions
    @Option(help: "The snapshot: latest, a date YYYY-MM-DD or an id.") var snapshot = "latest"
    @Option(help: "text, or markdown (a summary line and a table for a pull-request comment).") var format: Format = .text
    @Flag(help: "Print the answers as JSON.") var json = false
    @Argument(help: "Lockfiles.") var files: [String]

    func run() async throws {
        var reports: [LockfileCheck.Report] = []
        try await reportingErrors {
            guard let selector = SnapshotSelector(snapshot) else {
                throw AirlockError(.invalidArgument, "'\(snapshot)' names no snapshot: use latest, a date YYYY-MM-DD or an id")
            }
            let pins = try files.flatMap(Lockfile.read)
            let check = LockfileCheck(catalog: try await common.open().catalog)
            for ecosystem in Ecosystem.allCases where pins.contains(where: { $0.ecosystem == ecosystem }) {
                reports.append(try await check.check(pins, ecosystem: ecosystem, snapshot: selector))
            }
            if json { return try printJSON(reports) }
            for report in reports { format == .markdown ? Self.printMarkdown(report) : Self.printText(report) }
        }
        if !reports.allSatisfy(\.allServed) { throw ExitCode(1) }
    }

    static func printText(_ report: LockfileCheck.Report) {
        print(report.summary)
        for a in report.answers where a.status != .served {
            print("  \(a.project)==\(a.version): \(a.status.rawValue.replacingOccurrences(of: "_", with: " ")): \(a.detail) (\(a.source))")
        }
    }

    static func printMarkdown(_ report: LockfileCheck.Report) {
        print("**\(report.summary)**\n")
        print("| package | version | status | why |\n| --- | --- | --- | --- |")
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        for a in report.answers.sorted(by: { ($0.status == .served ? 1 : 0, $0.project) < ($1.status == .served ? 1 : 0, $1.project) }) {
            print("| \(cell(a.project)) | \(cell(a.version)) | \(a.status == .served ? "served" : "**\(a.status.rawValue)**") | \(cell(a.status == .served ? "" : a.detail)) |")
        }
    }
}
