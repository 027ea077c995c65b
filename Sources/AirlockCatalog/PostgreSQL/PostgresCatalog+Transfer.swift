public import AirlockCore
import Foundation
import PostgresNIO

extension PostgresCatalog: TransferCatalog {
    public func transferRows(_ ecosystem: Ecosystem, snapshots ids: [Int64]) async throws -> TransferRows {
        try await read { s in
            let e = ecosystem.rawValue
            var rows = TransferRows(ecosystem: ecosystem)
            for id in Set(ids).sorted() {
                guard let snapshot = try await Self.snapshot(s, ecosystem, .id(id)) else {
                    throw AirlockError(.notFound, "there is no \(e) snapshot \(id) to export (never published, or expired)")
                }
                let files = try await s.query(
                    """
                    SELECT p.name, r.version, d.filename, d.sha256, m.yank_reason
                    FROM \(Relation.files) JOIN membership m ON m.distribution_id = d.id
                    WHERE p.ecosystem = $1 AND \(Relation.serves("$2"))
                      AND \(Relation.notRevoked)
                    ORDER BY p.name, d.filename
                    """, [e, id]
                ).map {
                    TransferredFile(
                        project: try $0.get("name"), version: try $0.get("version"), filename: try $0.get("filename"), sha256: try $0.get("sha256"),
                        yankReason: try $0.get("yank_reason"))
                }
                rows.snapshots.append(TransferredSnapshot(snapshot: snapshot, files: files))
            }
            guard let first = rows.snapshots.first?.snapshot.id, let last = rows.snapshots.last?.snapshot.id else { return rows }
            let releases = """
                SELECT release_id FROM candidate WHERE ecosystem = $1
                UNION SELECT d.release_id FROM \(Relation.files) JOIN membership m ON m.distribution_id = d.id
                      WHERE p.ecosystem = $1 AND m.added_in <= $3 AND (m.removed_in IS NULL OR m.removed_in > $2)
                """
            let args: [any PostgresArgument] = [e, first, last]
            rows.projects = try await Self.transferRows(
                s, "SELECT * FROM project WHERE id IN (SELECT project_id FROM release WHERE id IN (\(releases)))", args, dropping: ["id"])
            rows.releases = try await Self.transferRows(
                s, "SELECT p.name AS project, r.* FROM \(Relation.releases) WHERE r.id IN (\(releases))", args, dropping: ["id", "project_id"])
            rows.distributions = try await Self.transferRows(
                s, "SELECT p.name AS project, r.version AS version, d.* FROM \(Relation.files) WHERE r.id IN (\(releases))", args,
                dropping: ["id", "release_id"])
            rows.provenance = try await Self.transferRows(
                s, "SELECT * FROM file_provenance WHERE sha256 IN (SELECT d.sha256 FROM \(Relation.files) WHERE r.id IN (\(releases)))", args,
                dropping: [])
            rows.decisions = try await Self.transferRows(
                s,
                "SELECT p.name AS project, r.version AS version, c.* FROM decision c JOIN release r ON r.id = c.release_id JOIN project p ON p.id = r.project_id WHERE r.id IN (\(releases))",
                args, dropping: ["release_id", "seq"])
            rows.candidates = try await s.query(
                "SELECT p.name, r.version FROM candidate c JOIN release r ON r.id = c.release_id JOIN project p ON p.id = r.project_id WHERE c.ecosystem = $1",
                [e]
            ).map { [try $0.get("name", as: String.self), try $0.get("version", as: String.self)] }
            rows.state = try await Self.transferRows(
                s, "SELECT policy_digest, targets, extras FROM ecosystem_state WHERE ecosystem = $1", [e], dropping: []
            ).first
            rows.policies = try await Self.transferRows(
                s,
                """
                SELECT * FROM policy WHERE id IN (SELECT max(id) FROM policy WHERE ecosystem = $1 AND (digest IN (SELECT policy_digest FROM snapshot WHERE id BETWEEN $2 AND $3)
                    OR digest IN (SELECT policy_digest FROM ecosystem_state WHERE ecosystem = $1)) GROUP BY digest) ORDER BY id
                """, args, dropping: ["id"])
            rows.overrides = try await Self.transferRows(s, "SELECT * FROM override WHERE ecosystem = $1 ORDER BY id", [e], dropping: [])
            rows.revocations = try await Self.transferRows(s, "SELECT * FROM revocation WHERE ecosystem = $1 ORDER BY id", [e], dropping: ["id"])
            rows.held = try await Self.transferRows(s, "SELECT * FROM held WHERE ecosystem = $1", [e], dropping: [])
            rows.upstreamProjects = try await Self.transferRows(
                s, "SELECT * FROM upstream_project WHERE ecosystem = $1", [e], dropping: ["ecosystem"])
            rows.binaries = try await Self.transferRows(
                s,
                "SELECT b.* FROM r_binary b JOIN project p ON p.ecosystem = $1 AND p.name = b.package JOIN release r ON r.project_id = p.id AND r.version = b.version WHERE r.id IN (\(releases))",
                args, dropping: [])
            return rows
        }
    }

    public func revocationRows() async throws -> [TransferRow] {
        try await read { s in try await Self.transferRows(s, "SELECT * FROM revocation ORDER BY id", [], dropping: ["id"]) }
    }

    public func bundles(_ direction: BundleRecord.Direction) async throws -> [BundleRecord] {
        try await read { s in
            try await s.query("SELECT * FROM bundle WHERE direction = $1 ORDER BY sequence DESC", [direction.rawValue]).map { row in
                let sequence: Int64 = try row.get("sequence")
                return BundleRecord(
                    direction: direction, sequence: sequence, kind: try row.get("kind"), sha256: try row.get("sha256"), signer: try row.get("signer"),
                    snapshots: try decodeJSON([Int64].self, try row.get("snapshots", as: String.self), table: "bundle", key: sequence) ?? [],
                    at: try parseTime(try row.get("at", as: String.self), table: "bundle", key: sequence))
            }
        }
    }

    public func recordExport(_ record: BundleRecord, actor: String) async throws {
        try await write { s in
            try await Self.recordBundle(s, record)
            try await Self.appendAudit(
                s, actor: actor, action: "bundle.exported", object: "bundle/\(record.sequence)",
                details: [
                    "kind": record.kind, "sha256": record.sha256, "signer": record.signer,
                    "snapshots": record.snapshots.map(String.init).joined(separator: ","),
                ],
                at: record.at)
        }
    }

    public func importRevocations(_ rows: [TransferRow], record: BundleRecord, origin: String, actor: String) async throws -> Int {
        try await write { s in
            try await Self.becomeReplica(s, of: origin, at: record.at)
            var writer = PostgresRowWriter(s)
            let added = try await Self.insertRevocations(rows, writer: &writer)
            try await Self.recordImport(s, record, actor: actor, details: ["revocations": String(added)])
            return added
        }
    }

    public func replicaOrigin() async throws -> ReplicaOrigin? {
        try await read { s in try await Self.replicaOrigin(s) }
    }

    public func importedManifestDigest(snapshot: Int64) async throws -> String? {
        try await read { s in try await s.value(String.self, "SELECT manifest_sha256 FROM imported_snapshot WHERE id = $1", [snapshot]) }
    }

    // MARK: - Within the publishing transaction

    static func applyImport(_ s: PostgresSession, _ bundle: PublishRequest.ImportedBundle, at: Date) async throws {
        let rows = bundle.rows
        let e = rows.ecosystem.rawValue
        try await becomeReplica(s, of: bundle.origin, at: at)
        var writer = PostgresRowWriter(s)
        for row in rows.projects { try await writer.upsert("project", row, fixed: ["ecosystem": e], conflict: ["ecosystem", "name"]) }
        for row in rows.releases { try await writer.upsert("release", row, parent: .project(ecosystem: e), conflict: ["project_id", "version"]) }
        for row in rows.distributions {
            try await writer.upsert("distribution", row, parent: .release(ecosystem: e), conflict: ["release_id", "filename", "sha256"])
        }
        for row in rows.decisions {
            try await writer.upsert("decision", row, parent: .release(ecosystem: e), conflict: ["release_id", "policy_digest"])
        }
        for row in rows.provenance ?? [] { try await writer.upsert("file_provenance", row, conflict: ["sha256"]) }
        for row in rows.upstreamProjects ?? [] {
            try await writer.upsert("upstream_project", row, fixed: ["ecosystem": e], conflict: ["ecosystem", "name"])
        }
        for row in rows.binaries ?? [] { try await writer.upsert("r_binary", row, conflict: ["package", "version", "distro", "r_minor"]) }
        for row in rows.policies {
            guard case .text(let digest)? = row["digest"] else { throw AirlockError(.malformedIndex, "a bundle's policy row has no digest") }
            let known =
                try await s.value(Bool.self, "SELECT EXISTS (SELECT 1 FROM policy WHERE ecosystem = $1 AND digest = $2)", [e, digest]) ?? false
            if !known { try await writer.upsert("policy", row, fixed: ["ecosystem": e], conflict: nil) }
        }
        try await s.execute("DELETE FROM override WHERE ecosystem = $1", [e])
        for row in rows.overrides { try await writer.upsert("override", row, fixed: ["ecosystem": e], conflict: nil) }
        try await s.execute("DELETE FROM held WHERE ecosystem = $1", [e])
        for row in rows.held { try await writer.upsert("held", row, fixed: ["ecosystem": e], conflict: nil) }
        _ = try await insertRevocations(rows.revocations.map { $0.merging(["ecosystem": .text(e)]) { _, new in new } }, writer: &writer)
        if let state = rows.state {
            try await s.execute("DELETE FROM ecosystem_state WHERE ecosystem = $1", [e])
            try await writer.upsert("ecosystem_state", state, fixed: ["ecosystem": e, "synced_at": Timestamp.format(at)], conflict: nil)
        }
        try await s.execute("DELETE FROM candidate WHERE ecosystem = $1", [e])
        for key in rows.candidates where key.count == 2 {
            try await s.execute(
                """
                INSERT INTO candidate (ecosystem, release_id)
                SELECT $1, r.id FROM \(Relation.releases) WHERE p.ecosystem = $1 AND p.name = $2 AND r.version = $3 ON CONFLICT DO NOTHING
                """, [e, key[0], key[1]])
        }
        // Overrides keep the connected side's ids: later ids continue after them.
        try await s.resyncIdentity("override")
    }

    static func imposed(_ s: PostgresSession, _ ecosystem: Ecosystem, _ transferred: TransferredSnapshot) async throws -> PublishState.Imposed {
        var imposed = PublishState.Imposed()
        for f in transferred.files {
            guard
                let row = try await s.query(
                    """
                    SELECT d.id, d.release_id FROM \(Relation.files)
                    WHERE p.ecosystem = $1 AND p.name = $2 AND r.version = $3 AND d.filename = $4 AND d.sha256 = $5
                    """, [ecosystem.rawValue, f.project, f.version, f.filename, f.sha256]
                ).first
            else {
                throw AirlockError(
                    .malformedIndex,
                    "snapshot \(transferred.snapshot.id) serves \(f.filename) (\(f.project) \(f.version)), which the bundle's catalog rows do not hold"
                )
            }
            let key = ReleaseKey(f.project, f.version)
            imposed.files.append(.init(id: try row.get("id"), release: key, yankReason: f.yankReason))
            if imposed.decisions[key] == nil,
                let d = try await s.fetchOne(
                    DecisionRow.self, "SELECT * FROM decision WHERE release_id = $1 AND policy_digest = $2",
                    [try row.get("release_id", as: Int64.self), transferred.snapshot.policyDigest])
            {
                imposed.decisions[key] = try d.decision()
            }
        }
        return imposed
    }

    static func recordImport(_ s: PostgresSession, _ record: BundleRecord, actor: String, details: [String: String]) async throws {
        try await recordBundle(s, record)
        try await appendAudit(
            s, actor: actor, action: "bundle.imported", object: "bundle/\(record.sequence)",
            details: details.merging(["kind": record.kind, "sha256": record.sha256, "signer": record.signer]) { a, _ in a }, at: record.at)
    }

    private static func becomeReplica(_ s: PostgresSession, of origin: String, at: Date) async throws {
        if try await replicaOrigin(s) != nil { return }
        if try await s.value(Bool.self, "SELECT EXISTS (SELECT 1 FROM snapshot)") ?? false {
            throw AirlockError(
                .forbidden,
                "this data directory publishes its own snapshots from an upstream; import bundles only into a new data directory, which becomes a replica"
            )
        }
        try await s.execute("INSERT INTO replica (id, origin, since) VALUES (1, $1, $2)", [origin, Timestamp.format(at)])
    }

    static func replicaOrigin(_ s: PostgresSession) async throws -> ReplicaOrigin? {
        guard let row = try await s.query("SELECT origin, since FROM replica WHERE id = 1").first else { return nil }
        return ReplicaOrigin(origin: try row.get("origin"), since: try parseTime(try row.get("since", as: String.self), table: "replica", key: 1))
    }

    private static func recordBundle(_ s: PostgresSession, _ record: BundleRecord) async throws {
        try await s.execute(
            "INSERT INTO bundle (direction, sequence, kind, sha256, signer, snapshots, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                record.direction.rawValue, record.sequence, record.kind, record.sha256, record.signer, try encodeJSON(record.snapshots),
                Timestamp.format(record.at),
            ])
    }

    private static func insertRevocations(_ rows: [TransferRow], writer: inout PostgresRowWriter) async throws -> Int {
        var added = 0
        for row in rows { added += try await writer.upsert("revocation", row, conflict: nil, orIgnore: true) }
        return added
    }

    /// Rows by column name, each value as a bundle carries it.
    static func transferRows(_ s: PostgresSession, _ sql: String, _ arguments: [any PostgresArgument], dropping: Set<String>) async throws
        -> [TransferRow]
    {
        try await s.query(sql, arguments).map { row in
            var out: TransferRow = [:]
            for cell in row where !dropping.contains(cell.columnName) { out[cell.columnName] = try Cell(cell) }
            return out
        }
    }
}

extension Cell {
    /// A PostgreSQL value as a bundle (or a migration) carries it: integers, reals and text.
    init(_ cell: PostgresCell) throws {
        guard cell.bytes != nil else {
            self = .null
            return
        }
        switch cell.dataType {
        case .int2, .int4, .int8: self = .integer(try cell.decode(Int64.self))
        case .float4, .float8: self = .real(try cell.decode(Double.self))
        case .bool: self = .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .text, .varchar, .name: self = .text(try cell.decode(String.self))
        default: throw AirlockError(.catalog, "column \(cell.columnName) holds a \(cell.dataType) value, which a bundle does not carry")
        }
    }
}

extension PostgresSession {
    /// Moves a table's identity sequence past its largest value (after rows were written with their own ids).
    func resyncIdentity(_ table: String, column: String = "id") async throws {
        try await execute(
            "SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), coalesce((SELECT max(\(column)) FROM \(table)), 0) + 1, false)")
    }
}

/// Writes transferred rows into this catalog's tables by column name (see the SQLite `RowWriter`).
struct PostgresRowWriter {
    enum Parent {
        case none
        case project(ecosystem: String)
        case release(ecosystem: String)
    }

    let session: PostgresSession
    private var columns: [String: Set<String>] = [:]

    init(_ session: PostgresSession) { self.session = session }

    /// Inserts (or on a conflict on `conflict`, updates in place) one row; returns how many rows it added or changed.
    @discardableResult
    mutating func upsert(
        _ table: String, _ row: TransferRow, fixed: [String: String] = [:], parent: Parent = .none, conflict: [String]?, orIgnore: Bool = false
    ) async throws -> Int {
        let known = try await tableColumns(table)
        var naturalKeys: Set<String> = []
        var names: [String] = []
        var values: [String] = []
        var arguments: [any PostgresArgument] = []
        func add(_ column: String, _ placeholder: (Int) -> String, _ argument: [any PostgresArgument]) {
            names.append("\"\(column)\"")
            values.append(placeholder(arguments.count + 1))
            arguments += argument
        }
        switch parent {
        case .none: break
        case .project(let e):
            naturalKeys = ["project"]
            add("project_id", { "(SELECT id FROM project WHERE ecosystem = $\($0) AND name = $\($0 + 1))" }, [e, row["project"]?.text])
        case .release(let e):
            naturalKeys = ["project", "version"]
            add(
                "release_id",
                { "(SELECT r.id FROM \(Relation.releases) WHERE p.ecosystem = $\($0) AND p.name = $\($0 + 1) AND r.version = $\($0 + 2))" },
                [e, row["project"]?.text, row["version"]?.text])
        }
        for (column, cell) in row.sorted(by: { $0.key < $1.key }) where fixed[column] == nil && !naturalKeys.contains(column) {
            guard known.contains(column) else {
                throw AirlockError(.malformedIndex, "the bundle's \(table) rows have a column '\(column)' the catalog does not know")
            }
            add(column, { "$\($0)" }, [cell.argument])
        }
        for (column, value) in fixed.sorted(by: { $0.key < $1.key }) { add(column, { "$\($0)" }, [value]) }
        var sql = "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))"
        if let conflict {
            let updates = names.filter { !conflict.contains($0.trimmingCharacters(in: ["\""])) }.map { "\($0) = excluded.\($0)" }
            sql +=
                " ON CONFLICT (\(conflict.joined(separator: ", "))) DO "
                + (updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", "))
        } else if orIgnore {
            sql += " ON CONFLICT DO NOTHING"
        }
        return try await session.execute(sql + " RETURNING 1", arguments)
    }

    private mutating func tableColumns(_ table: String) async throws -> Set<String> {
        if let known = columns[table] { return known }
        let known = Set(
            try await session.column(
                String.self, "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
                [table]))
        columns[table] = known
        return known
    }
}

extension Cell {
    var text: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    /// The value bound as a statement parameter. Integer cells bind as bigint, which PostgreSQL
    /// also casts implicitly where a column is double precision.
    var argument: any PostgresArgument {
        switch self {
        case .null: Optional<String>.none
        case .integer(let i): i
        case .real(let d): d
        case .text(let s): s
        }
    }
}
