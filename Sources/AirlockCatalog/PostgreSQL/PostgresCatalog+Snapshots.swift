public import AirlockCore
public import Foundation

extension PostgresCatalog: SnapshotCatalog {
    /// Retained snapshots only: an expired one is found by no selector.
    private static let snapshotColumns =
        "SELECT id, ecosystem, published_at, policy_digest, distribution_count FROM snapshot WHERE expired_at IS NULL AND"

    public func snapshot(_ ecosystem: Ecosystem, _ selector: SnapshotSelector) async throws -> Snapshot? {
        try await read { s in try await Self.snapshot(s, ecosystem, selector) }
    }

    static func snapshot(_ s: PostgresSession, _ ecosystem: Ecosystem, _ selector: SnapshotSelector) async throws -> Snapshot? {
        let row: SnapshotRow?
        switch selector {
        case .latest:
            row = try await s.fetchOne(SnapshotRow.self, "\(snapshotColumns) ecosystem = $1 ORDER BY id DESC LIMIT 1", [ecosystem.rawValue])
        case .id(let id):
            row = try await s.fetchOne(SnapshotRow.self, "\(snapshotColumns) ecosystem = $1 AND id = $2", [ecosystem.rawValue, id])
        case .date:
            // Fixed-width RFC 3339 UTC text: text order is time order (see the SQLite catalog).
            guard let endOfDay = selector.endOfDay else { return nil }
            row = try await s.fetchOne(
                SnapshotRow.self, "\(snapshotColumns) ecosystem = $1 AND published_at <= $2 ORDER BY id DESC LIMIT 1",
                [ecosystem.rawValue, Timestamp.format(endOfDay.addingTimeInterval(-0.001))])
        }
        return try row?.snapshot()
    }

    public func snapshots(_ ecosystem: Ecosystem) async throws -> [Snapshot] {
        try await read { s in
            try await s.fetch(SnapshotRow.self, "\(Self.snapshotColumns) ecosystem = $1 ORDER BY id", [ecosystem.rawValue]).map { try $0.snapshot() }
        }
    }

    public func servedFiles(in snapshot: Snapshot) async throws -> [Distribution] {
        try await read { s in try await Self.files(s, in: snapshot) }
    }

    public func servedFile(digest: Digest, filename: String) async throws -> Distribution? {
        try await read { s in
            try await s.fetchOne(
                DistributionRow.self,
                Relation.distributionColumns + """
                     WHERE d.sha256 = $1 AND d.filename = $2
                       AND EXISTS (SELECT 1 FROM membership m JOIN snapshot s ON s.ecosystem = p.ecosystem AND \(Relation.serves("s.id"))
                                   WHERE m.distribution_id = d.id AND s.expired_at IS NULL)
                       AND \(Relation.notRevoked)
                     LIMIT 1
                    """, [digest.hex, filename]
            )?.distribution()
        }
    }

    public func upstreamProjects(_ ecosystem: Ecosystem) async throws -> [String: UpstreamProject] {
        try await read { s in
            var out: [String: UpstreamProject] = [:]
            for row in try await s.query("SELECT name, page_url, status, reason FROM upstream_project WHERE ecosystem = $1", [ecosystem.rawValue]) {
                let name = try row.get("name", as: String.self)
                out[name] = UpstreamProject(
                    name: name, pageURL: try row.get("page_url", as: String.self),
                    status: ProjectStatus(status: try row.get("status", as: String.self), reason: try row.get("reason", as: String?.self)))
            }
            return out
        }
    }

    public func withdrawalStamp() async throws -> Int64 {
        try await read { s in
            guard let row = try await s.query(Relation.withdrawalStamp).first else { return 0 }
            let seen = try row.get("quarantine_seen", as: String?.self).flatMap(Timestamp.parse).map { Int64($0.timeIntervalSince1970 * 1000) } ?? 0
            return try row.get("stamp", as: Int64.self) &+ seen
        }
    }

    public func binaries(distro: String?, package: String?) async throws -> [RBinary] {
        try await read { s in try await Self.binaries(s, distro: distro, package: package) }
    }

    static func binaries(_ s: PostgresSession, distro: String?, package: String?) async throws -> [RBinary] {
        try await s.fetch(
            RBinaryRow.self,
            "SELECT * FROM r_binary WHERE ($1::text IS NULL OR distro = $1) AND ($2::text IS NULL OR package = $2) ORDER BY package, version, distro, r_minor",
            [distro, package]
        ).map { try $0.binary() }
    }

    /// A snapshot's files and the R binaries it serves with them.
    static func contents(_ s: PostgresSession, of snapshot: Snapshot) async throws -> SnapshotContents {
        let files = try await files(s, in: snapshot)
        let binaries = snapshot.ecosystem == .cran ? try await binaries(s, distro: nil, package: nil) : []
        return SnapshotContents(files: files, binaries: RBinary.served(by: snapshot, files: files, from: binaries))
    }

    /// Whether an R binary was recorded after `snapshot` was published (the next snapshot serves it).
    static func binariesRecorded(_ s: PostgresSession, _ ecosystem: Ecosystem, after snapshot: Snapshot) async throws -> Bool {
        guard ecosystem == .cran else { return false }
        return try await s.value(Bool.self, "SELECT EXISTS (SELECT 1 FROM r_binary WHERE recorded_at > $1)", [Timestamp.format(snapshot.publishedAt)])
            ?? false
    }

    public func recordBinaries(_ binaries: [RBinary], at: Date) async throws {
        try await write { s in
            for b in binaries {
                try await s.execute(
                    RBinaryTable.upsert,
                    [
                        b.package, b.version, b.distro, b.rMinor, b.platform, b.built, b.digest.hex, b.size, b.recordDigest.hex, b.origin,
                        b.buildLog?.hex, Timestamp.format(at),
                    ])
            }
        }
    }

    public func revocation(ofFile digest: Digest) async throws -> Revocation? {
        try await read { s in
            try await s.fetchOne(
                RevocationRow.self,
                """
                SELECT v.* FROM revocation v JOIN project p ON p.ecosystem = v.ecosystem AND p.name = v.project
                JOIN release r ON r.project_id = p.id AND r.version = v.version JOIN distribution d ON d.release_id = r.id
                WHERE d.sha256 = $1 LIMIT 1
                """, [digest.hex]
            )?.revocation()
        }
    }

    static func files(_ s: PostgresSession, in snapshot: Snapshot) async throws -> [Distribution] {
        try await s.fetch(
            DistributionRow.self,
            Relation.servedColumns + """
                 JOIN membership m ON m.distribution_id = d.id
                 WHERE p.ecosystem = $1 AND \(Relation.serves("$2"))
                   AND \(Relation.notRevoked)
                 ORDER BY p.name, d.filename
                """, [snapshot.ecosystem.rawValue, snapshot.id]
        ).map { try $0.distribution() }
    }
}

extension PostgresCatalog: PublishCatalog {
    public func publish(
        _ request: PublishRequest, rule: @Sendable (PublishState) throws -> PublishPlan,
        beforeCommit: @Sendable (Snapshot, SnapshotContents, PublishPlan, AuditHead) throws -> Void
    ) async throws -> (snapshot: Snapshot, isNew: Bool) {
        let ecosystem = request.ecosystem
        let at = request.at
        return try await write { s in
            if let imported = request.imported {
                return try await Self.publishImported(s, imported, actor: request.actor, at: at, rule: rule, beforeCommit: beforeCommit)
            }
            if let origin = try await Self.replicaOrigin(s) {
                throw AirlockError(
                    .forbidden, "this data directory is a replica of \(origin.origin): its snapshots come only from bundles that side exports")
            }
            if let sync = request.sync { try await Self.applySync(s, ecosystem, sync, actor: request.actor, at: at) }
            let state = try await Self.publishState(s, ecosystem)
            let plan = try rule(state)
            try await Self.recordHeld(s, ecosystem, plan)
            try await s.execute("UPDATE ecosystem_state SET checked_at = $1 WHERE ecosystem = $2", [Timestamp.format(at), ecosystem.rawValue])
            if let latest = try await Self.snapshot(s, ecosystem, .latest), try await Self.servesExactly(s, ecosystem, plan),
                try await !Self.binariesRecorded(s, ecosystem, after: latest)
            {
                return (latest, false)
            }
            let snapshot = try await Self.storeSnapshot(s, ecosystem, id: nil, at: at, policyDigest: state.policyDigest, plan: plan)
            let head = try await Self.appendAudit(
                s, actor: request.actor, action: "snapshot.published", object: "\(ecosystem.rawValue)/\(snapshot.id)",
                details: ["files": String(plan.files.count), "policy": state.policyDigest], at: at)
            try beforeCommit(snapshot, try await Self.contents(s, of: snapshot), plan, head)
            return (snapshot, true)
        }
    }

    /// Publishes a bundle's snapshots, oldest first, with their original ids and dates (see `SQLiteCatalog`).
    private static func publishImported(
        _ s: PostgresSession, _ bundle: PublishRequest.ImportedBundle, actor: String, at: Date, rule: (PublishState) throws -> PublishPlan,
        beforeCommit: (Snapshot, SnapshotContents, PublishPlan, AuditHead) throws -> Void
    ) async throws -> (snapshot: Snapshot, isNew: Bool) {
        let ecosystem = bundle.rows.ecosystem
        try await applyImport(s, bundle, at: at)
        var last: Snapshot?
        for transferred in bundle.rows.snapshots {
            let id = transferred.snapshot.id
            if try await s.value(Bool.self, "SELECT EXISTS (SELECT 1 FROM snapshot WHERE id = $1)", [id]) ?? false {
                throw AirlockError(.forbidden, "snapshot \(id) is already here: a bundle never replaces a published snapshot")
            }
            if let newest = try await s.value(Int64?.self, "SELECT max(id) FROM snapshot WHERE ecosystem = $1", [ecosystem.rawValue]) ?? nil,
                newest > id
            {
                throw AirlockError(
                    .forbidden, "\(ecosystem.rawValue) snapshot \(id) is older than snapshot \(newest), already served here: a rollback")
            }
            guard let manifestDigest = bundle.manifestDigests[id] else {
                throw AirlockError(.malformedIndex, "the bundle carries no manifest for snapshot \(id)")
            }
            var state = try await publishState(s, ecosystem)
            state.imposed = try await imposed(s, ecosystem, transferred)
            let plan = try rule(state)
            let snapshot = try await storeSnapshot(
                s, ecosystem, id: id, at: transferred.snapshot.publishedAt, policyDigest: transferred.snapshot.policyDigest, plan: plan)
            try await s.execute("INSERT INTO imported_snapshot (id, manifest_sha256) VALUES ($1, $2)", [id, manifestDigest])
            let head = try await appendAudit(
                s, actor: actor, action: "snapshot.imported", object: "\(ecosystem.rawValue)/\(id)",
                details: ["files": String(plan.files.count), "policy": snapshot.policyDigest, "bundle": String(bundle.record.sequence)], at: at)
            try beforeCommit(snapshot, try await contents(s, of: snapshot), plan, head)
            last = snapshot
        }
        try await recordImport(
            s, bundle.record, actor: actor, details: ["snapshots": bundle.rows.snapshots.map { String($0.snapshot.id) }.joined(separator: ",")])
        guard let last else { throw AirlockError(.malformedIndex, "the bundle carries no snapshot") }
        return (last, true)
    }

    /// Stores a snapshot (with `id`, or the next one: ids are never reused, as SQLite's AUTOINCREMENT)
    /// serving the plan's files: membership ranges of files it no longer serves (or serves with
    /// another yank reason) end, new ones begin.
    private static func storeSnapshot(
        _ s: PostgresSession, _ ecosystem: Ecosystem, id wanted: Int64?, at: Date, policyDigest: String, plan: PublishPlan
    ) async throws -> Snapshot {
        let id = try required(
            try await s.value(
                Int64.self,
                """
                INSERT INTO snapshot (id, ecosystem, published_at, policy_digest, distribution_count)
                VALUES (coalesce($1, (SELECT coalesce(max(id), 0) + 1 FROM snapshot)), $2, $3, $4, $5) RETURNING id
                """, [wanted, ecosystem.rawValue, Timestamp.format(at), policyDigest, plan.files.count]), "snapshot just written")
        let files = plan.files.sorted()
        try await s.execute("CREATE TEMP TABLE IF NOT EXISTS publishing (distribution_id BIGINT PRIMARY KEY, yank_reason TEXT) ON COMMIT DROP")
        try await s.execute("DELETE FROM publishing")
        // A yank reason may be absent: the arrays carry it with a flag (a text[] parameter holds no NULL here).
        try await s.execute(
            "INSERT INTO publishing SELECT id, CASE WHEN yanked THEN reason END FROM unnest($1::bigint[], $2::text[], $3::boolean[]) AS u(id, reason, yanked)",
            [PostgresArray(files), PostgresArray(files.map { plan.yanking[$0] ?? "" }), PostgresArray(files.map { plan.yanking[$0] != nil })])
        try await s.execute(
            """
            UPDATE membership SET removed_in = $1
            WHERE removed_in IS NULL
              AND distribution_id IN (SELECT d.id FROM \(Relation.files) WHERE p.ecosystem = $2)
              AND NOT EXISTS (SELECT 1 FROM publishing p WHERE p.distribution_id = membership.distribution_id
                              AND p.yank_reason IS NOT DISTINCT FROM membership.yank_reason)
            """, [id, ecosystem.rawValue])
        try await s.execute(
            """
            INSERT INTO membership (distribution_id, added_in, yank_reason)
            SELECT distribution_id, $1, yank_reason FROM publishing
            WHERE distribution_id NOT IN (SELECT distribution_id FROM membership WHERE removed_in IS NULL)
            """, [id])
        try await s.execute("DROP TABLE publishing")
        return Snapshot(id: id, ecosystem: ecosystem, publishedAt: at, policyDigest: policyDigest, distributionCount: plan.files.count)
    }

    public func lastChecked(_ ecosystem: Ecosystem) async throws -> Date? {
        try await read { s in
            try parseTime(
                try await s.value(String?.self, "SELECT checked_at FROM ecosystem_state WHERE ecosystem = $1", [ecosystem.rawValue]) ?? nil,
                table: "ecosystem_state", key: ecosystem.rawValue)
        }
    }

    private static func servesExactly(_ s: PostgresSession, _ ecosystem: Ecosystem, _ plan: PublishPlan) async throws -> Bool {
        var open: [Int64: String?] = [:]
        for row in try await s.query(
            """
            SELECT m.distribution_id, m.yank_reason FROM \(Relation.files) JOIN membership m ON m.distribution_id = d.id
            WHERE p.ecosystem = $1 AND m.removed_in IS NULL
            """, [ecosystem.rawValue])
        {
            open[try row.get("distribution_id", as: Int64.self)] = try row.get("yank_reason", as: String?.self)
        }
        return open.count == plan.files.count && plan.files.allSatisfy { id in open[id].map { $0 == plan.yanking[id] } ?? false }
    }

    private static func recordHeld(_ s: PostgresSession, _ ecosystem: Ecosystem, _ plan: PublishPlan) async throws {
        try await s.execute("DELETE FROM held WHERE ecosystem = $1", [ecosystem.rawValue])
        for (key, why) in plan.held {
            try await s.execute(
                "INSERT INTO held (ecosystem, project, version, reason, blocked_by) VALUES ($1, $2, $3, $4, $5)",
                [ecosystem.rawValue, key.project, key.version, why.reason, why.blockedBy])
        }
    }

    private static func applySync(_ s: PostgresSession, _ ecosystem: Ecosystem, _ sync: PublishRequest.SyncOutcome, actor: String, at: Date)
        async throws
    {
        if let policy = sync.policy {
            let previous = try await s.value(
                String.self, "SELECT digest FROM policy WHERE ecosystem = $1 ORDER BY id DESC LIMIT 1", [ecosystem.rawValue])
            try await s.execute(
                "INSERT INTO policy (ecosystem, digest, path, text, activated_at) VALUES ($1, $2, $3, $4, $5)",
                [ecosystem.rawValue, sync.policyDigest, policy.path, policy.text, Timestamp.format(at)])
            if previous != sync.policyDigest {
                try await appendAudit(
                    s, actor: actor, action: "policy.changed", object: "\(ecosystem.rawValue)/policy",
                    details: ["digest": sync.policyDigest, "previous": previous ?? "none", "path": policy.path], at: at)
            }
        }
        try await s.execute(
            """
            INSERT INTO ecosystem_state (ecosystem, policy_digest, targets, extras, synced_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (ecosystem) DO UPDATE SET policy_digest = excluded.policy_digest, targets = excluded.targets, extras = excluded.extras,
                synced_at = excluded.synced_at
            """, [ecosystem.rawValue, sync.policyDigest, try encodeJSON(sync.targets), try encodeJSON(sync.extras), Timestamp.format(at)])
        try await s.execute("DELETE FROM set_aside WHERE ecosystem = $1", [ecosystem.rawValue])
        for a in sync.setAside {
            try await s.execute(
                "INSERT INTO set_aside (ecosystem, project, version, filename, \"check\", error, required_by, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                [ecosystem.rawValue, a.project, a.version, a.filename, a.check, a.error, a.requiredBy, Timestamp.format(at)])
        }
        try await s.execute("DELETE FROM candidate WHERE ecosystem = $1", [ecosystem.rawValue])
        try await s.execute(
            "INSERT INTO candidate (ecosystem, release_id) SELECT $1, * FROM unnest($2::bigint[]) ON CONFLICT DO NOTHING",
            [ecosystem.rawValue, PostgresArray(Array(Set(sync.candidates)).sorted())])
    }

    static func publishState(_ s: PostgresSession, _ ecosystem: Ecosystem) async throws -> PublishState {
        let e = ecosystem.rawValue
        guard let stateRow = try await s.query("SELECT policy_digest, targets, extras FROM ecosystem_state WHERE ecosystem = $1", [e]).first else {
            throw AirlockError(.notFound, "no \(e) snapshot has been published yet; run a sync first")
        }
        let policyDigest: String = try stateRow.get("policy_digest")
        let targets = try decodeJSON([String].self, try stateRow.get("targets", as: String.self), table: "ecosystem_state", key: e) ?? []
        let extras = try decodeJSON([String: [String]].self, try stateRow.get("extras", as: String.self), table: "ecosystem_state", key: e) ?? [:]
        let publishable = """
            SELECT r.id FROM \(Relation.releases)
            WHERE p.ecosystem = $1 AND (r.id IN (SELECT release_id FROM candidate WHERE ecosystem = $1)
                                        OR p.name IN (SELECT project FROM override WHERE ecosystem = $1))
            """
        let rows = try await s.query(
            """
            SELECT r.id, p.name, r.version, r.requires_dist, EXISTS (SELECT 1 FROM candidate c WHERE c.release_id = r.id) AS is_candidate
            FROM \(Relation.releases) WHERE r.id IN (\(publishable))
            """, [e])
        var decisions: [Int64: Decision] = [:]
        for d in try await s.fetch(
            DecisionRow.self, "SELECT * FROM decision WHERE policy_digest = $2 AND release_id IN (\(publishable))", [e, policyDigest])
        {
            decisions[d.releaseId] = try d.decision()
        }
        var files: [Int64: [Int64]] = [:]
        var artifacts: [Int64: [PublishState.Artifact]] = [:]
        for f in try await s.query(
            "SELECT d.id, d.release_id, d.filename, d.requires_python FROM distribution d WHERE d.release_id IN (\(publishable)) ORDER BY d.id", [e])
        {
            let release = try f.get("release_id", as: Int64.self)
            files[release, default: []].append(try f.get("id", as: Int64.self))
            artifacts[release, default: []].append(
                PublishState.Artifact(filename: try f.get("filename"), requiresPython: try f.get("requires_python")))
        }
        let releases = try rows.map { row -> PublishState.Release in
            let id: Int64 = try row.get("id")
            return PublishState.Release(
                id: id, key: ReleaseKey(try row.get("name"), try row.get("version")), isCandidate: try row.get("is_candidate"),
                decision: decisions[id],
                files: files[id] ?? [],
                requires: try decodeJSON([String].self, try row.get("requires_dist", as: String?.self), table: "release", key: id) ?? [],
                artifacts: artifacts[id] ?? [])
        }
        let revoked = Set(
            try await s.query("SELECT project, version FROM revocation WHERE ecosystem = $1", [e]).map {
                ReleaseKey(try $0.get("project"), try $0.get("version"))
            })
        return PublishState(
            ecosystem: ecosystem, policyDigest: policyDigest, targets: targets, extras: extras, releases: releases,
            overrides: try await overrides(s, ecosystem, project: nil), revoked: revoked)
    }
}

extension PostgresCatalog: RetentionCatalog {
    public func retainedSnapshots() async throws -> [Snapshot] {
        try await read { s in
            try await s.fetch(
                SnapshotRow.self,
                "SELECT id, ecosystem, published_at, policy_digest, distribution_count FROM snapshot WHERE expired_at IS NULL ORDER BY id"
            )
            .map { try $0.snapshot() }
        }
    }

    public func expire(_ ids: [Int64], actor: String, at: Date) async throws {
        guard !ids.isEmpty else { return }
        try await write { s in
            try await s.execute(
                "UPDATE snapshot SET expired_at = $1 WHERE id = ANY($2::bigint[]) AND expired_at IS NULL", [Timestamp.format(at), PostgresArray(ids)])
            try await Self.appendAudit(
                s, actor: actor, action: "snapshot.expire", object: ids.map(String.init).joined(separator: ","),
                details: ["count": String(ids.count)], at: at)
        }
    }

    public func referencedBlobs(expiring: Set<Int64>) async throws -> Set<String> {
        try await read { s in
            let skip = " AND NOT (s.id = ANY($1::bigint[]))"
            let served = Set(
                try await s.column(
                    String.self,
                    """
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
                    """, [PostgresArray(expiring.sorted())]))
            let documents = try await s.query("SELECT sha256, document FROM file_provenance").map {
                (try $0.get("sha256", as: String.self), try $0.get("document", as: String.self))
            }
            return Relation.withProvenance(served, documents)
        }
    }
}
