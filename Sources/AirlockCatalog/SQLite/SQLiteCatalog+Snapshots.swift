public import AirlockCore
public import Foundation
import GRDB

extension SQLiteCatalog: SnapshotCatalog {
    /// Retained snapshots only: an expired one is found by no selector.
    private static let snapshotColumns =
        "SELECT id, ecosystem, published_at, policy_digest, distribution_count FROM snapshot WHERE expired_at IS NULL AND"

    public func snapshot(_ ecosystem: Ecosystem, _ selector: SnapshotSelector) async throws -> Snapshot? {
        try await read { db in try Self.snapshot(db, ecosystem, selector) }
    }

    static func snapshot(_ db: Database, _ ecosystem: Ecosystem, _ selector: SnapshotSelector) throws -> Snapshot? {
        let row: SnapshotRow?
        switch selector {
        case .latest:
            row = try SnapshotRow.fetchOne(db, sql: "\(snapshotColumns) ecosystem = ? ORDER BY id DESC LIMIT 1", arguments: [ecosystem.rawValue])
        case .id(let id):
            row = try SnapshotRow.fetchOne(db, sql: "\(snapshotColumns) ecosystem = ? AND id = ?", arguments: [ecosystem.rawValue, id])
        case .date:
            // Timestamps are fixed-width RFC 3339 UTC (4-digit years; `endOfDay` stays within them), so text order is time order.
            guard let endOfDay = selector.endOfDay else { return nil }
            row = try SnapshotRow.fetchOne(
                db, sql: "\(snapshotColumns) ecosystem = ? AND published_at <= ? ORDER BY id DESC LIMIT 1",
                arguments: [ecosystem.rawValue, Timestamp.format(endOfDay.addingTimeInterval(-0.001))])
        }
        return try row?.snapshot()
    }

    public func snapshots(_ ecosystem: Ecosystem) async throws -> [Snapshot] {
        try await read { db in
            try SnapshotRow.fetchAll(db, sql: "\(Self.snapshotColumns) ecosystem = ? ORDER BY id", arguments: [ecosystem.rawValue]).map {
                try $0.snapshot()
            }
        }
    }

    public func servedFiles(in snapshot: Snapshot) async throws -> [Distribution] {
        try await read { db in try Self.files(db, in: snapshot) }
    }

    public func servedFile(digest: Digest, filename: String) async throws -> Distribution? {
        try await read { db in
            try DistributionRow.fetchOne(
                db,
                sql: Relation.distributionColumns + """
                     WHERE d.sha256 = ? AND d.filename = ?
                       AND EXISTS (SELECT 1 FROM membership m JOIN snapshot s ON s.ecosystem = p.ecosystem AND \(Relation.serves("s.id"))
                                   WHERE m.distribution_id = d.id AND s.expired_at IS NULL)
                       AND \(Relation.notRevoked)
                     LIMIT 1
                    """,
                arguments: [digest.hex, filename]
            )?.distribution()
        }
    }

    public func upstreamProjects(_ ecosystem: Ecosystem) async throws -> [String: UpstreamProject] {
        try await read { db in
            var out: [String: UpstreamProject] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT name, page_url, status, reason FROM upstream_project WHERE ecosystem = ?", arguments: [ecosystem.rawValue])
            {
                let name: String = row["name"]
                out[name] = UpstreamProject(name: name, pageURL: row["page_url"], status: ProjectStatus(status: row["status"], reason: row["reason"]))
            }
            return out
        }
    }

    public func withdrawalStamp() async throws -> Int64 {
        try await read { db in
            let row = try Row.fetchOne(db, sql: Relation.withdrawalStamp)
            let seen = (row?["quarantine_seen"] as String?).flatMap(Timestamp.parse).map { Int64($0.timeIntervalSince1970 * 1000) } ?? 0
            return (row?["stamp"] as Int64? ?? 0) &+ seen
        }
    }

    public func binaries(distro: String?, package: String?) async throws -> [RBinary] {
        try await read { db in try Self.binaries(db, distro: distro, package: package) }
    }

    static func binaries(_ db: Database, distro: String?, package: String?) throws -> [RBinary] {
        try RBinaryRow.fetchAll(
            db,
            sql:
                "SELECT * FROM r_binary WHERE (?1 IS NULL OR distro = ?1) AND (?2 IS NULL OR package = ?2) ORDER BY package, version, distro, r_minor",
            arguments: [distro, package]
        ).map { try $0.binary() }
    }

    /// A snapshot's files and the R binaries it serves with them.
    static func contents(_ db: Database, of snapshot: Snapshot) throws -> SnapshotContents {
        let files = try files(db, in: snapshot)
        let binaries = snapshot.ecosystem == .cran ? try binaries(db, distro: nil, package: nil) : []
        return SnapshotContents(files: files, binaries: RBinary.served(by: snapshot, files: files, from: binaries))
    }

    /// Whether an R binary was recorded after `snapshot` was published (the next snapshot serves it).
    static func binariesRecorded(_ db: Database, _ ecosystem: Ecosystem, after snapshot: Snapshot) throws -> Bool {
        guard ecosystem == .cran else { return false }
        return try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM r_binary WHERE recorded_at > ?)", arguments: [Timestamp.format(snapshot.publishedAt)]) ?? false
    }

    public func recordBinaries(_ binaries: [RBinary], at: Date) async throws {
        try await write { db in
            for b in binaries {
                try db.execute(
                    sql: RBinaryTable.upsert,
                    arguments: [
                        b.package, b.version, b.distro, b.rMinor, b.platform, b.built, b.digest.hex, b.size, b.recordDigest.hex, b.origin,
                        b.buildLog?.hex, Timestamp.format(at),
                    ])
            }
        }
    }

    public func revocation(ofFile digest: Digest) async throws -> Revocation? {
        try await read { db in
            try RevocationRow.fetchOne(
                db,
                sql: """
                    SELECT v.* FROM revocation v JOIN project p ON p.ecosystem = v.ecosystem AND p.name = v.project
                    JOIN release r ON r.project_id = p.id AND r.version = v.version JOIN distribution d ON d.release_id = r.id
                    WHERE d.sha256 = ? LIMIT 1
                    """, arguments: [digest.hex]
            )?.revocation()
        }
    }

    static func files(_ db: Database, in snapshot: Snapshot) throws -> [Distribution] {
        try DistributionRow.fetchAll(
            db,
            sql: Relation.servedColumns + """
                 JOIN membership m ON m.distribution_id = d.id
                 WHERE p.ecosystem = ? AND \(Relation.serves("?"))
                   AND \(Relation.notRevoked)
                 ORDER BY p.name, d.filename
                """,
            arguments: [snapshot.ecosystem.rawValue, snapshot.id, snapshot.id]
        ).map { try $0.distribution() }
    }
}

extension SQLiteCatalog: PublishCatalog {
    public func publish(
        _ request: PublishRequest, rule: @Sendable (PublishState) throws -> PublishPlan,
        beforeCommit: @Sendable (Snapshot, SnapshotContents, PublishPlan, AuditHead) throws -> Void
    ) async throws -> (snapshot: Snapshot, isNew: Bool) {
        let ecosystem = request.ecosystem
        let at = request.at
        return try await write { db in
            if let imported = request.imported {
                return try Self.publishImported(db, imported, actor: request.actor, at: at, rule: rule, beforeCommit: beforeCommit)
            }
            if let origin = try Self.replicaOrigin(db) {
                throw AirlockError(
                    .forbidden, "this data directory is a replica of \(origin.origin): its snapshots come only from bundles that side exports")
            }
            if let sync = request.sync { try Self.applySync(db, ecosystem, sync, actor: request.actor, at: at) }
            let state = try Self.publishState(db, ecosystem)
            let plan = try rule(state)
            try Self.recordHeld(db, ecosystem, plan)
            try db.execute(
                sql: "UPDATE ecosystem_state SET checked_at = ? WHERE ecosystem = ?", arguments: [Timestamp.format(at), ecosystem.rawValue])
            if let latest = try Self.snapshot(db, ecosystem, .latest), try Self.servesExactly(db, ecosystem, plan),
                try !Self.binariesRecorded(db, ecosystem, after: latest)
            {
                return (latest, false)
            }
            let snapshot = try Self.storeSnapshot(db, ecosystem, id: nil, at: at, policyDigest: state.policyDigest, plan: plan)
            let head = try Self.appendAudit(
                db, actor: request.actor, action: "snapshot.published", object: "\(ecosystem.rawValue)/\(snapshot.id)",
                details: ["files": String(plan.files.count), "policy": state.policyDigest], at: at)
            try beforeCommit(snapshot, try Self.contents(db, of: snapshot), plan, head)
            return (snapshot, true)
        }
    }

    /// Publishes a bundle's snapshots, oldest first, with their original ids and dates, each served
    /// as the connected side served it (minus local revocations), all in the caller's transaction.
    private static func publishImported(
        _ db: Database, _ bundle: PublishRequest.ImportedBundle, actor: String, at: Date, rule: (PublishState) throws -> PublishPlan,
        beforeCommit: (Snapshot, SnapshotContents, PublishPlan, AuditHead) throws -> Void
    ) throws -> (snapshot: Snapshot, isNew: Bool) {
        let ecosystem = bundle.rows.ecosystem
        try applyImport(db, bundle, at: at)
        var last: Snapshot?
        for transferred in bundle.rows.snapshots {
            let id = transferred.snapshot.id
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM snapshot WHERE id = ?)", arguments: [id]) ?? false {
                throw AirlockError(.forbidden, "snapshot \(id) is already here: a bundle never replaces a published snapshot")
            }
            if let newest = try Int64.fetchOne(db, sql: "SELECT max(id) FROM snapshot WHERE ecosystem = ?", arguments: [ecosystem.rawValue]),
                newest > id
            {
                throw AirlockError(
                    .forbidden, "\(ecosystem.rawValue) snapshot \(id) is older than snapshot \(newest), already served here: a rollback")
            }
            guard let manifestDigest = bundle.manifestDigests[id] else {
                throw AirlockError(.malformedIndex, "the bundle carries no manifest for snapshot \(id)")
            }
            var state = try publishState(db, ecosystem)
            state.imposed = try imposed(db, ecosystem, transferred)
            let plan = try rule(state)
            let snapshot = try storeSnapshot(
                db, ecosystem, id: id, at: transferred.snapshot.publishedAt, policyDigest: transferred.snapshot.policyDigest, plan: plan)
            try recordImportedSnapshot(db, id: id, manifestDigest: manifestDigest)
            let head = try appendAudit(
                db, actor: actor, action: "snapshot.imported", object: "\(ecosystem.rawValue)/\(id)",
                details: ["files": String(plan.files.count), "policy": snapshot.policyDigest, "bundle": String(bundle.record.sequence)], at: at)
            try beforeCommit(snapshot, try contents(db, of: snapshot), plan, head)
            last = snapshot
        }
        try recordImport(
            db, bundle.record, actor: actor, details: ["snapshots": bundle.rows.snapshots.map { String($0.snapshot.id) }.joined(separator: ",")])
        guard let last else { throw AirlockError(.malformedIndex, "the bundle carries no snapshot") }
        return (last, true)
    }

    /// Stores a snapshot (with `id`, or the next one) serving the plan's files: membership ranges of
    /// files it no longer serves (or serves with another yank reason) end, new ones begin.
    private static func storeSnapshot(_ db: Database, _ ecosystem: Ecosystem, id wanted: Int64?, at: Date, policyDigest: String, plan: PublishPlan)
        throws -> Snapshot
    {
        try db.execute(
            sql: "INSERT INTO snapshot (id, ecosystem, published_at, policy_digest, distribution_count) VALUES (?, ?, ?, ?, ?)",
            arguments: [wanted, ecosystem.rawValue, Timestamp.format(at), policyDigest, plan.files.count])
        let id = db.lastInsertedRowID
        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS publishing (distribution_id INTEGER PRIMARY KEY, yank_reason TEXT)")
        try db.execute(sql: "DELETE FROM publishing")
        for d in plan.files { try db.execute(sql: "INSERT INTO publishing VALUES (?, ?)", arguments: [d, plan.yanking[d]]) }
        try db.execute(
            sql: """
                UPDATE membership SET removed_in = ?
                WHERE removed_in IS NULL
                  AND distribution_id IN (SELECT d.id FROM \(Relation.files) WHERE p.ecosystem = ?)
                  AND NOT EXISTS (SELECT 1 FROM publishing p WHERE p.distribution_id = membership.distribution_id
                                  AND p.yank_reason IS membership.yank_reason)
                """,
            arguments: [id, ecosystem.rawValue])
        try db.execute(
            sql: """
                INSERT INTO membership (distribution_id, added_in, yank_reason)
                SELECT distribution_id, ?, yank_reason FROM publishing
                WHERE distribution_id NOT IN (SELECT distribution_id FROM membership WHERE removed_in IS NULL)
                """,
            arguments: [id])
        try db.execute(sql: "DROP TABLE publishing")
        return Snapshot(id: id, ecosystem: ecosystem, publishedAt: at, policyDigest: policyDigest, distributionCount: plan.files.count)
    }

    public func lastChecked(_ ecosystem: Ecosystem) async throws -> Date? {
        try await read { db in
            try parseTime(
                try String.fetchOne(db, sql: "SELECT checked_at FROM ecosystem_state WHERE ecosystem = ?", arguments: [ecosystem.rawValue]),
                table: "ecosystem_state", key: ecosystem.rawValue)
        }
    }

    /// Whether the open membership ranges already serve exactly the plan's files with its yank reasons.
    private static func servesExactly(_ db: Database, _ ecosystem: Ecosystem, _ plan: PublishPlan) throws -> Bool {
        var open: [Int64: String?] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT m.distribution_id, m.yank_reason FROM \(Relation.files) JOIN membership m ON m.distribution_id = d.id
                WHERE p.ecosystem = ? AND m.removed_in IS NULL
                """, arguments: [ecosystem.rawValue])
        {
            open[row["distribution_id"]] = row["yank_reason"] as String?
        }
        return open.count == plan.files.count && plan.files.allSatisfy { id in open[id].map { $0 == plan.yanking[id] } ?? false }
    }

    /// Replaces the ecosystem's held releases with the plan's.
    private static func recordHeld(_ db: Database, _ ecosystem: Ecosystem, _ plan: PublishPlan) throws {
        try db.execute(sql: "DELETE FROM held WHERE ecosystem = ?", arguments: [ecosystem.rawValue])
        for (key, why) in plan.held {
            try db.execute(
                sql: "INSERT INTO held (ecosystem, project, version, reason, blocked_by) VALUES (?, ?, ?, ?, ?)",
                arguments: [ecosystem.rawValue, key.project, key.version, why.reason, why.blockedBy])
        }
    }

    /// Makes a sync's outcome the ecosystem's state: its candidates, policy and targets.
    private static func applySync(_ db: Database, _ ecosystem: Ecosystem, _ sync: PublishRequest.SyncOutcome, actor: String, at: Date) throws {
        if let policy = sync.policy {
            let previous = try String.fetchOne(
                db, sql: "SELECT digest FROM policy WHERE ecosystem = ? ORDER BY rowid DESC LIMIT 1", arguments: [ecosystem.rawValue])
            try db.execute(
                sql: "INSERT INTO policy (ecosystem, digest, path, text, activated_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [ecosystem.rawValue, sync.policyDigest, policy.path, policy.text, Timestamp.format(at)])
            if previous != sync.policyDigest {
                try appendAudit(
                    db, actor: actor, action: "policy.changed", object: "\(ecosystem.rawValue)/policy",
                    details: ["digest": sync.policyDigest, "previous": previous ?? "none", "path": policy.path], at: at)
            }
        }
        try db.execute(
            sql: """
                INSERT INTO ecosystem_state (ecosystem, policy_digest, targets, extras, synced_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (ecosystem) DO UPDATE SET policy_digest = excluded.policy_digest, targets = excluded.targets, extras = excluded.extras,
                    synced_at = excluded.synced_at
                """,
            arguments: [ecosystem.rawValue, sync.policyDigest, try encodeJSON(sync.targets), try encodeJSON(sync.extras), Timestamp.format(at)])
        try db.execute(sql: "DELETE FROM set_aside WHERE ecosystem = ?", arguments: [ecosystem.rawValue])
        for s in sync.setAside {
            try db.execute(
                sql:
                    "INSERT INTO set_aside (ecosystem, project, version, filename, \"check\", error, required_by, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [ecosystem.rawValue, s.project, s.version, s.filename, s.check, s.error, s.requiredBy, Timestamp.format(at)])
        }
        try db.execute(sql: "DELETE FROM candidate WHERE ecosystem = ?", arguments: [ecosystem.rawValue])
        for id in Set(sync.candidates) {
            try db.execute(sql: "INSERT INTO candidate (ecosystem, release_id) VALUES (?, ?)", arguments: [ecosystem.rawValue, id])
        }
    }

    /// The candidates of the last sync and the releases of every project an override names, with
    /// their decisions under the active policy, files and dependencies; all overrides; revocations.
    static func publishState(_ db: Database, _ ecosystem: Ecosystem) throws -> PublishState {
        let e = ecosystem.rawValue
        guard
            let stateRow = try Row.fetchOne(db, sql: "SELECT policy_digest, targets, extras FROM ecosystem_state WHERE ecosystem = ?", arguments: [e])
        else {
            throw AirlockError(.notFound, "no \(e) snapshot has been published yet; run a sync first")
        }
        let policyDigest: String = stateRow["policy_digest"]
        let targets = try decodeJSON([String].self, stateRow["targets"], table: "ecosystem_state", key: e) ?? []
        let extras = try decodeJSON([String: [String]].self, stateRow["extras"], table: "ecosystem_state", key: e) ?? [:]
        let publishable = """
            SELECT r.id FROM \(Relation.releases)
            WHERE p.ecosystem = ?1 AND (r.id IN (SELECT release_id FROM candidate WHERE ecosystem = ?1)
                                        OR p.name IN (SELECT project FROM override WHERE ecosystem = ?1))
            """
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT r.id, p.name, r.version, r.requires_dist, EXISTS (SELECT 1 FROM candidate c WHERE c.release_id = r.id) AS is_candidate
                FROM \(Relation.releases) WHERE r.id IN (\(publishable))
                """, arguments: [e])
        var decisions: [Int64: Decision] = [:]
        for d in try DecisionRow.fetchAll(
            db,
            sql: """
                SELECT * FROM decision WHERE policy_digest = ?2 AND release_id IN (\(publishable))
                """, arguments: [e, policyDigest])
        {
            decisions[d.releaseId] = try d.decision()
        }
        var files: [Int64: [Int64]] = [:]
        var artifacts: [Int64: [PublishState.Artifact]] = [:]
        for f in try Row.fetchAll(
            db,
            sql: "SELECT d.id, d.release_id, d.filename, d.requires_python FROM distribution d WHERE d.release_id IN (\(publishable)) ORDER BY d.id",
            arguments: [e])
        {
            files[f["release_id"], default: []].append(f["id"])
            artifacts[f["release_id"], default: []].append(PublishState.Artifact(filename: f["filename"], requiresPython: f["requires_python"]))
        }
        let releases = try rows.map { row -> PublishState.Release in
            let id: Int64 = row["id"]
            return PublishState.Release(
                id: id, key: ReleaseKey(row["name"], row["version"]), isCandidate: row["is_candidate"], decision: decisions[id],
                files: files[id] ?? [],
                requires: try decodeJSON([String].self, row["requires_dist"], table: "release", key: id) ?? [], artifacts: artifacts[id] ?? [])
        }
        let revoked = Set(
            try Row.fetchAll(db, sql: "SELECT project, version FROM revocation WHERE ecosystem = ?", arguments: [e]).map {
                ReleaseKey($0["project"], $0["version"])
            })
        return PublishState(
            ecosystem: ecosystem, policyDigest: policyDigest, targets: targets, extras: extras, releases: releases,
            overrides: try overrides(db, ecosystem, project: nil),
            revoked: revoked)
    }
}

extension SQLiteCatalog: RetentionCatalog {
    public func retainedSnapshots() async throws -> [Snapshot] {
        try await read { db in
            try SnapshotRow.fetchAll(
                db, sql: "SELECT id, ecosystem, published_at, policy_digest, distribution_count FROM snapshot WHERE expired_at IS NULL ORDER BY id"
            )
            .map { try $0.snapshot() }
        }
    }

    public func expire(_ ids: [Int64], actor: String, at: Date) async throws {
        guard !ids.isEmpty else { return }
        try await write { db in
            for id in ids {
                try db.execute(sql: "UPDATE snapshot SET expired_at = ? WHERE id = ? AND expired_at IS NULL", arguments: [Timestamp.format(at), id])
            }
            try Self.appendAudit(
                db, actor: actor, action: "snapshot.expire", object: ids.map(String.init).joined(separator: ","),
                details: ["count": String(ids.count)], at: at)
        }
    }

    public func referencedBlobs(expiring: Set<Int64>) async throws -> Set<String> {
        let skip = expiring.isEmpty ? "" : " AND s.id NOT IN (\(expiring.map(String.init).joined(separator: ",")))"
        return try await read { db in
            let served = try String.fetchAll(
                db,
                sql: """
                    SELECT d.sha256 FROM \(Relation.files) JOIN membership m ON m.distribution_id = d.id
                      JOIN snapshot s ON s.ecosystem = p.ecosystem AND \(Relation.serves("s.id"))
                     WHERE s.expired_at IS NULL\(skip)
                    UNION
                    SELECT d.metadata_sha256 FROM \(Relation.files) JOIN membership m ON m.distribution_id = d.id
                      JOIN snapshot s ON s.ecosystem = p.ecosystem AND \(Relation.serves("s.id"))
                     WHERE s.expired_at IS NULL AND d.metadata_sha256 IS NOT NULL\(skip)
                    UNION
                    SELECT d.sha256 FROM distribution d JOIN candidate c ON c.release_id = d.release_id
                    UNION
                    SELECT d.metadata_sha256 FROM distribution d JOIN candidate c ON c.release_id = d.release_id WHERE d.metadata_sha256 IS NOT NULL
                    UNION
                    SELECT sha256 FROM r_binary
                    UNION
                    SELECT record_sha256 FROM r_binary
                    UNION
                    SELECT build_log_sha256 FROM r_binary WHERE build_log_sha256 IS NOT NULL
                    """)
            return Relation.withProvenance(
                Set(served), try Row.fetchAll(db, sql: "SELECT sha256, document FROM file_provenance").map { ($0["sha256"], $0["document"]) })
        }
    }
}
