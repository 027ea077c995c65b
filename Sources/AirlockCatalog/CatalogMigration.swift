public import AirlockCore
import Foundation
import GRDB

/// `airlock migrate`: copies a SQLite catalog, every table, into an empty PostgreSQL catalog, in one
/// transaction (all or nothing: a failed or killed copy leaves the target empty). The source is read
/// from a consistent copy taken first (SQLite's backup), so a running installation may keep writing;
/// acts after that moment are not carried. Ids, dates and the audit chain are copied as they are.
public enum CatalogMigration {
    /// What was copied, and what the target says after.
    public struct Report: Sendable, Codable {
        /// Rows per table, in copy order.
        public var rows: [TableCount]
        /// The audit chain on the target.
        public var audit: AuditVerification
        /// Snapshots on the target: id, ecosystem and publication time, as on the source.
        public var snapshots: Int
    }

    public struct TableCount: Sendable, Codable {
        public let table: String
        public let rows: Int
    }

    /// Tables in an order that inserts every row after the rows it refers to.
    static let tables = [
        "project", "release", "distribution", "snapshot", "membership", "decision", "selection", "response_cache", "popularity", "advisory",
        "feed_import", "policy", "miss", "override", "revocation", "token", "audit", "candidate", "ecosystem_state", "set_aside", "held", "bundle",
        "imported_snapshot", "replica", "content_scan", "file_provenance", "trusted_root", "upstream_project", "download", "r_binary",
    ]

    /// Columns PostgreSQL numbers itself that SQLite keeps as the row's rowid: their order is meaning
    /// (the active policy is the last one, a release's current decision the latest).
    static let rowidColumns = ["policy": "id", "decision": "seq"]

    /// Identity columns to move past the copied ids, so the target's next ids follow them.
    static let identities = [
        ("project", "id"), ("release", "id"), ("distribution", "id"), ("decision", "seq"), ("policy", "id"), ("override", "id"), ("revocation", "id"),
        ("token", "id"), ("set_aside", "id"),
    ]

    /// Copies `source` into `target`; `progress` hears each table as it is copied.
    public static func copy(
        fromSQLite source: String, to target: PostgresURL, progress: @Sendable (String, Int) -> Void = { _, _ in }
    ) async throws -> Report {
        guard FileManager.default.fileExists(atPath: source) else { throw AirlockError(.notFound, "there is no SQLite catalog at \(source)") }
        let snapshotPath = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-migrate-\(UUID().uuidString).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: snapshotPath + suffix) }
        }
        try await consistentCopy(of: source, to: snapshotPath)
        let from = try SQLiteCatalog(path: snapshotPath)  // migrated, if it was written by an older airlock
        let to = try await PostgresCatalog(url: target)
        var counts: [TableCount] = []
        try await to.write { s in
            for table in tables {
                let held = try await s.value(Int64.self, "SELECT count(*) FROM \(table)") ?? 0
                if held > 0 {
                    throw AirlockError(
                        .invalidArgument,
                        "the target catalog \(target.redacted) already holds \(held) row(s) in \(table); migrate only into an empty database")
                }
            }
            for table in tables {
                let copied = try await copyTable(table, from: from, to: s)
                counts.append(TableCount(table: table, rows: copied))
                progress(table, copied)
            }
            for (table, column) in identities { try await s.resyncIdentity(table, column: column) }
        }
        for count in counts {
            let there = try await to.read { s in try await s.value(Int64.self, "SELECT count(*) FROM \(count.table)") ?? 0 }
            guard there == count.rows else {
                throw AirlockError(.catalog, "after the copy, \(count.table) holds \(there) rows on the target, not \(count.rows)")
            }
        }
        let sourceSnapshots = try await from.retainedSnapshots().map { "\($0.id) \($0.ecosystem.rawValue) \(Timestamp.format($0.publishedAt))" }
        let targetSnapshots = try await to.retainedSnapshots().map { "\($0.id) \($0.ecosystem.rawValue) \(Timestamp.format($0.publishedAt))" }
        guard sourceSnapshots == targetSnapshots else {
            throw AirlockError(.catalog, "the target's snapshots differ from the source's after the copy")
        }
        return Report(rows: counts, audit: try await to.verifyAudit(anchors: []), snapshots: targetSnapshots.count)
    }

    /// SQLite's online backup: a consistent copy even while other processes write.
    private static func consistentCopy(of source: String, to path: String) async throws {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(30)
            let reader = try DatabasePool(path: source, configuration: configuration)
            let copy = try DatabaseQueue(path: path)
            try await reader.read { db in
                try copy.writeWithoutTransaction { target in try db.backup(to: target) }
            }
        } catch {
            throw AirlockError(.catalog, "cannot read the SQLite catalog at \(source)", underlying: error)
        }
    }

    /// Copies one table in pages of rows, converting each value to the target column's type.
    private static func copyTable(_ table: String, from: SQLiteCatalog, to s: PostgresSession) async throws -> Int {
        let targetTypes = Dictionary(
            try await s.query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
                [table]
            ).map { (try $0.get("column_name", as: String.self), try $0.get("data_type", as: String.self)) }, uniquingKeysWith: { a, _ in a })
        let sourceColumns = try await from.read { db in try db.columns(in: table).map(\.name) }
        var selected = sourceColumns.filter { targetTypes[$0] != nil }
        if let missing = sourceColumns.first(where: { targetTypes[$0] == nil }) {
            throw AirlockError(.catalog, "the target's \(table) has no column \(missing); both catalogs must be at the same migration")
        }
        var expressions = selected.map { "\"\($0)\"" }
        if let rowid = rowidColumns[table] {
            selected.append(rowid)
            expressions.append("rowid AS \(rowid)")
        }
        let columns = selected
        let selectList = expressions.joined(separator: ", ")
        let pageSize = max(1, 30_000 / max(columns.count, 1))
        var after: Int64 = Int64.min
        var copied = 0
        while true {
            let start = after
            let page = try await from.read { db -> [(Int64, [DatabaseValue])] in
                try Row.fetchAll(
                    db, sql: "SELECT rowid AS airlock_rowid, \(selectList) FROM \(table) WHERE rowid > ? ORDER BY rowid LIMIT ?",
                    arguments: [start, pageSize]
                ).map { row in (row["airlock_rowid"], columns.map { row[$0] as DatabaseValue }) }
            }
            guard let last = page.last else { return copied }
            var placeholders: [String] = []
            var arguments: [any PostgresArgument] = []
            for (_, values) in page {
                var row: [String] = []
                for (column, value) in zip(columns, values) {
                    arguments.append(try argument(value, as: targetTypes[column] ?? "text", table: table, column: column))
                    row.append("$\(arguments.count)")
                }
                placeholders.append("(" + row.joined(separator: ", ") + ")")
            }
            try await s.execute(
                "INSERT INTO \(table) (\(columns.map { "\"\($0)\"" }.joined(separator: ", "))) VALUES \(placeholders.joined(separator: ", "))",
                arguments)
            copied += page.count
            after = last.0
        }
    }

    /// A SQLite value as the PostgreSQL column's type; a value that cannot be one is an error naming it.
    private static func argument(_ value: DatabaseValue, as type: String, table: String, column: String) throws -> any PostgresArgument {
        func bad() -> AirlockError { AirlockError(.catalog, "\(table).\(column) holds \(value), which is not a \(type)") }
        switch (value.storage, type) {
        case (.null, _): return Optional<String>.none
        case (.int64(let i), "bigint"): return i
        case (.int64(let i), "double precision"): return Double(i)
        case (.int64(let i), "text"): return String(i)
        case (.double(let d), "double precision"): return d
        case (.double(let d), "bigint"):
            guard let i = Int64(exactly: d) else { throw bad() }
            return i
        case (.double(let d), "text"): return String(d)
        case (.string(let t), "text"): return t
        case (.string(let t), "bigint"):
            guard let i = Int64(t) else { throw bad() }
            return i
        case (.string(let t), "double precision"):
            guard let d = Double(t) else { throw bad() }
            return d
        case (.blob(let data), "bytea"): return [UInt8](data)
        case (.string(let t), "bytea"): return Array(t.utf8)
        default: throw bad()
        }
    }
}
