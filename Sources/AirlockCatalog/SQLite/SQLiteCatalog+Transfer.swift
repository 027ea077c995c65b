public import AirlockCore
public import Foundation
import GRDB

extension SQLiteCatalog: TransferCatalog {
    public func transferRows(_ ecosystem: Ecosystem, snapshots ids: [Int64]) async throws -> TransferRows {
        try await read { db in
            let e = ecosystem.rawValue
            var rows = TransferRows(ecosystem: ecosystem)
            for id in Set(ids).sorted() {
                guard let snapshot = try Self.snapshot(db, ecosystem, .id(id)) else {
                    throw AirlockError(.notFound, "there is no \(e) snapshot \(id) to export (never published, or expired)")
                }
                let files = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT p.name, r.version, d.filename, d.sha256, m.yank_reason
                        FROM \(Relation.files) JOIN membership m ON m.distribution_id = d.id
                        WHERE p.ecosystem = ? AND \(Relation.serves("?"))
                          AND \(Relation.notRevoked)
                        ORDER BY p.name, d.filename
                        """, arguments: [e, id, id]
                ).map {
                    TransferredFile(
                        project: $0["name"], version: $0["version"], filename: $0["filename"], sha256: $0["sha256"], yankReason: $0["yank_reason"])
                }
                rows.snapshots.append(TransferredSnapshot(snapshot: snapshot, files: files))
            }
            guard let first = rows.snapshots.first?.snapshot.id, let last = rows.snapshots.last?.snapshot.id else { return rows }
            // The releases the snapshots serve, and the last sync's candidates (the review queue reads them).
            let releases = """
                SELECT release_id FROM candidate WHERE ecosystem = ?1
                UNION SELECT d.release_id FROM \(Relation.files) JOIN membership m ON m.distribution_id = d.id
                      WHERE p.ecosystem = ?1 AND m.added_in <= ?3 AND (m.removed_in IS NULL OR m.removed_in > ?2)
                """
            let args: StatementArguments = [e, first, last]
            rows.projects = try Self.transferRows(
                db, "SELECT * FROM project WHERE id IN (SELECT project_id FROM release WHERE id IN (\(releases)))", args, dropping: ["id"])
            rows.releases = try Self.transferRows(
                db, "SELECT p.name AS project, r.* FROM \(Relation.releases) WHERE r.id IN (\(releases))", args,
                dropping: ["id", "project_id"])
            rows.distributions = try Self.transferRows(
                db,
                "SELECT p.name AS project, r.version AS version, d.* FROM \(Relation.files) WHERE r.id IN (\(releases))",
                args, dropping: ["id", "release_id"])
            rows.provenance = try Self.transferRows(
                db, "SELECT * FROM file_provenance WHERE sha256 IN (SELECT d.sha256 FROM \(Relation.files) WHERE r.id IN (\(releases)))", args,
                dropping: [])
            rows.decisions = try Self.transferRows(
                db,
                "SELECT p.name AS project, r.version AS version, c.* FROM decision c JOIN release r ON r.id = c.release_id JOIN project p ON p.id = r.project_id WHERE r.id IN (\(releases))",
                args, dropping: ["release_id"])
            rows.candidates = try Row.fetchAll(
                db,
                sql:
                    "SELECT p.name, r.version FROM candidate c JOIN release r ON r.id = c.release_id JOIN project p ON p.id = r.project_id WHERE c.ecosystem = ?",
                arguments: [e]
            ).map { [$0["name"], $0["version"]] }
            rows.state = try Self.transferRows(
                db, "SELECT policy_digest, targets, extras FROM ecosystem_state WHERE ecosystem = ?", [e], dropping: []
            ).first
            rows.policies = try Self.transferRows(
                db,
                """
                SELECT * FROM policy WHERE rowid IN (SELECT max(rowid) FROM policy WHERE ecosystem = ?1 AND (digest IN (SELECT policy_digest FROM snapshot WHERE id BETWEEN ?2 AND ?3)
                    OR digest IN (SELECT policy_digest FROM ecosystem_state WHERE ecosystem = ?1)) GROUP BY digest)
                """, args, dropping: [])
            rows.overrides = try Self.transferRows(db, "SELECT * FROM override WHERE ecosystem = ? ORDER BY id", [e], dropping: [])
            rows.revocations = try Self.transferRows(db, "SELECT * FROM revocation WHERE ecosystem = ? ORDER BY id", [e], dropping: ["id"])
            rows.held = try Self.transferRows(db, "SELECT * FROM held WHERE ecosystem = ?", [e], dropping: [])
            rows.upstreamProjects = try Self.transferRows(db, "SELECT * FROM upstream_project WHERE ecosystem = ?", [e], dropping: ["ecosystem"])
            rows.binaries = try Self.transferRows(
                db,
                "SELECT b.* FROM r_binary b JOIN project p ON p.ecosystem = ?1 AND p.name = b.package JOIN release r ON r.project_id = p.id AND r.version = b.version WHERE r.id IN (\(releases))",
                args, dropping: [])
            return rows
        }
    }

    public func revocationRows() async throws -> [TransferRow] {
        try await read { db in try Self.transferRows(db, "SELECT * FROM revocation ORDER BY id", [], dropping: ["id"]) }
    }

    public func bundles(_ direction: BundleRecord.Direction) async throws -> [BundleRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM bundle WHERE direction = ? ORDER BY sequence DESC", arguments: [direction.rawValue]).map { row in
                let sequence: Int64 = row["sequence"]
                return BundleRecord(
                    direction: direction, sequence: sequence, kind: row["kind"], sha256: row["sha256"], signer: row["signer"],
                    snapshots: try decodeJSON([Int64].self, row["snapshots"], table: "bundle", key: sequence) ?? [],
                    at: try parseTime(row["at"], table: "bundle", key: sequence) ?? Date(timeIntervalSince1970: 0))
            }
        }
    }

    public func recordExport(_ record: BundleRecord, actor: String) async throws {
        try await write { db in
            try Self.recordBundle(db, record)
            try Self.appendAudit(
                db, actor: actor, action: "bundle.exported", object: "bundle/\(record.sequence)",
                details: [
                    "kind": record.kind, "sha256": record.sha256, "signer": record.signer,
                    "snapshots": record.snapshots.map(String.init).joined(separator: ","),
                ],
                at: record.at)
        }
    }

    public func importRevocations(_ rows: [TransferRow], record: BundleRecord, origin: String, actor: String) async throws -> Int {
        try await write { db in
            try Self.becomeReplica(db, of: origin, at: record.at)
            var writer = RowWriter(db)
            let added = try Self.insertRevocations(db, rows, writer: &writer)
            try Self.recordImport(db, record, actor: actor, details: ["revocations": String(added)])
            return added
        }
    }

    public func replicaOrigin() async throws -> ReplicaOrigin? {
        try await read { db in try Self.replicaOrigin(db) }
    }

    public func importedManifestDigest(snapshot: Int64) async throws -> String? {
        try await read { db in try String.fetchOne(db, sql: "SELECT manifest_sha256 FROM imported_snapshot WHERE id = ?", arguments: [snapshot]) }
    }

    // MARK: - Within the publishing transaction

    /// Applies a bundle's rows: releases, files and decisions are added or updated by natural key;
    /// overrides, held releases and candidates are replaced by the connected side's; revocations are added.
    static func applyImport(_ db: Database, _ bundle: PublishRequest.ImportedBundle, at: Date) throws {
        let rows = bundle.rows
        let e = rows.ecosystem.rawValue
        try becomeReplica(db, of: bundle.origin, at: at)
        var writer = RowWriter(db)
        for row in rows.projects {
            try writer.upsert("project", row, fixed: ["ecosystem": e], conflict: ["ecosystem", "name"])
        }
        for row in rows.releases {
            try writer.upsert("release", row, parent: .project(ecosystem: e), conflict: ["project_id", "version"])
        }
        for row in rows.distributions {
            try writer.upsert("distribution", row, parent: .release(ecosystem: e), conflict: ["release_id", "filename", "sha256"])
        }
        for row in rows.decisions {
            try writer.upsert("decision", row, parent: .release(ecosystem: e), conflict: ["release_id", "policy_digest"])
        }
        for row in rows.provenance ?? [] { try writer.upsert("file_provenance", row, conflict: ["sha256"]) }
        for row in rows.upstreamProjects ?? [] {
            try writer.upsert("upstream_project", row, fixed: ["ecosystem": e], conflict: ["ecosystem", "name"])
        }
        for row in rows.binaries ?? [] { try writer.upsert("r_binary", row, conflict: ["package", "version", "distro", "r_minor"]) }
        for row in rows.policies {
            let known = try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM policy WHERE ecosystem = ? AND digest = ?)",
                arguments: [e, row["digest"]?.databaseValue ?? .null])
            if known != true { try writer.upsert("policy", row, fixed: ["ecosystem": e], conflict: nil) }
        }
        try db.execute(sql: "DELETE FROM override WHERE ecosystem = ?", arguments: [e])
        for row in rows.overrides { try writer.upsert("override", row, fixed: ["ecosystem": e], conflict: nil) }
        try db.execute(sql: "DELETE FROM held WHERE ecosystem = ?", arguments: [e])
        for row in rows.held { try writer.upsert("held", row, fixed: ["ecosystem": e], conflict: nil) }
        _ = try insertRevocations(db, rows.revocations.map { $0.merging(["ecosystem": .text(e)]) { _, new in new } }, writer: &writer)
        if let state = rows.state {
            try db.execute(sql: "DELETE FROM ecosystem_state WHERE ecosystem = ?", arguments: [e])
            try writer.upsert("ecosystem_state", state, fixed: ["ecosystem": e, "synced_at": Timestamp.format(at)], conflict: nil)
        }
        try db.execute(sql: "DELETE FROM candidate WHERE ecosystem = ?", arguments: [e])
        for key in rows.candidates where key.count == 2 {
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO candidate (ecosystem, release_id)
                    SELECT ?1, r.id FROM \(Relation.releases) WHERE p.ecosystem = ?1 AND p.name = ?2 AND r.version = ?3
                    """, arguments: [e, key[0], key[1]])
        }
    }

    /// The connected side's snapshot with this replica's file ids, for the publish rule to impose.
    static func imposed(_ db: Database, _ ecosystem: Ecosystem, _ transferred: TransferredSnapshot) throws -> PublishState.Imposed {
        var imposed = PublishState.Imposed()
        for f in transferred.files {
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT d.id, d.release_id FROM \(Relation.files)
                        WHERE p.ecosystem = ? AND p.name = ? AND r.version = ? AND d.filename = ? AND d.sha256 = ?
                        """, arguments: [ecosystem.rawValue, f.project, f.version, f.filename, f.sha256])
            else {
                throw AirlockError(
                    .malformedIndex,
                    "snapshot \(transferred.snapshot.id) serves \(f.filename) (\(f.project) \(f.version)), which the bundle's catalog rows do not hold"
                )
            }
            let key = ReleaseKey(f.project, f.version)
            imposed.files.append(.init(id: row["id"], release: key, yankReason: f.yankReason))
            if imposed.decisions[key] == nil,
                let d = try DecisionRow.fetchOne(
                    db, sql: "SELECT * FROM decision WHERE release_id = ? AND policy_digest = ?",
                    arguments: [row["release_id"], transferred.snapshot.policyDigest])
            {
                imposed.decisions[key] = try d.decision()
            }
        }
        return imposed
    }

    /// Records an imported snapshot: the digest of the manifest the connected side wrote for it.
    static func recordImportedSnapshot(_ db: Database, id: Int64, manifestDigest: String) throws {
        try db.execute(sql: "INSERT INTO imported_snapshot (id, manifest_sha256) VALUES (?, ?)", arguments: [id, manifestDigest])
    }

    static func recordImport(_ db: Database, _ record: BundleRecord, actor: String, details: [String: String]) throws {
        try recordBundle(db, record)
        try appendAudit(
            db, actor: actor, action: "bundle.imported", object: "bundle/\(record.sequence)",
            details: details.merging(["kind": record.kind, "sha256": record.sha256, "signer": record.signer]) { a, _ in a }, at: record.at)
    }

    /// Refuses to import into a data directory that syncs from an upstream; marks a new one as a replica.
    private static func becomeReplica(_ db: Database, of origin: String, at: Date) throws {
        if try replicaOrigin(db) != nil { return }
        if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM snapshot)") ?? false {
            throw AirlockError(
                .forbidden,
                "this data directory publishes its own snapshots from an upstream; import bundles only into a new data directory, which becomes a replica"
            )
        }
        try db.execute(sql: "INSERT INTO replica (id, origin, since) VALUES (1, ?, ?)", arguments: [origin, Timestamp.format(at)])
    }

    static func replicaOrigin(_ db: Database) throws -> ReplicaOrigin? {
        guard let row = try Row.fetchOne(db, sql: "SELECT origin, since FROM replica WHERE id = 1") else { return nil }
        return ReplicaOrigin(origin: row["origin"], since: try parseTime(row["since"], table: "replica", key: 1) ?? Date(timeIntervalSince1970: 0))
    }

    private static func recordBundle(_ db: Database, _ record: BundleRecord) throws {
        try db.execute(
            sql: "INSERT INTO bundle (direction, sequence, kind, sha256, signer, snapshots, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                record.direction.rawValue, record.sequence, record.kind, record.sha256, record.signer, try encodeJSON(record.snapshots),
                Timestamp.format(record.at),
            ])
    }

    /// Adds revocations not yet present; returns how many were new.
    private static func insertRevocations(_ db: Database, _ rows: [TransferRow], writer: inout RowWriter) throws -> Int {
        var added = 0
        for row in rows {
            try writer.upsert("revocation", row, conflict: nil, orIgnore: true)
            added += db.changesCount
        }
        return added
    }

    // MARK: - Rows by column name

    private static func transferRows(_ db: Database, _ sql: String, _ arguments: StatementArguments, dropping: Set<String>) throws -> [TransferRow] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            var out: TransferRow = [:]
            for (column, value) in row where !dropping.contains(column) {
                switch value.storage {
                case .null: out[column] = .null
                case .int64(let i): out[column] = .integer(i)
                case .double(let d): out[column] = .real(d)
                case .string(let s): out[column] = .text(s)
                case .blob: throw AirlockError(.catalog, "column \(column) holds bytes, which a bundle does not carry")
                }
            }
            return out
        }
    }
}

/// Writes transferred rows into this catalog's tables by column name, reading each table's columns once.
private struct RowWriter {
    /// The row a transferred row belongs to, named by natural key (`project`, and `version`) in the row itself.
    enum Parent {
        case none
        /// A release's project: `project_id` from the row's `project`.
        case project(ecosystem: String)
        /// A file's or decision's release: `release_id` from the row's `project` and `version`.
        case release(ecosystem: String)
    }

    let db: Database
    private var columns: [String: Set<String>] = [:]

    init(_ db: Database) { self.db = db }

    /// Inserts a row into `table`, taking only the table's own columns (a column the table lacks is an
    /// error naming it), with `fixed` values and its parent's id; on a conflict on `conflict`, updates
    /// the row in place (its id, and so what refers to it, is kept).
    mutating func upsert(
        _ table: String, _ row: TransferRow, fixed: [String: String] = [:], parent: Parent = .none, conflict: [String]?, orIgnore: Bool = false
    ) throws {
        let known = try tableColumns(table)
        var naturalKeys: Set<String> = []
        var names: [String] = []
        var values: [String] = []
        var arguments = StatementArguments()
        func add(_ column: String, _ placeholder: String, _ argument: StatementArguments) {
            names.append("\"\(column)\"")
            values.append(placeholder)
            arguments += argument
        }
        switch parent {
        case .none: break
        case .project(let e):
            naturalKeys = ["project"]
            add("project_id", "(SELECT id FROM project WHERE ecosystem = ? AND name = ?)", [e, row["project"]?.databaseValue ?? .null])
        case .release(let e):
            naturalKeys = ["project", "version"]
            add(
                "release_id", "(SELECT r.id FROM \(Relation.releases) WHERE p.ecosystem = ? AND p.name = ? AND r.version = ?)",
                [e, row["project"]?.databaseValue ?? .null, row["version"]?.databaseValue ?? .null])
        }
        for (column, cell) in row.sorted(by: { $0.key < $1.key }) where fixed[column] == nil && !naturalKeys.contains(column) {
            guard known.contains(column) else {
                throw AirlockError(.malformedIndex, "the bundle's \(table) rows have a column '\(column)' the catalog does not know")
            }
            add(column, "?", [cell.databaseValue])
        }
        for (column, value) in fixed.sorted(by: { $0.key < $1.key }) { add(column, "?", [value]) }
        var sql = "INSERT \(orIgnore ? "OR IGNORE " : "")INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))"
        if let conflict {
            let updates = names.filter { !conflict.contains($0.trimmingCharacters(in: ["\""])) }.map { "\($0) = excluded.\($0)" }
            sql +=
                " ON CONFLICT (\(conflict.joined(separator: ", "))) DO "
                + (updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", "))
        }
        try db.execute(sql: sql, arguments: arguments)
    }

    private mutating func tableColumns(_ table: String) throws -> Set<String> {
        if let known = columns[table] { return known }
        let known = Set(try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table]))
        columns[table] = known
        return known
    }
}

extension Cell {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let i): i.databaseValue
        case .real(let d): d.databaseValue
        case .text(let s): s.databaseValue
        }
    }
}
