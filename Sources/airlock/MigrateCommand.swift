import AirlockCatalog
import AirlockCore
import ArgumentParser
import Foundation

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a SQLite catalog into an empty PostgreSQL catalog.",
        discussion: """
            Copies every table (projects, releases, files, snapshots by id and date, decisions, overrides, revocations,
            tokens, the audit log, feeds, bundles) in one transaction: all or nothing, and a non-empty target is
            refused. The source is read from a consistent copy taken first, so the installation may keep running;
            stop it before switching over, or acts after the copy are not carried. Then point every command at the
            new catalog (catalog = "postgresql://…" in airlock.toml, or --catalog); --data still names the blob store.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "The SQLite catalog to copy: sqlite:PATH (default: the data directory's).")
    var from: String?

    @Option(help: "The PostgreSQL catalog to fill: postgresql://USER@HOST:PORT/DATABASE[?sslmode=…&passwordfile=…].")
    var to: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        try await reportingErrors {
            let source = try from.map(CatalogLocation.init) ?? common.directory().catalog
            guard case .sqlite(let path) = source else {
                throw AirlockError(.invalidArgument, "--from must name a SQLite catalog (sqlite:PATH), not \(source)")
            }
            guard case .postgresql(let url) = try CatalogLocation(to) else {
                throw AirlockError(.invalidArgument, "--to must name a PostgreSQL catalog (postgresql://…)")
            }
            let interactive = isatty(STDERR_FILENO) != 0
            let report = try await CatalogMigration.copy(fromSQLite: path, to: url) { table, rows in
                if interactive { FileHandle.standardError.write(Data("  \(table): \(rows) row(s)\n".utf8)) }
            }
            if json { return try printJSON(report) }
            print(
                "migrated sqlite:\(path) to \(url.redacted): \(report.rows.reduce(0) { $0 + $1.rows }) rows in \(report.rows.count) tables, \(report.snapshots) snapshot(s)"
            )
            print(
                report.audit.intact
                    ? "audit log intact: \(report.audit.events) events"
                    : "audit log NOT intact on the target:\n" + report.audit.problems.joined(separator: "\n"))
            if !report.audit.intact { throw ExitCode(1) }
        }
    }
}
