public import AirlockCore
public import Foundation
import GRDB

extension SQLiteCatalog {
    // MARK: Audit log

    /// Appends an event inside the caller's transaction, chained to the last one.
    static func appendAudit(_ db: Database, actor: String, action: String, object: String, details: [String: String], at: Date) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let detailText = String(decoding: try encoder.encode(details), as: UTF8.self)
        let last = try Row.fetchOne(db, sql: "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
        let id: Int64 = (last?[0] as Int64? ?? 0) + 1
        let prev: String = last?[1] ?? AuditEvent.genesis
        let stamp = Timestamp.format(at)
        let hash = AuditEvent.hash(id: id, at: stamp, actor: actor, action: action, object: object, details: detailText, prevHash: prev)
        try db.execute(
            sql: "INSERT INTO audit (id, at, actor, action, object, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [id, stamp, actor, action, object, detailText, prev, hash])
    }

    /// Appends one event on its own (login failures and other events with no other write).
    public func audit(actor: String, action: String, object: String, details: [String: String] = [:], at: Date = Date()) throws {
        try write { db in try Self.appendAudit(db, actor: actor, action: action, object: object, details: details, at: at) }
    }

    /// Events, newest first.
    public func auditEvents(limit: Int = 1000) throws -> [AuditEvent] {
        try read { db in try Self.auditRows(db, sql: "SELECT * FROM audit ORDER BY id DESC LIMIT ?", [limit]) }
    }

    /// Walks the whole chain: every event must carry the hash of the one before it and its own
    /// recomputed hash, with ids following one another.
    public func verifyAudit() throws -> AuditVerification {
        let events = try read { db in try Self.auditRows(db, sql: "SELECT * FROM audit ORDER BY id", []) }
        var problems: [String] = []
        var previous = AuditEvent.genesis
        var expectedID: Int64 = 1
        for e in events {
            if e.id != expectedID { problems.append("event \(e.id): expected event \(expectedID) here; events \(expectedID)…\(e.id - 1) are missing") }
            if e.prevHash != previous { problems.append("event \(e.id): does not follow the event before it (previous-hash mismatch): deleted or reordered events") }
            let recomputed = AuditEvent.hash(id: e.id, at: e.at, actor: e.actor, action: e.action, object: e.object, details: e.details, prevHash: e.prevHash)
            if recomputed != e.hash { problems.append("event \(e.id): its content does not match its hash: edited") }
            previous = e.hash
            expectedID = e.id + 1
        }
        return AuditVerification(events: events.count, problems: problems)
    }

    private static func auditRows(_ db: Database, sql: String, _ arguments: StatementArguments) throws -> [AuditEvent] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map {
            AuditEvent(id: $0["id"], at: $0["at"], actor: $0["actor"], action: $0["action"], object: $0["object"], details: $0["details"], prevHash: $0["prev_hash"], hash: $0["hash"])
        }
    }

    // MARK: Tokens

    /// Creates a token and returns its secret, shown once; only its SHA-256 is stored.
    public func createToken(name: String, role: Role, expiresAt: Date?, actor: String, at: Date = Date()) throws -> (token: APIToken, secret: String) {
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let secret = "airlock_" + bytes.map { String(format: "%02x", $0) }.joined()
        let token = try write { db -> APIToken in
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

    public func tokens() throws -> [APIToken] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM token ORDER BY id").map(Self.token) }
    }

    public func revokeToken(id: Int64, actor: String, at: Date = Date()) throws {
        try write { db in
            try db.execute(sql: "UPDATE token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [Timestamp.format(at), id])
            guard db.changesCount == 1 else { throw AirlockError(.notFound, "no active token with id \(id)") }
            try Self.appendAudit(db, actor: actor, action: "token.revoked", object: "token/\(id)", details: [:], at: at)
        }
    }

    /// The token whose secret this is, if it exists (valid or not: callers check `isValid`).
    /// The stored digest is found by index, then compared in constant time.
    public func token(secret: String) throws -> APIToken? {
        let digest = Digest.of(Array(secret.utf8)).hex
        return try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM token WHERE secret_sha256 = ?", arguments: [digest]) else { return nil }
            let stored: String = row["secret_sha256"]
            return Self.constantTimeEqual(Array(stored.utf8), Array(digest.utf8)) ? Self.token(row) : nil
        }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    private static func token(_ row: Row) -> APIToken {
        APIToken(
            id: row["id"], name: row["name"], role: Role(rawValue: row["role"]) ?? .reader, createdAt: Timestamp.parse(row["created_at"]) ?? Date(),
            expiresAt: (row["expires_at"] as String?).flatMap(Timestamp.parse), revokedAt: (row["revoked_at"] as String?).flatMap(Timestamp.parse))
    }

    // MARK: Misses

    /// Counts a request the endpoint could not serve.
    public func recordMiss(_ ecosystem: Ecosystem, project: String, version: String = "", client: String?, at: Date = Date()) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO miss (ecosystem, project, version, count, first_seen, last_seen, last_client) VALUES (?, ?, ?, 1, ?, ?, ?)
                    ON CONFLICT (ecosystem, project, version) DO UPDATE SET count = count + 1, last_seen = excluded.last_seen, last_client = excluded.last_client
                    """,
                arguments: [ecosystem.rawValue, project, version, Timestamp.format(at), Timestamp.format(at), client])
        }
    }

    public func misses(_ ecosystem: Ecosystem? = nil) throws -> [Miss] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM miss WHERE ? IS NULL OR ecosystem = ? ORDER BY count DESC, last_seen DESC",
                arguments: [ecosystem?.rawValue, ecosystem?.rawValue]
            ).map {
                Miss(
                    ecosystem: Ecosystem(rawValue: $0["ecosystem"]) ?? .pypi, project: $0["project"], version: $0["version"], count: $0["count"],
                    firstSeen: Timestamp.parse($0["first_seen"]) ?? Date(), lastSeen: Timestamp.parse($0["last_seen"]) ?? Date(), lastClient: $0["last_client"])
            }
        }
    }

    // MARK: Overrides and revocations

    /// Records an override (with its audit event) in one transaction. The release set it names must exist.
    public func addOverride(
        _ ecosystem: Ecosystem, project: String, versions: VersionRange, action: Override.Action, reason: String, expiresAt: Date?, actor: String,
        at: Date = Date()
    ) throws -> Override {
        try write { db in try Self.insertOverride(db, ecosystem, project, versions, action, reason, expiresAt, actor, at) }
    }

    /// Approves several releases together, or none: one transaction.
    public func approveTogether(
        _ ecosystem: Ecosystem, _ releases: [(project: String, version: String)], reason: String, expiresAt: Date?, actor: String, at: Date = Date()
    ) throws -> [Override] {
        try write { db in
            try releases.map { r in
                try Self.insertOverride(db, ecosystem, r.project, try VersionRange(r.version, ecosystem: ecosystem), .approve, reason, expiresAt, actor, at)
            }
        }
    }

    private static func insertOverride(
        _ db: Database, _ ecosystem: Ecosystem, _ project: String, _ versions: VersionRange, _ action: Override.Action, _ reason: String,
        _ expiresAt: Date?, _ actor: String, _ at: Date
    ) throws -> Override {
        let why = reason.trimmingWhitespace()
        guard !why.isEmpty else { throw AirlockError(.invalidArgument, "an override needs a reason") }
        if let expiresAt, expiresAt <= at { throw AirlockError(.invalidArgument, "the expiry \(Timestamp.format(expiresAt)) is already past") }
        let recorded = try String.fetchAll(
            db, sql: "SELECT r.version FROM release r JOIN project p ON p.id = r.project_id WHERE p.ecosystem = ? AND p.name = ?",
            arguments: [ecosystem.rawValue, project])
        guard recorded.contains(where: versions.contains) else {
            throw AirlockError(
                .notFound,
                recorded.isEmpty
                    ? "\(ecosystem.rawValue) project '\(project)' has never been synced; add it to the selection first (airlock sync \(ecosystem.rawValue) \(project))"
                    : "no recorded version of '\(project)' matches '\(versions)'; recorded: \(recorded.joined(separator: ", "))")
        }
        try db.execute(
            sql: "INSERT INTO override (ecosystem, project, versions, action, reason, actor, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [ecosystem.rawValue, project, versions.description, action.rawValue, why, actor, Timestamp.format(at), expiresAt.map(Timestamp.format)])
        let id = db.lastInsertedRowID
        try appendAudit(
            db, actor: actor, action: "override.\(action.rawValue)", object: "\(ecosystem.rawValue)/\(project)" + (versions.isAll ? "" : " \(versions)"),
            details: ["override": String(id), "reason": why, "expires": expiresAt.map(Timestamp.format) ?? "never"], at: at)
        return Override(
            id: id, ecosystem: ecosystem, project: project, versions: versions.description, action: action, reason: why, actor: actor, createdAt: at,
            expiresAt: expiresAt)
    }

    public func overrides(_ ecosystem: Ecosystem? = nil, project: String? = nil) throws -> [Override] {
        try read { db in try Self.overrides(db, ecosystem, project: project) }
    }

    static func overrides(_ db: Database, _ ecosystem: Ecosystem?, project: String? = nil) throws -> [Override] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM override WHERE (? IS NULL OR ecosystem = ?) AND (? IS NULL OR project = ?) ORDER BY id",
            arguments: [ecosystem?.rawValue, ecosystem?.rawValue, project, project]
        ).map {
            Override(
                id: $0["id"], ecosystem: Ecosystem(rawValue: $0["ecosystem"]) ?? .pypi, project: $0["project"], versions: $0["versions"],
                action: Override.Action(rawValue: $0["action"]) ?? .deny, reason: $0["reason"], actor: $0["actor"],
                createdAt: Timestamp.parse($0["created_at"]) ?? Date(), expiresAt: ($0["expires_at"] as String?).flatMap(Timestamp.parse))
        }
    }

    /// Revokes a release from every snapshot at once, with its audit event.
    public func revoke(_ ecosystem: Ecosystem, project: String, version: String, reason: String, actor: String, at: Date = Date()) throws -> Revocation {
        try write { db in
            let why = reason.trimmingWhitespace()
            guard !why.isEmpty else { throw AirlockError(.invalidArgument, "a revocation needs a reason") }
            let exists = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM release r JOIN project p ON p.id = r.project_id WHERE p.ecosystem = ? AND p.name = ? AND r.version = ?",
                arguments: [ecosystem.rawValue, project, version]) ?? false
            guard exists else { throw AirlockError(.notFound, "\(ecosystem.rawValue) release '\(project) \(version)' is not in the catalog") }
            try db.execute(
                sql: "INSERT INTO revocation (ecosystem, project, version, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [ecosystem.rawValue, project, version, why, actor, Timestamp.format(at)])
            guard db.changesCount == 1 else { throw AirlockError(.invalidArgument, "'\(project) \(version)' is already revoked") }
            let id = db.lastInsertedRowID
            try Self.appendAudit(db, actor: actor, action: "release.revoked", object: "\(ecosystem.rawValue)/\(project) \(version)", details: ["reason": why], at: at)
            return Revocation(id: id, ecosystem: ecosystem, project: project, version: version, reason: why, actor: actor, createdAt: at)
        }
    }

    public func revocations(_ ecosystem: Ecosystem? = nil) throws -> [Revocation] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM revocation WHERE ? IS NULL OR ecosystem = ? ORDER BY id", arguments: [ecosystem?.rawValue, ecosystem?.rawValue]).map {
                Revocation(
                    id: $0["id"], ecosystem: Ecosystem(rawValue: $0["ecosystem"]) ?? .pypi, project: $0["project"], version: $0["version"],
                    reason: $0["reason"], actor: $0["actor"], createdAt: Timestamp.parse($0["created_at"]) ?? Date())
            }
        }
    }

    /// The largest revocation id: changes whenever a release is revoked, so servers drop cached views.
    public func revocationStamp() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM revocation") ?? 0 }
    }

    /// The base set amended by reviewers: active approve overrides add their releases' files, active
    /// deny overrides and revocations remove them. Also returns, by `project==version`, the override
    /// that decided each release it changed.
    static func applyReviews(_ db: Database, _ ecosystem: Ecosystem, to base: Set<Int64>, at now: Date) throws -> (Set<Int64>, [String: Override]) {
        var served = base
        var decidedBy: [String: Override] = [:]
        let active = try overrides(db, ecosystem).filter { $0.isActive(at: now) }
        // Approvals first, then denials: a deny wins over an approve of the same release.
        for o in active.sorted(by: { ($0.action == .approve ? 0 : 1, $0.id) < ($1.action == .approve ? 0 : 1, $1.id) }) {
            guard let range = try? VersionRange(o.versions, ecosystem: ecosystem) else { continue }
            for row in try Row.fetchAll(db, sql: releaseFiles, arguments: [ecosystem.rawValue, o.project]) where range.contains(row[1]) {
                let id: Int64 = row[0]
                if o.action == .approve { served.insert(id) } else { served.remove(id) }
                decidedBy["\(o.project)==\(row[1] as String)"] = o
            }
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT d.id FROM revocation v JOIN project p ON p.ecosystem = v.ecosystem AND p.name = v.project
                JOIN release r ON r.project_id = p.id AND r.version = v.version JOIN distribution d ON d.release_id = r.id
                WHERE v.ecosystem = ?
                """, arguments: [ecosystem.rawValue])
        {
            served.remove(row[0])
        }
        return (served, decidedBy)
    }

    private static let releaseFiles = """
        SELECT d.id, r.version FROM distribution d JOIN release r ON r.id = d.release_id JOIN project p ON p.id = r.project_id
        WHERE p.ecosystem = ? AND p.name = ?
        """

    /// Publishes a new snapshot of what the latest one serves by policy, amended by the overrides and
    /// revocations in force now (an expired approval no longer applies). Writes its manifest.
    @discardableResult
    public func republish(_ ecosystem: Ecosystem, actor: String, manifests: ManifestWriter, at now: Date = Date()) throws -> Snapshot {
        let (latest, base, yanking, decisions) = try read { db -> (Snapshot?, Set<Int64>, [Int64: String], [String: Decision]) in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT id, ecosystem, published_at, policy_digest, distribution_count FROM snapshot WHERE ecosystem = ? ORDER BY id DESC LIMIT 1",
                arguments: [ecosystem.rawValue])
            else { return (nil, [], [:], [:]) }
            let latest = Self.snapshot(row)
            var base = Set<Int64>()
            var yanking: [Int64: String] = [:]
            var decisions: [String: Decision] = [:]
            let decoder = JSONDecoder()
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, m.yank_reason, p.name, r.version, c.verdict, c.score, c.factors, c.policy_digest
                    FROM membership m JOIN distribution d ON d.id = m.distribution_id JOIN release r ON r.id = d.release_id
                    JOIN project p ON p.id = r.project_id
                    LEFT JOIN decision c ON c.release_id = r.id AND c.policy_digest = ?
                    WHERE p.ecosystem = ? AND m.removed_in IS NULL
                    """, arguments: [latest.policyDigest, ecosystem.rawValue])
            {
                let verdict = (r[4] as String?).flatMap(Verdict.init(rawValue:))
                let factors = (r[6] as String?).flatMap { try? decoder.decode([Decision.Factor].self, from: Data($0.utf8)) } ?? []
                let decision = verdict.map { Decision(verdict: $0, score: r[5], factors: factors, policyDigest: r[7]) }
                decisions["\(r[2] as String)==\(r[3] as String)"] = decision
                // Served by policy (approved, or kept yanked for vulnerabilities) — not by an override.
                if verdict == .approve || (r[1] as String?) != nil {
                    base.insert(r[0])
                    if let reason = r[1] as String? { yanking[r[0]] = reason }
                }
            }
            return (latest, base, yanking, decisions)
        }
        guard let latest else { throw AirlockError(.notFound, "no \(ecosystem.rawValue) snapshot has been published yet; run a sync first") }
        return try publishSnapshot(ecosystem, serving: base, yanking: yanking, policyDigest: latest.policyDigest, at: now, actor: actor) { snapshot, files, overridden in
            try manifests.write(snapshot, files: files, decisions: decisions.merging(overridden.mapValues(\.decision)) { $1 })
        }
    }
}

extension SQLiteCatalog {
    // MARK: What reviewers read

    /// The review queue: releases the policy held for review and projects clients asked for that the
    /// catalog knows but no snapshot serves, by demand, then by risk (lowest score first).
    public func queue() throws -> [QueueEntry] {
        let reviews = try read { db -> [(ReleaseReview, Date?)] in
            var out: [(ReleaseReview, Date?)] = []
            for eco in Ecosystem.allCases {
                let projects = try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT p.name FROM project p JOIN release r ON r.project_id = p.id
                        JOIN decision c ON c.release_id = r.id AND c.policy_digest = (SELECT policy_digest FROM snapshot WHERE ecosystem = ? ORDER BY id DESC LIMIT 1)
                        WHERE p.ecosystem = ? AND c.verdict = 'review'
                        UNION SELECT m.project FROM miss m JOIN project p ON p.ecosystem = m.ecosystem AND p.name = m.project WHERE m.ecosystem = ?
                        """, arguments: [eco.rawValue, eco.rawValue, eco.rawValue])
                for project in projects {
                    let releases = try Self.releaseReviews(db, eco, project: project)
                    guard !releases.contains(where: \.served) else { continue }
                    let held = releases.last { $0.decision?.verdict == .review && $0.revocation == nil } ?? releases.last { $0.revocation == nil }
                    if let held { out.append((held, nil)) }
                }
            }
            return out
        }
        let demand = Dictionary(grouping: try misses(), by: { "\($0.ecosystem.rawValue)/\($0.project)" })
        return reviews.map { r, _ in
            let asked = demand["\(r.ecosystem.rawValue)/\(r.project)"] ?? []
            return QueueEntry(
                ecosystem: r.ecosystem, project: r.project, version: r.version, verdict: r.decision?.verdict ?? .review, score: r.decision?.score ?? 0,
                demand: asked.reduce(0) { $0 + $1.count }, lastRequested: asked.map(\.lastSeen).max(),
                reason: r.decision?.verdict == .review ? "policy" : "requested")
        }.sorted { ($0.demand, -$0.score, $0.project) > ($1.demand, -$1.score, $1.project) }
    }

    /// Every recorded release of a project, oldest first, with its decision under the latest
    /// snapshot's policy, whether the latest snapshot serves it, and any revocation.
    public func releaseReviews(_ ecosystem: Ecosystem, project: String) throws -> [ReleaseReview] {
        try read { db in try Self.releaseReviews(db, ecosystem, project: project) }
    }

    static func releaseReviews(_ db: Database, _ ecosystem: Ecosystem, project: String) throws -> [ReleaseReview] {
        let decoder = JSONDecoder()
        let revoked = Dictionary(
            try Row.fetchAll(db, sql: "SELECT * FROM revocation WHERE ecosystem = ? AND project = ?", arguments: [ecosystem.rawValue, project]).map { row in
                (row["version"] as String, Revocation(
                    id: row["id"], ecosystem: ecosystem, project: project, version: row["version"], reason: row["reason"], actor: row["actor"],
                    createdAt: Timestamp.parse(row["created_at"]) ?? Date()))
            }, uniquingKeysWith: { a, _ in a })
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT r.version, r.requires_dist, c.verdict, c.score, c.factors, c.policy_digest,
                       EXISTS (SELECT 1 FROM distribution d JOIN membership m ON m.distribution_id = d.id
                               WHERE d.release_id = r.id AND m.removed_in IS NULL) AS served
                FROM release r JOIN project p ON p.id = r.project_id
                LEFT JOIN decision c ON c.release_id = r.id
                     AND c.policy_digest = (SELECT policy_digest FROM snapshot WHERE ecosystem = p.ecosystem ORDER BY id DESC LIMIT 1)
                WHERE p.ecosystem = ? AND p.name = ?
                """, arguments: [ecosystem.rawValue, project])
        return rows.map { r in
            let verdict = (r[2] as String?).flatMap(Verdict.init(rawValue:))
            let decision = verdict.map {
                Decision(
                    verdict: $0, score: r[3], factors: (r[4] as String?).flatMap { try? decoder.decode([Decision.Factor].self, from: Data($0.utf8)) } ?? [],
                    policyDigest: r[5])
            }
            let deps = (r[1] as String?).flatMap { try? decoder.decode([String].self, from: Data($0.utf8)) } ?? []
            let version: String = r[0]
            return ReleaseReview(
                ecosystem: ecosystem, project: project, version: version, decision: decision, served: r[6] && revoked[version] == nil,
                revocation: revoked[version], dependencies: deps)
        }.sorted { VersionOrder.older($0.version, $1.version, ecosystem) }
    }

    /// What approving a release would pull in: its dependencies, recursively, each as the newest
    /// recorded version meeting the requirement, with its own decision. Dependencies the catalog has
    /// never recorded are listed with no version.
    public func closure(_ ecosystem: Ecosystem, project: String, version: String) throws -> [ReleaseReview] {
        try read { db in
            var out: [ReleaseReview] = []
            var seen: Set<String> = [project]
            guard var pending = try Self.releaseReviews(db, ecosystem, project: project).first(where: { $0.version == version }).map({ [$0] }) else {
                throw AirlockError(.notFound, "\(ecosystem.rawValue) release '\(project) \(version)' is not in the catalog")
            }
            while let next = pending.popLast() {
                for (name, accepts) in Self.dependencies(of: next, ecosystem) where seen.insert(name).inserted {
                    let candidates = try Self.releaseReviews(db, ecosystem, project: name).filter { accepts($0.version) && $0.revocation == nil }
                    guard let pick = candidates.last else {
                        out.append(ReleaseReview(ecosystem: ecosystem, project: name, version: "", decision: nil, served: false, revocation: nil, dependencies: []))
                        continue
                    }
                    out.append(pick)
                    pending.append(pick)
                }
            }
            return out
        }
    }

    /// Dependency names of a release with a test for acceptable versions. PyPI requirements that
    /// apply only with an extra are left out.
    private static func dependencies(of release: ReleaseReview, _ ecosystem: Ecosystem) -> [(String, (String) -> Bool)] {
        switch ecosystem {
        case .pypi:
            return release.dependencies.compactMap { text in
                guard let req = try? Requirement(parsing: text), !(req.marker?.description.contains("extra") ?? false) else { return nil }
                return (req.name.normalized, { v in PythonVersion(v).map { req.specifier.contains($0, prereleases: true) } ?? false })
            }
        case .cran:
            return release.dependencies.flatMap { (try? RDependency.parseField($0, source: "catalog")) ?? [] }.map { dep in
                (dep.name, { v in RVersion(v).map(dep.accepts) ?? false })
            }
        }
    }
}

/// Version order per ecosystem: PEP 440 for PyPI, R's `package_version` for CRAN.
public enum VersionOrder {
    public static func older(_ a: String, _ b: String, _ ecosystem: Ecosystem) -> Bool {
        switch ecosystem {
        case .pypi:
            guard let x = PythonVersion(a), let y = PythonVersion(b) else { return a < b }
            return x < y
        case .cran:
            guard let x = RVersion(a), let y = RVersion(b) else { return a < b }
            return x < y
        }
    }
}

/// The reviewers' acts, shared by the API, the web UI and the CLI: each records its override or
/// revocation (audited) and publishes a new snapshot at once, so the requester can install right away.
public struct ReviewDesk: Sendable {
    public let catalog: SQLiteCatalog
    public let manifests: ManifestWriter

    public init(catalog: SQLiteCatalog, dataDirectory: String) {
        self.catalog = catalog
        self.manifests = ManifestWriter(directory: dataDirectory + "/snapshots")
    }

    /// Approves a release range; with `withDependencies`, also the newest recorded version of every
    /// dependency in its closure that the latest snapshot does not serve — all in one transaction, or none.
    public func approve(
        _ ecosystem: Ecosystem, project: String, versions: String, reason: String, expiresAt: Date?, withDependencies: Bool, actor: String
    ) throws -> (overrides: [Override], snapshot: Snapshot) {
        let range = try VersionRange(versions, ecosystem: ecosystem)
        var releases = [(project: project, version: versions)]
        if withDependencies {
            let versionsInRange = try catalog.releaseReviews(ecosystem, project: project).filter { range.contains($0.version) }
            for release in versionsInRange {
                for dep in try catalog.closure(ecosystem, project: project, version: release.version) where !dep.served {
                    guard !dep.version.isEmpty else {
                        throw AirlockError(.resolution, "'\(dep.project)', a dependency of \(project) \(release.version), has never been synced; sync it before approving")
                    }
                    if !releases.contains(where: { $0.project == dep.project && $0.version == dep.version }) { releases.append((dep.project, dep.version)) }
                }
            }
        }
        let overrides = try catalog.approveTogether(ecosystem, releases, reason: reason, expiresAt: expiresAt, actor: actor)
        return (overrides, try catalog.republish(ecosystem, actor: actor, manifests: manifests))
    }

    public func deny(_ ecosystem: Ecosystem, project: String, versions: String, reason: String, expiresAt: Date?, actor: String) throws -> (Override, Snapshot) {
        let o = try catalog.addOverride(
            ecosystem, project: project, versions: try VersionRange(versions, ecosystem: ecosystem), action: .deny, reason: reason, expiresAt: expiresAt, actor: actor)
        return (o, try catalog.republish(ecosystem, actor: actor, manifests: manifests))
    }

    public func revoke(_ ecosystem: Ecosystem, project: String, version: String, reason: String, actor: String) throws -> (Revocation, Snapshot) {
        let r = try catalog.revoke(ecosystem, project: project, version: version, reason: reason, actor: actor)
        return (r, try catalog.republish(ecosystem, actor: actor, manifests: manifests))
    }
}

extension SQLiteCatalog {
    /// The revocation covering the file with this digest, if it was revoked.
    public func revocation(ofFile digest: Digest) throws -> Revocation? {
        try read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT v.* FROM revocation v JOIN project p ON p.ecosystem = v.ecosystem AND p.name = v.project
                    JOIN release r ON r.project_id = p.id AND r.version = v.version JOIN distribution d ON d.release_id = r.id
                    WHERE d.sha256 = ? LIMIT 1
                    """, arguments: [digest.hex]
            ).map {
                Revocation(
                    id: $0["id"], ecosystem: Ecosystem(rawValue: $0["ecosystem"]) ?? .pypi, project: $0["project"], version: $0["version"],
                    reason: $0["reason"], actor: $0["actor"], createdAt: Timestamp.parse($0["created_at"]) ?? Date())
            }
        }
    }
}
