import AirlockCatalog
import AirlockCore
import AirlockLockfile
import AirlockPublish
import AirlockUpstream
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
    @Option(help: "An airlock endpoint (https://host:port) to ask (POST /api/v1/check) instead of --data.") var server: String?
    @Option(help: "With --server: a file holding a reader token (else $AIRLOCK_TOKEN, if set).") var tokenFile: String?
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
            let lockfiles = try files.map { ($0, try SnapshotCommand.read($0)) }
            if let server {
                reports = try await ask(server, lockfiles)
            } else {
                reports = try await LockfileCheck(catalog: try await common.open().catalog).check(lockfiles, snapshot: selector)
            }
            if json { return try printJSON(reports) }
            for report in reports { format == .markdown ? Self.printMarkdown(report) : Self.printText(report) }
        }
        if !reports.allSatisfy(\.allServed) { throw ExitCode(1) }
    }

    /// The same check by a running endpoint: the lockfiles posted, the reports it answers.
    private func ask(_ server: String, _ lockfiles: [(String, [UInt8])]) async throws -> [LockfileCheck.Report] {
        struct Body: Encodable {
            struct File: Encodable {
                let name: String
                let content: String
            }
            let snapshot: String
            let files: [File]
        }
        let body = try JSONEncoder().encode(
            Body(snapshot: snapshot, files: lockfiles.map { .init(name: $0.0, content: String(decoding: $0.1, as: UTF8.self)) }))
        let url = (server.hasSuffix("/") ? String(server.dropLast()) : server) + "/api/v1/check"
        var headers = ["Content-Type": "application/json", "Accept": "application/json"]
        let token =
            try tokenFile.map { String(decoding: try SnapshotCommand.read($0), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
            ?? ProcessInfo.processInfo.environment["AIRLOCK_TOKEN"]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        let response = try await HTTPFetcher(maxConnectionsPerHost: 1).post(url, body: [UInt8](body), headers: headers)
        guard response.status == 200 else {
            throw AirlockError(
                .upstreamStatus, "\(url) answered HTTP \(response.status): \(String(decoding: response.body.prefix(500), as: UTF8.self))")
        }
        let data = Data(response.body)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode([LockfileCheck.Report].self, from: data) } catch {
            throw AirlockError(.malformedIndex, "\(server) answered the check with something else than reports: \(error)")
        }
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
            print(
                "| \(cell(a.project)) | \(cell(a.version)) | \(a.status == .served ? "served" : "**\(a.status.rawValue)**") | \(cell(a.status == .served ? "" : a.detail)) |"
            )
        }
    }
}
