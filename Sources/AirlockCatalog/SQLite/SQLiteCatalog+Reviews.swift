public import AirlockCore
public import Foundation
import GRDB

extension SQLiteCatalog: ReviewCatalog {
    // MARK: Audit log

    /// Appends an event inside the caller's transaction, chained to the last one.
    @discardableResult
    static func appendAudit(_ db: Database, actor: String, action: String, object: String, details: [String: String], at: Date) throws -> AuditHead {
        let detailText = try encodeJSON(details)
        let last = try AuditRow.fetchOne(db, sql: "SELECT * FROM audit ORDER BY id DESC LIMIT 1")
        let id = (last?.id ?? 0) + 1
        let prev = last?.hash ?? AuditEvent.genesis
        let stamp = Timestamp.format(at)
        let hash = AuditEvent.hash(id: id, at: stamp, actor: actor, action: action, object: object, details: detailText, prevHash: prev)
        try db.execute(
            sql: "INSERT INTO audit (id, at, actor, action, object, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [id, stamp, actor, action, object, detailText, prev, hash])
        return AuditHead(sequence: id, sha256: hash)
    }

    public func audit(actor: String, action: String, object: String, details: [String: String], at: Date) async throws {
        try await write { db in try Self.appendAudit(db, actor: actor, action: action, object: object, details: details, at: at) }
    }

    public func auditEvents(limit: Int, offset: Int) async throws -> [AuditEvent] {
        try await read { db in
            try AuditRow.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id DESC LIMIT ? OFFSET ?", arguments: [limit, offset]).map(\.event)
        }
    }

    public func auditCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit") ?? 0 }
    }

    public func projectNames(_ ecosystem: Ecosystem) async throws -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT name FROM project WHERE ecosystem = ? ORDER BY name", arguments: [ecosystem.rawValue])
        }
    }

    public func verifyAudit(anchors: [AuditHead]) async throws -> AuditVerification {
        AuditEvent.verify(try await read { db in try AuditRow.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id").map(\.event) }, anchors: anchors)
    }

    // MARK: Tokens

    public func createToken(name: String, role: Role, expiresAt: Date?, actor: String, at: Date) async throws -> (token: APIToken, secret: String) {
        let secret = try APIToken.newSecret(name: name, expiresAt: expiresAt, at: at)
        let token = try await write { db -> APIToken in
            try db.execute(
                sql: "INSERT INTO token (name, role, secret_sha256, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [name, role.rawValue, Digest.of(Array(secret.utf8)).hex, Timestamp.format(at), expiresAt.map(Timestamp.format)])
            let id = db.lastInsertedRowID
            try Self.appendAudit(
                db, actor: actor, action: "token.created", object: "token/\(id)",
                details: ["name": name, "role": role.rawValue, "expires": expiresAt.map(Timestamp.format) ?? "never"], at: at)
            return APIToken(id: id, name: name, role: role, createdAt: at, expiresAt: expiresAt, revokedAt: nil)
        }
        return (token, secret)
    }

    public func tokens() async throws -> [APIToken] {
        try await read { db in try TokenRow.fetchAll(db, sql: "SELECT * FROM token ORDER BY id").map { try $0.token() } }
    }

    public func revokeToken(id: Int64, actor: String, at: Date) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [Timestamp.format(at), id])
            guard db.changesCount == 1 else { throw AirlockError(.notFound, "no active token with id \(id)") }
            try Self.appendAudit(db, actor: actor, action: "token.revoked", object: "token/\(id)", details: [:], at: at)
        }
    }

    /// The stored digest is found by index, then compared in constant time.
    public func token(secret: String) async throws -> APIToken? {
        let digest = Digest.of(Array(secret.utf8)).hex
        return try await read { db in
            guard let row = try TokenRow.fetchOne(db, sql: "SELECT * FROM token WHERE secret_sha256 = ?", arguments: [digest]) else { return nil }
            return APIToken.constantTimeEqual(Array(row.secretSha256.utf8), Array(digest.utf8)) ? try row.token() : nil
        }
    }

    // MARK: Misses

    public func recordMisses(_ misses: [Miss]) async throws {
        try await write { db in
            for m in misses {
                try db.execute(
                    sql: """
                        INSERT INTO miss (ecosystem, project, version, count, first_seen, last_seen, last_client) VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (ecosystem, project, version) DO UPDATE SET count = min(count + excluded.count, \(Miss.maxCount)),
                            first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
                            last_client = coalesce(excluded.last_client, last_client)
                        """,
                    arguments: [
                        m.ecosystem.rawValue, m.project, m.version, min(max(m.count, 0), Miss.maxCount), Timestamp.format(m.firstSeen),
                        Timestamp.format(m.lastSeen),
                        m.lastClient,
                    ])
            }
            // Demand is bounded: past the cap, the least recently seen names go.
            try db.execute(
                sql: "DELETE FROM miss WHERE rowid IN (SELECT rowid FROM miss ORDER BY last_seen DESC, rowid DESC LIMIT -1 OFFSET ?)",
                arguments: [Miss.maxStored])
        }
    }

    public func misses(_ ecosystem: Ecosystem?) async throws -> [Miss] {
        try await read { db in
            try MissRow.fetchAll(
                db, sql: "SELECT * FROM miss WHERE ?1 IS NULL OR ecosystem = ?1 ORDER BY count DESC, last_seen DESC", arguments: [ecosystem?.rawValue]
            ).map { try $0.miss() }
        }
    }

    // MARK: Overrides and revocations

    public func addOverrides(_ ecosystem: Ecosystem, _ requests: [OverrideRequest], actor: String, at: Date, batch: AuditBatch?) async throws
        -> [Override]
    {
        try await write { db in
            let added = try requests.map { try Self.insertOverride(db, ecosystem, $0, actor, at, audited: batch == nil) }
            if let batch {
                try Self.appendAudit(
                    db, actor: actor, action: batch.action, object: batch.object,
                    details: batch.details.merging(["overrides": added.map { String($0.id) }.joined(separator: ",")]) { a, _ in a }, at: at)
            }
            return added
        }
    }

    public func withdrawOverride(id: Int64, reason: String, actor: String, at: Date) async throws -> Override {
        try await write { db in
            let why = try OverrideRequest.withdrawalReason(reason)
            guard let row = try OverrideRow.fetchOne(db, sql: "SELECT * FROM override WHERE id = ?", arguments: [id]) else {
                throw AirlockError(.notFound, "no override with id \(id)")
            }
            try row.override().checkWithdrawable(at: at)
            try db.execute(
                sql: "UPDATE override SET withdrawn_at = ?, withdrawn_by = ?, withdrawn_reason = ? WHERE id = ?",
                arguments: [Timestamp.format(at), actor, why, id])
            try Self.appendAudit(
                db, actor: actor, action: "override.withdrawn", object: row.auditObject, details: ["override": String(id), "reason": why], at: at)
            return try OverrideRow.fetchOne(db, sql: "SELECT * FROM override WHERE id = ?", arguments: [id])!.override()
        }
    }

    public func recordedDigests(_ ecosystem: Ecosystem, project: String) async throws -> [String: Set<Digest>] {
        try await read { db in
            var out: [String: Set<Digest>] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT r.version, d.sha256 FROM \(Relation.files) WHERE p.ecosystem = ? AND p.name = ?",
                arguments: [ecosystem.rawValue, project])
            {
                if let d = Digest(hex: row["sha256"]) { out[row["version"], default: []].insert(d) }
            }
            return out
        }
    }

    public func recordedMetadata(_ ecosystem: Ecosystem, project: String) async throws -> [String: Digest] {
        try await read { db in
            var out: [String: Digest] = [:]
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT r.version, d.metadata_sha256 FROM \(Relation.files) WHERE p.ecosystem = ? AND p.name = ? AND d.metadata_sha256 IS NOT NULL ORDER BY d.filename",
                arguments: [ecosystem.rawValue, project])
            {
                if let d = Digest(hex: row["metadata_sha256"]), out[row["version"]] == nil { out[row["version"]] = d }
            }
            return out
        }
    }

    // MARK: Downloads

    public func recordDownloads(_ counts: [DownloadCount]) async throws {
        try await write { db in
            for c in counts {
                try db.execute(
                    sql:
                        "INSERT INTO download (sha256, day, count) VALUES (?, ?, ?) ON CONFLICT (sha256, day) DO UPDATE SET count = count + excluded.count",
                    arguments: [c.sha256.hex, c.day, c.count])
            }
        }
    }

    public func downloads(since day: String) async throws -> [DownloadCount] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT sha256, day, count FROM download WHERE day >= ? ORDER BY day, sha256", arguments: [day]).compactMap {
                row in
                Digest(hex: row["sha256"]).map { DownloadCount(sha256: $0, day: row["day"], count: row["count"]) }
            }
        }
    }

    private static func insertOverride(_ db: Database, _ ecosystem: Ecosystem, _ r: OverrideRequest, _ actor: String, _ at: Date, audited: Bool)
        throws -> Override
    {
        let why = try r.checkedReason(at: at)
        let recorded = try String.fetchAll(
            db, sql: "SELECT r.version FROM \(Relation.releases) WHERE p.ecosystem = ? AND p.name = ?",
            arguments: [ecosystem.rawValue, r.project])
        try r.check(against: recorded, ecosystem: ecosystem)
        try db.execute(
            sql: "INSERT INTO override (ecosystem, project, versions, action, reason, actor, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                ecosystem.rawValue, r.project, r.versions.description, r.action.rawValue, why, actor, Timestamp.format(at),
                r.expiresAt.map(Timestamp.format),
            ])
        let id = db.lastInsertedRowID
        if audited {
            try appendAudit(
                db, actor: actor, action: "override.\(r.action.rawValue)", object: r.auditObject(ecosystem),
                details: ["override": String(id), "reason": why, "expires": r.expiresAt.map(Timestamp.format) ?? "never"], at: at)
        }
        return Override(
            id: id, ecosystem: ecosystem, project: r.project, versions: r.versions.description, action: r.action, reason: why, actor: actor,
            createdAt: at,
            expiresAt: r.expiresAt)
    }

    public func overrides(_ ecosystem: Ecosystem?, project: String?) async throws -> [Override] {
        try await read { db in try Self.overrides(db, ecosystem, project: project) }
    }

    static func overrides(_ db: Database, _ ecosystem: Ecosystem?, project: String?) throws -> [Override] {
        try OverrideRow.fetchAll(
            db, sql: "SELECT * FROM override WHERE (?1 IS NULL OR ecosystem = ?1) AND (?2 IS NULL OR project = ?2) ORDER BY id",
            arguments: [ecosystem?.rawValue, project]
        ).map { try $0.override() }
    }

    public func revoke(_ ecosystem: Ecosystem, project: String, version: String, reason: String, actor: String, at: Date) async throws -> Revocation {
        try await write { db in
            let why = reason.trimmingWhitespace()
            guard !why.isEmpty else { throw AirlockError(.invalidArgument, "a revocation needs a reason") }
            let exists =
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM \(Relation.releases) WHERE p.ecosystem = ? AND p.name = ? AND r.version = ?",
                    arguments: [ecosystem.rawValue, project, version]) ?? false
            guard exists else { throw AirlockError(.notFound, "\(ecosystem.rawValue) release '\(project) \(version)' is not in the catalog") }
            try db.execute(
                sql:
                    "INSERT INTO revocation (ecosystem, project, version, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [ecosystem.rawValue, project, version, why, actor, Timestamp.format(at)])
            guard db.changesCount == 1 else { throw AirlockError(.invalidArgument, "'\(project) \(version)' is already revoked") }
            let id = db.lastInsertedRowID
            try Self.appendAudit(
                db, actor: actor, action: "release.revoked", object: "\(ecosystem.rawValue)/\(project) \(version)", details: ["reason": why], at: at)
            return Revocation(id: id, ecosystem: ecosystem, project: project, version: version, reason: why, actor: actor, createdAt: at)
        }
    }

    public func revocations(_ ecosystem: Ecosystem?) async throws -> [Revocation] {
        try await read { db in
            try RevocationRow.fetchAll(
                db, sql: "SELECT * FROM revocation WHERE ?1 IS NULL OR ecosystem = ?1 ORDER BY id", arguments: [ecosystem?.rawValue]
            )
            .map { try $0.revocation() }
        }
    }

    // MARK: Releases as reviewers see them

    public func releaseReviews(_ ecosystem: Ecosystem, project: String) async throws -> [ReleaseReview] {
        try await read { db in
            let revoked = Dictionary(
                try RevocationRow.fetchAll(
                    db, sql: "SELECT * FROM revocation WHERE ecosystem = ? AND project = ?", arguments: [ecosystem.rawValue, project]
                )
                .map { ($0.version, try $0.revocation()) }, uniquingKeysWith: { a, _ in a })
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.id, r.version, r.requires_dist, \(Relation.releaseProvenance),
                           EXISTS (SELECT 1 FROM distribution d JOIN membership m ON m.distribution_id = d.id
                                   WHERE d.release_id = r.id AND m.removed_in IS NULL) AS served
                    FROM \(Relation.releases)
                    WHERE p.ecosystem = ? AND p.name = ?
                    """, arguments: [ecosystem.rawValue, project])
            let policy = try Self.activePolicyDigest(db, ecosystem)
            return try rows.map { r in
                let id: Int64 = r["id"]
                let version: String = r["version"]
                let decision = try DecisionRow.fetchOne(
                    db, sql: "SELECT * FROM decision WHERE release_id = ? AND policy_digest = ?", arguments: [id, policy])
                return ReleaseReview(
                    ecosystem: ecosystem, project: project, version: version, decision: try decision?.decision(),
                    served: r["served"] && revoked[version] == nil, revocation: revoked[version],
                    dependencies: try decodeJSON([String].self, r["requires_dist"], table: "release", key: id) ?? [],
                    provenance: try PublisherRecord.decode(
                        document: r["provenance_document"], publisher: r["provenance_publisher"], signedAt: r["provenance_signed_at"],
                        release: "\(project) \(version)"))
            }.sorted { VersionOrder.older($0.version, $1.version, ecosystem) }
        }
    }

    public func projectsToReview(_ ecosystem: Ecosystem) async throws -> [String] {
        try await read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT p.name FROM project p JOIN release r ON r.project_id = p.id
                    JOIN decision c ON c.release_id = r.id AND c.policy_digest = ?2
                    WHERE p.ecosystem = ?1 AND c.verdict = 'review'
                    UNION SELECT m.project FROM miss m JOIN project p ON p.ecosystem = m.ecosystem AND p.name = m.project WHERE m.ecosystem = ?1
                    """, arguments: [ecosystem.rawValue, try Self.activePolicyDigest(db, ecosystem)])
        }
    }

    public func heldReleases(_ ecosystem: Ecosystem) async throws -> [ReleaseKey: HeldRelease] {
        try await read { db in
            var out: [ReleaseKey: HeldRelease] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM held WHERE ecosystem = ?", arguments: [ecosystem.rawValue]) {
                out[ReleaseKey(row["project"], row["version"])] = HeldRelease(reason: row["reason"], blockedBy: row["blocked_by"])
            }
            return out
        }
    }

    public func setAside(_ ecosystem: Ecosystem) async throws -> [SetAsideRelease] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM set_aside WHERE ecosystem = ? ORDER BY project, version", arguments: [ecosystem.rawValue]).map {
                SetAsideRelease(
                    project: $0["project"], version: $0["version"], filename: $0["filename"], check: $0["check"], error: $0["error"],
                    requiredBy: $0["required_by"])
            }
        }
    }

    public func syncTargets(_ ecosystem: Ecosystem) async throws -> [String] {
        try await read { db in
            try decodeJSON(
                [String].self,
                try String.fetchOne(db, sql: "SELECT targets FROM ecosystem_state WHERE ecosystem = ?", arguments: [ecosystem.rawValue]),
                table: "ecosystem_state", key: ecosystem.rawValue) ?? []
        }
    }

    /// The policy digest the ecosystem's releases are decided under (its last sync's).
    static func activePolicyDigest(_ db: Database, _ ecosystem: Ecosystem) throws -> String? {
        try String.fetchOne(db, sql: "SELECT policy_digest FROM ecosystem_state WHERE ecosystem = ?", arguments: [ecosystem.rawValue])
    }
}
