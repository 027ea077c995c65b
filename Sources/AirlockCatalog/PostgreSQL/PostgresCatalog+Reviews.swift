public import AirlockCore
public import Foundation

extension PostgresCatalog: ReviewCatalog {
    // MARK: Audit log

    /// Appends an event inside the caller's write transaction, chained to the last one. Writers hold
    /// the write lock, so no other event can be appended between reading the last and writing this.
    @discardableResult
    static func appendAudit(_ s: PostgresSession, actor: String, action: String, object: String, details: [String: String], at: Date) async throws
        -> AuditHead
    {
        let detailText = try encodeJSON(details)
        let last = try await s.fetchOne(AuditRow.self, "SELECT * FROM audit ORDER BY id DESC LIMIT 1")
        let id = (last?.id ?? 0) + 1
        let prev = last?.hash ?? AuditEvent.genesis
        let stamp = Timestamp.format(at)
        let hash = AuditEvent.hash(id: id, at: stamp, actor: actor, action: action, object: object, details: detailText, prevHash: prev)
        try await s.execute(
            "INSERT INTO audit (id, at, actor, action, object, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [id, stamp, actor, action, object, detailText, prev, hash])
        return AuditHead(sequence: id, sha256: hash)
    }

    public func audit(actor: String, action: String, object: String, details: [String: String], at: Date) async throws {
        try await write { s in try await Self.appendAudit(s, actor: actor, action: action, object: object, details: details, at: at) }
    }

    public func auditEvents(limit: Int, offset: Int) async throws -> [AuditEvent] {
        try await read { s in
            try await s.fetch(AuditRow.self, "SELECT * FROM audit ORDER BY id DESC LIMIT $1 OFFSET $2", [limit, offset]).map(\.event)
        }
    }

    public func auditCount() async throws -> Int {
        try await read { s in try await s.value(Int.self, "SELECT count(*) FROM audit") ?? 0 }
    }

    public func projectNames(_ ecosystem: Ecosystem) async throws -> [String] {
        try await read { s in try await s.column(String.self, "SELECT name FROM project WHERE ecosystem = $1 ORDER BY name", [ecosystem.rawValue]) }
    }

    public func verifyAudit(anchors: [AuditHead]) async throws -> AuditVerification {
        AuditEvent.verify(try await read { s in try await s.fetch(AuditRow.self, "SELECT * FROM audit ORDER BY id").map(\.event) }, anchors: anchors)
    }

    // MARK: Tokens

    public func createToken(name: String, role: Role, expiresAt: Date?, actor: String, at: Date) async throws -> (token: APIToken, secret: String) {
        let secret = try APIToken.newSecret(name: name, expiresAt: expiresAt, at: at)
        let token = try await write { s -> APIToken in
            let id = try required(
                try await s.value(
                    Int64.self, "INSERT INTO token (name, role, secret_sha256, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    [name, role.rawValue, Digest.of(Array(secret.utf8)).hex, Timestamp.format(at), expiresAt.map(Timestamp.format)]),
                "token just written")
            try await Self.appendAudit(
                s, actor: actor, action: "token.created", object: "token/\(id)",
                details: ["name": name, "role": role.rawValue, "expires": expiresAt.map(Timestamp.format) ?? "never"], at: at)
            return APIToken(id: id, name: name, role: role, createdAt: at, expiresAt: expiresAt, revokedAt: nil)
        }
        return (token, secret)
    }

    public func tokens() async throws -> [APIToken] {
        try await read { s in try await s.fetch(TokenRow.self, "SELECT * FROM token ORDER BY id").map { try $0.token() } }
    }

    public func revokeToken(id: Int64, actor: String, at: Date) async throws {
        try await write { s in
            let changed = try await s.execute(
                "UPDATE token SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id", [Timestamp.format(at), id])
            guard changed == 1 else { throw AirlockError(.notFound, "no active token with id \(id)") }
            try await Self.appendAudit(s, actor: actor, action: "token.revoked", object: "token/\(id)", details: [:], at: at)
        }
    }

    public func token(secret: String) async throws -> APIToken? {
        let digest = Digest.of(Array(secret.utf8)).hex
        return try await read { s in
            guard let row = try await s.fetchOne(TokenRow.self, "SELECT * FROM token WHERE secret_sha256 = $1", [digest]) else { return nil }
            return APIToken.constantTimeEqual(Array(row.secretSha256.utf8), Array(digest.utf8)) ? try row.token() : nil
        }
    }

    // MARK: Misses

    public func recordMisses(_ misses: [Miss]) async throws {
        try await write { s in
            for m in misses {
                try await s.execute(
                    """
                    INSERT INTO miss (ecosystem, project, version, count, first_seen, last_seen, last_client) VALUES ($1, $2, $3, $4, $5, $6, $7)
                    ON CONFLICT (ecosystem, project, version) DO UPDATE SET count = least(miss.count + excluded.count, \(Miss.maxCount)),
                        first_seen = least(miss.first_seen, excluded.first_seen), last_seen = greatest(miss.last_seen, excluded.last_seen),
                        last_client = coalesce(excluded.last_client, miss.last_client)
                    """,
                    [
                        m.ecosystem.rawValue, m.project, m.version, min(max(m.count, 0), Miss.maxCount), Timestamp.format(m.firstSeen),
                        Timestamp.format(m.lastSeen),
                        m.lastClient,
                    ])
            }
            // Demand is bounded: past the cap, the least recently seen names go.
            try await s.execute(
                """
                DELETE FROM miss WHERE (ecosystem, project, version) IN
                    (SELECT ecosystem, project, version FROM miss ORDER BY last_seen DESC, ecosystem, project, version OFFSET $1)
                """, [Miss.maxStored])
        }
    }

    public func misses(_ ecosystem: Ecosystem?) async throws -> [Miss] {
        try await read { s in
            try await s.fetch(
                MissRow.self, "SELECT * FROM miss WHERE $1::text IS NULL OR ecosystem = $1 ORDER BY count DESC, last_seen DESC", [ecosystem?.rawValue]
            ).map { try $0.miss() }
        }
    }

    // MARK: Overrides and revocations

    public func addOverrides(_ ecosystem: Ecosystem, _ requests: [OverrideRequest], actor: String, at: Date, batch: AuditBatch?) async throws
        -> [Override]
    {
        try await write { s in
            var added: [Override] = []
            for r in requests { added.append(try await Self.insertOverride(s, ecosystem, r, actor, at, audited: batch == nil)) }
            if let batch {
                try await Self.appendAudit(
                    s, actor: actor, action: batch.action, object: batch.object,
                    details: batch.details.merging(["overrides": added.map { String($0.id) }.joined(separator: ",")]) { a, _ in a }, at: at)
            }
            return added
        }
    }

    public func withdrawOverride(id: Int64, reason: String, actor: String, at: Date) async throws -> Override {
        try await write { s in
            let why = try OverrideRequest.withdrawalReason(reason)
            guard let row = try await s.fetchOne(OverrideRow.self, "SELECT * FROM override WHERE id = $1 FOR UPDATE", [id]) else {
                throw AirlockError(.notFound, "no override with id \(id)")
            }
            try row.override().checkWithdrawable(at: at)
            try await s.execute(
                "UPDATE override SET withdrawn_at = $1, withdrawn_by = $2, withdrawn_reason = $3 WHERE id = $4",
                [Timestamp.format(at), actor, why, id])
            try await Self.appendAudit(
                s, actor: actor, action: "override.withdrawn", object: row.auditObject, details: ["override": String(id), "reason": why], at: at)
            return try required(try await s.fetchOne(OverrideRow.self, "SELECT * FROM override WHERE id = $1", [id]), "override just withdrawn")
                .override()
        }
    }

    public func recordedDigests(_ ecosystem: Ecosystem, project: String) async throws -> [String: Set<Digest>] {
        try await read { s in
            var out: [String: Set<Digest>] = [:]
            for row in try await s.query(
                "SELECT r.version, d.sha256 FROM \(Relation.files) WHERE p.ecosystem = $1 AND p.name = $2", [ecosystem.rawValue, project])
            {
                if let d = Digest(hex: try row.get("sha256", as: String.self)) { out[try row.get("version", as: String.self), default: []].insert(d) }
            }
            return out
        }
    }

    public func recordedMetadata(_ ecosystem: Ecosystem, project: String) async throws -> [String: Digest] {
        try await read { s in
            var out: [String: Digest] = [:]
            for row in try await s.query(
                "SELECT r.version, d.metadata_sha256 FROM \(Relation.files) WHERE p.ecosystem = $1 AND p.name = $2 AND d.metadata_sha256 IS NOT NULL ORDER BY d.filename",
                [ecosystem.rawValue, project])
            {
                let version = try row.get("version", as: String.self)
                if let d = Digest(hex: try row.get("metadata_sha256", as: String.self)), out[version] == nil { out[version] = d }
            }
            return out
        }
    }

    // MARK: Downloads

    public func recordDownloads(_ counts: [DownloadCount]) async throws {
        try await write { s in
            for c in counts {
                try await s.execute(
                    "INSERT INTO download (sha256, day, count) VALUES ($1, $2, $3) ON CONFLICT (sha256, day) DO UPDATE SET count = download.count + excluded.count",
                    [c.sha256.hex, c.day, c.count])
            }
        }
    }

    public func downloads(since day: String) async throws -> [DownloadCount] {
        try await read { s in
            try await s.query("SELECT sha256, day, count FROM download WHERE day >= $1 ORDER BY day, sha256", [day]).compactMap { row in
                let day = try row.get("day", as: String.self)
                let count = try row.get("count", as: Int.self)
                return Digest(hex: try row.get("sha256", as: String.self)).map { DownloadCount(sha256: $0, day: day, count: count) }
            }
        }
    }

    private static func insertOverride(
        _ s: PostgresSession, _ ecosystem: Ecosystem, _ r: OverrideRequest, _ actor: String, _ at: Date, audited: Bool
    ) async throws -> Override {
        let why = try r.checkedReason(at: at)
        let recorded = try await s.column(
            String.self, "SELECT r.version FROM \(Relation.releases) WHERE p.ecosystem = $1 AND p.name = $2", [ecosystem.rawValue, r.project])
        try r.check(against: recorded, ecosystem: ecosystem)
        let id = try required(
            try await s.value(
                Int64.self,
                "INSERT INTO override (ecosystem, project, versions, action, reason, actor, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                [
                    ecosystem.rawValue, r.project, r.versions.description, r.action.rawValue, why, actor, Timestamp.format(at),
                    r.expiresAt.map(Timestamp.format),
                ]), "override just written")
        if audited {
            try await appendAudit(
                s, actor: actor, action: "override.\(r.action.rawValue)", object: r.auditObject(ecosystem),
                details: ["override": String(id), "reason": why, "expires": r.expiresAt.map(Timestamp.format) ?? "never"], at: at)
        }
        return Override(
            id: id, ecosystem: ecosystem, project: r.project, versions: r.versions.description, action: r.action, reason: why, actor: actor,
            createdAt: at,
            expiresAt: r.expiresAt)
    }

    public func overrides(_ ecosystem: Ecosystem?, project: String?) async throws -> [Override] {
        try await read { s in try await Self.overrides(s, ecosystem, project: project) }
    }

    static func overrides(_ s: PostgresSession, _ ecosystem: Ecosystem?, project: String?) async throws -> [Override] {
        try await s.fetch(
            OverrideRow.self, "SELECT * FROM override WHERE ($1::text IS NULL OR ecosystem = $1) AND ($2::text IS NULL OR project = $2) ORDER BY id",
            [ecosystem?.rawValue, project]
        ).map { try $0.override() }
    }

    public func revoke(_ ecosystem: Ecosystem, project: String, version: String, reason: String, actor: String, at: Date) async throws -> Revocation {
        try await write { s in
            let why = reason.trimmingWhitespace()
            guard !why.isEmpty else { throw AirlockError(.invalidArgument, "a revocation needs a reason") }
            let exists =
                try await s.value(
                    Bool.self, "SELECT EXISTS (SELECT 1 FROM \(Relation.releases) WHERE p.ecosystem = $1 AND p.name = $2 AND r.version = $3)",
                    [ecosystem.rawValue, project, version]) ?? false
            guard exists else { throw AirlockError(.notFound, "\(ecosystem.rawValue) release '\(project) \(version)' is not in the catalog") }
            guard
                let id = try await s.value(
                    Int64.self,
                    "INSERT INTO revocation (ecosystem, project, version, reason, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
                    [ecosystem.rawValue, project, version, why, actor, Timestamp.format(at)])
            else { throw AirlockError(.invalidArgument, "'\(project) \(version)' is already revoked") }
            try await Self.appendAudit(
                s, actor: actor, action: "release.revoked", object: "\(ecosystem.rawValue)/\(project) \(version)", details: ["reason": why], at: at)
            return Revocation(id: id, ecosystem: ecosystem, project: project, version: version, reason: why, actor: actor, createdAt: at)
        }
    }

    public func revocations(_ ecosystem: Ecosystem?) async throws -> [Revocation] {
        try await read { s in
            try await s.fetch(
                RevocationRow.self, "SELECT * FROM revocation WHERE $1::text IS NULL OR ecosystem = $1 ORDER BY id", [ecosystem?.rawValue]
            )
            .map { try $0.revocation() }
        }
    }

    // MARK: Releases as reviewers see them

    public func releaseReviews(_ ecosystem: Ecosystem, project: String) async throws -> [ReleaseReview] {
        try await read { s in
            var revoked: [String: Revocation] = [:]
            for row in try await s.fetch(
                RevocationRow.self, "SELECT * FROM revocation WHERE ecosystem = $1 AND project = $2", [ecosystem.rawValue, project])
            {
                revoked[row.version] = try row.revocation()
            }
            let rows = try await s.query(
                """
                SELECT r.id, r.version, r.requires_dist, \(Relation.releaseProvenance),
                       EXISTS (SELECT 1 FROM distribution d JOIN membership m ON m.distribution_id = d.id
                               WHERE d.release_id = r.id AND m.removed_in IS NULL) AS served
                FROM \(Relation.releases)
                WHERE p.ecosystem = $1 AND p.name = $2
                """, [ecosystem.rawValue, project])
            let policy = try await Self.activePolicyDigest(s, ecosystem)
            var reviews: [ReleaseReview] = []
            for r in rows {
                let id: Int64 = try r.get("id")
                let version: String = try r.get("version")
                let decision = try await s.fetchOne(
                    DecisionRow.self, "SELECT * FROM decision WHERE release_id = $1 AND policy_digest = $2", [id, policy])
                reviews.append(
                    ReleaseReview(
                        ecosystem: ecosystem, project: project, version: version, decision: try decision?.decision(),
                        served: try r.get("served", as: Bool.self) && revoked[version] == nil, revocation: revoked[version],
                        dependencies: try decodeJSON([String].self, try r.get("requires_dist", as: String?.self), table: "release", key: id) ?? [],
                        provenance: try PublisherRecord.decode(
                            document: try r.get("provenance_document", as: String?.self),
                            publisher: try r.get("provenance_publisher", as: String?.self),
                            signedAt: try r.get("provenance_signed_at", as: String?.self), release: "\(project) \(version)")))
            }
            return reviews.sorted { VersionOrder.older($0.version, $1.version, ecosystem) }
        }
    }

    public func projectsToReview(_ ecosystem: Ecosystem) async throws -> [String] {
        try await read { s in
            try await s.column(
                String.self,
                """
                SELECT DISTINCT p.name FROM project p JOIN release r ON r.project_id = p.id
                JOIN decision c ON c.release_id = r.id AND c.policy_digest = $2
                WHERE p.ecosystem = $1 AND c.verdict = 'review'
                UNION SELECT m.project FROM miss m JOIN project p ON p.ecosystem = m.ecosystem AND p.name = m.project WHERE m.ecosystem = $1
                """, [ecosystem.rawValue, try await Self.activePolicyDigest(s, ecosystem)])
        }
    }

    public func heldReleases(_ ecosystem: Ecosystem) async throws -> [ReleaseKey: HeldRelease] {
        try await read { s in
            var out: [ReleaseKey: HeldRelease] = [:]
            for row in try await s.query("SELECT * FROM held WHERE ecosystem = $1", [ecosystem.rawValue]) {
                out[ReleaseKey(try row.get("project"), try row.get("version"))] = HeldRelease(
                    reason: try row.get("reason"), blockedBy: try row.get("blocked_by"))
            }
            return out
        }
    }

    public func setAside(_ ecosystem: Ecosystem) async throws -> [SetAsideRelease] {
        try await read { s in
            try await s.query("SELECT * FROM set_aside WHERE ecosystem = $1 ORDER BY project, version, id", [ecosystem.rawValue]).map {
                SetAsideRelease(
                    project: try $0.get("project"), version: try $0.get("version"), filename: try $0.get("filename"), check: try $0.get("check"),
                    error: try $0.get("error"), requiredBy: try $0.get("required_by"))
            }
        }
    }

    public func syncTargets(_ ecosystem: Ecosystem) async throws -> [String] {
        try await read { s in
            try decodeJSON(
                [String].self, try await s.value(String.self, "SELECT targets FROM ecosystem_state WHERE ecosystem = $1", [ecosystem.rawValue]),
                table: "ecosystem_state", key: ecosystem.rawValue) ?? []
        }
    }

    static func activePolicyDigest(_ s: PostgresSession, _ ecosystem: Ecosystem) async throws -> String? {
        try await s.value(String.self, "SELECT policy_digest FROM ecosystem_state WHERE ecosystem = $1", [ecosystem.rawValue])
    }
}
