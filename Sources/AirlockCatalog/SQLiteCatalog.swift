public import AirlockCore
public import Foundation
import GRDB

/// The catalog in one SQLite file (WAL: the endpoint reads while a sync writes).
public final class SQLiteCatalog: SnapshotCatalog {
    private let pool: DatabasePool
    public let path: String

    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Migrations.migrator.migrate(pool)
        } catch {
            throw AirlockError(.catalog, "cannot open the catalog at \(path): \(error)")
        }
    }

    // MARK: Writing what a sync found

    /// Records a sync's releases, their files and decisions in one transaction; returns, for each
    /// release in order, the ids of its distributions.
    public func record(_ ecosystem: Ecosystem, _ releases: [ReleaseRecord], at: Date) throws -> [[Int64]] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try write { db in
            var projectIDs: [String: Int64] = [:]
            return try releases.map { r in
                let projectID: Int64
                if let known = projectIDs[r.project.normalized] {
                    projectID = known
                } else {
                    projectID = try Self.upsertProject(db, ecosystem, r.project, people: r.people)
                    projectIDs[r.project.normalized] = projectID
                }
                let deps = try r.requiresDist.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
                let f = r.facts
                try db.execute(
                    sql: "UPDATE project SET first_upload = ?, last_upload = ?, release_count = ? WHERE id = ?",
                    arguments: [f.firstUpload.map(Timestamp.format), f.lastUpload.map(Timestamp.format), f.releaseCount, projectID])
                try db.execute(
                    sql: """
                        INSERT INTO release (project_id, version, requires_dist, first_seen, license_expression, license_declared, selected_by, new_emails, dependents,
                                             maintainer_projects)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (project_id, version) DO UPDATE SET requires_dist = coalesce(excluded.requires_dist, requires_dist),
                            license_expression = excluded.license_expression, license_declared = excluded.license_declared,
                            selected_by = excluded.selected_by, new_emails = excluded.new_emails, dependents = excluded.dependents,
                            maintainer_projects = excluded.maintainer_projects
                        """,
                    arguments: [
                        projectID, r.version, deps, Timestamp.format(at), f.licenseExpression, f.licenseDeclared, f.selectedBy,
                        String(decoding: try encoder.encode(f.newMaintainerEmails), as: UTF8.self), f.dependents,
                        String(decoding: try encoder.encode(f.maintainersOtherProjects), as: UTF8.self),
                    ])
                let releaseID = try Int64.fetchOne(db, sql: "SELECT id FROM release WHERE project_id = ? AND version = ?", arguments: [projectID, r.version])!
                let factors = String(decoding: try encoder.encode(r.decision.factors), as: UTF8.self)
                try db.execute(
                    sql: "INSERT OR REPLACE INTO decision (release_id, policy_digest, verdict, score, factors, decided_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [releaseID, r.decision.policyDigest, r.decision.verdict.rawValue, r.decision.score, factors, Timestamp.format(at)])
                return try r.files.map { try Self.upsertDistribution(db, releaseID: releaseID, $0.distribution, upstreamURL: $0.upstreamURL) }
            }
        }
    }

    /// The core-metadata digest recorded for a file with this content digest, if any.
    public func metadataDigest(ofFile digest: Digest) throws -> Digest? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT metadata_sha256 FROM distribution WHERE sha256 = ? AND metadata_sha256 IS NOT NULL LIMIT 1", arguments: [digest.hex])
                .flatMap(Digest.init(hex:))
        }
    }

    /// The content and metadata digests last recorded for a file fetched from `upstreamURL`, if any.
    public func recordedFile(upstreamURL: String) throws -> (digest: Digest, metadataDigest: Digest?)? {
        try read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT sha256, metadata_sha256 FROM distribution WHERE upstream_url = ? ORDER BY id DESC LIMIT 1", arguments: [upstreamURL]),
                let digest = Digest(hex: row[0])
            else { return nil }
            return (digest, (row[1] as String?).flatMap(Digest.init(hex:)))
        }
    }

    private static func upsertProject(_ db: Database, _ ecosystem: Ecosystem, _ name: ProjectName, people: ProjectPeople?) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO project (ecosystem, name, display_name, author, author_email, maintainer, maintainer_email)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (ecosystem, name) DO UPDATE SET
                    author = coalesce(excluded.author, author), author_email = coalesce(excluded.author_email, author_email),
                    maintainer = coalesce(excluded.maintainer, maintainer), maintainer_email = coalesce(excluded.maintainer_email, maintainer_email)
                """,
            arguments: [ecosystem.rawValue, name.normalized, name.display, people?.author, people?.authorEmail, people?.maintainer, people?.maintainerEmail])
        return try Int64.fetchOne(db, sql: "SELECT id FROM project WHERE ecosystem = ? AND name = ?", arguments: [ecosystem.rawValue, name.normalized])!
    }

    private static func upsertDistribution(_ db: Database, releaseID: Int64, _ d: Distribution, upstreamURL: String) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO distribution (release_id, filename, kind, sha256, size, upload_time, requires_python, yanked, metadata_sha256, upstream_url)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (release_id, filename, sha256) DO UPDATE SET
                    yanked = excluded.yanked, upload_time = coalesce(upload_time, excluded.upload_time),
                    metadata_sha256 = coalesce(excluded.metadata_sha256, metadata_sha256), upstream_url = excluded.upstream_url
                """,
            arguments: [
                releaseID, d.filename, d.kind.rawValue, d.digest.hex, d.size, d.uploadTime.map(Timestamp.format),
                d.requiresPython, d.yanked, d.metadataDigest?.hex, upstreamURL,
            ])
        return try Int64.fetchOne(
            db, sql: "SELECT id FROM distribution WHERE release_id = ? AND filename = ? AND sha256 = ?",
            arguments: [releaseID, d.filename, d.digest.hex])!
    }

    // MARK: Selection

    /// The requirements a sync of this ecosystem mirrors, in the order they were added.
    public func selection(_ ecosystem: Ecosystem) throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT requirement FROM selection WHERE ecosystem = ? ORDER BY added_at, requirement", arguments: [ecosystem.rawValue])
        }
    }

    /// Adds requirements to the selection, or replaces it whole.
    public func updateSelection(_ ecosystem: Ecosystem, adding requirements: [String], replace: Bool, at: Date) throws {
        try write { db in
            if replace { try db.execute(sql: "DELETE FROM selection WHERE ecosystem = ?", arguments: [ecosystem.rawValue]) }
            for r in requirements {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO selection (ecosystem, requirement, added_at) VALUES (?, ?, ?)",
                    arguments: [ecosystem.rawValue, r, Timestamp.format(at)])
            }
        }
    }

    // MARK: Publishing

    /// Publishes a snapshot serving `distributionIDs` as reviewers amend them (active approve overrides
    /// add releases, deny overrides and revocations remove them), in one transaction: readers see the
    /// previous snapshot or this one, never a mix. Files in `yanking` are served yanked with that reason
    /// in this snapshot only. `beforeCommit` runs inside the transaction with the new snapshot, its
    /// files and the overrides that decided some of them (to write the manifest); if it throws, nothing
    /// is published. The publication (and a policy change) is appended to the audit log.
    @discardableResult
    public func publishSnapshot(
        _ ecosystem: Ecosystem, serving distributionIDs: Set<Int64>, yanking: [Int64: String] = [:], policyDigest: String, at: Date,
        activating policy: (path: String, text: String)? = nil, actor: String = "sync",
        beforeCommit: (Snapshot, [Distribution], [String: Override]) throws -> Void
    ) throws -> Snapshot {
        try write { db in
            if let policy {
                let previous = try String.fetchOne(
                    db, sql: "SELECT digest FROM policy WHERE ecosystem = ? ORDER BY rowid DESC LIMIT 1", arguments: [ecosystem.rawValue])
                try db.execute(
                    sql: "INSERT INTO policy (ecosystem, digest, path, text, activated_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [ecosystem.rawValue, policyDigest, policy.path, policy.text, Timestamp.format(at)])
                if previous != policyDigest {
                    try Self.appendAudit(
                        db, actor: actor, action: "policy.changed", object: "\(ecosystem.rawValue)/policy",
                        details: ["digest": policyDigest, "previous": previous ?? "none", "path": policy.path], at: at)
                }
            }
            let (served, overridden) = try Self.applyReviews(db, ecosystem, to: distributionIDs, at: at)
            try db.execute(
                sql: "INSERT INTO snapshot (ecosystem, published_at, policy_digest, distribution_count) VALUES (?, ?, ?, ?)",
                arguments: [ecosystem.rawValue, Timestamp.format(at), policyDigest, served.count])
            let id = db.lastInsertedRowID
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS publishing (distribution_id INTEGER PRIMARY KEY, yank_reason TEXT)")
            try db.execute(sql: "DELETE FROM publishing")
            for d in served { try db.execute(sql: "INSERT INTO publishing VALUES (?, ?)", arguments: [d, yanking[d]]) }
            try db.execute(
                sql: """
                    UPDATE membership SET removed_in = ?
                    WHERE removed_in IS NULL
                      AND distribution_id IN (SELECT d.id FROM distribution d JOIN release r ON r.id = d.release_id
                                              JOIN project p ON p.id = r.project_id WHERE p.ecosystem = ?)
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
            let snapshot = Snapshot(id: id, ecosystem: ecosystem, publishedAt: at, policyDigest: policyDigest, distributionCount: served.count)
            try Self.appendAudit(
                db, actor: actor, action: "snapshot.published", object: "\(ecosystem.rawValue)/\(id)",
                details: ["files": String(served.count), "policy": policyDigest], at: at)
            try beforeCommit(snapshot, try Self.files(db, in: snapshot), overridden)
            return snapshot
        }
    }

    // MARK: Decisions again

    /// The author and maintainer e-mail fields of every project recorded for an ecosystem.
    public func projectEmails(_ ecosystem: Ecosystem) throws -> [(project: String, people: ProjectPeople)] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT name, author_email, maintainer_email FROM project WHERE ecosystem = ? ORDER BY name", arguments: [ecosystem.rawValue]
            ).map { ($0[0], ProjectPeople(authorEmail: $0[1], maintainerEmail: $0[2])) }
        }
    }

    /// The policy file text the last snapshot with a policy was published under, with its path.
    public func activePolicy(_ ecosystem: Ecosystem) throws -> (path: String, text: String)? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT path, text FROM policy WHERE ecosystem = ? ORDER BY rowid DESC LIMIT 1", arguments: [ecosystem.rawValue])
                .map { ($0[0], $0[1]) }
        }
    }

    /// Recorded releases (of one project, optionally one version), each with its latest decision.
    public func storedReleases(_ ecosystem: Ecosystem, project: String? = nil, version: String? = nil) throws -> [StoredRelease] {
        try read { db in
            var sql = """
                SELECT r.id, p.name, p.display_name, r.version, p.author, p.author_email, p.maintainer, p.maintainer_email,
                       p.first_upload, p.last_upload, coalesce(p.release_count, 0), r.license_expression, r.license_declared, coalesce(r.selected_by, ''),
                       coalesce(r.new_emails, '[]'), coalesce(r.dependents, 0), coalesce(r.maintainer_projects, '[]')
                FROM release r JOIN project p ON p.id = r.project_id WHERE p.ecosystem = ?
                """
            var arguments: [any DatabaseValueConvertible] = [ecosystem.rawValue]
            if let project {
                sql += " AND p.name = ?"
                arguments.append(project)
            }
            if let version {
                sql += " AND r.version = ?"
                arguments.append(version)
            }
            let decoder = JSONDecoder()
            return try Row.fetchAll(db, sql: sql + " ORDER BY p.name, r.id", arguments: StatementArguments(arguments)).map { row in
                let releaseID: Int64 = row[0]
                let files = try Row.fetchAll(db, sql: Self.distributionColumns + " WHERE d.release_id = ? ORDER BY d.filename", arguments: [releaseID])
                    .map(Self.distribution)
                let decision = try Row.fetchOne(
                    db, sql: "SELECT verdict, score, factors, policy_digest FROM decision WHERE release_id = ? ORDER BY decided_at DESC, rowid DESC LIMIT 1",
                    arguments: [releaseID]
                ).map { d in
                    Decision(
                        verdict: Verdict(rawValue: d[0]) ?? .review, score: d[1],
                        factors: (try? decoder.decode([Decision.Factor].self, from: Data((d[2] as String).utf8))) ?? [], policyDigest: d[3])
                }
                return StoredRelease(
                    project: ProjectName(normalized: row[1], display: row[2]), version: row[3],
                    people: ProjectPeople(author: row[4], authorEmail: row[5], maintainer: row[6], maintainerEmail: row[7]), files: files,
                    facts: DecisionFacts(
                        firstUpload: (row[8] as String?).flatMap(Timestamp.parse), lastUpload: (row[9] as String?).flatMap(Timestamp.parse),
                        releaseCount: row[10], licenseExpression: row[11], licenseDeclared: row[12], selectedBy: row[13],
                        newMaintainerEmails: (try? decoder.decode([String].self, from: Data((row[14] as String).utf8))) ?? [], dependents: row[15],
                        maintainersOtherProjects: (try? decoder.decode([String].self, from: Data((row[16] as String).utf8))) ?? []),
                    decision: decision)
            }
        }
    }

    // MARK: SnapshotCatalog

    public func snapshot(_ ecosystem: Ecosystem, _ selector: SnapshotSelector) throws -> Snapshot? {
        try read { db in
            let columns = "SELECT id, ecosystem, published_at, policy_digest, distribution_count FROM snapshot"
            let row: Row?
            switch selector {
            case .latest:
                row = try Row.fetchOne(db, sql: "\(columns) WHERE ecosystem = ? ORDER BY id DESC LIMIT 1", arguments: [ecosystem.rawValue])
            case .id(let id):
                row = try Row.fetchOne(db, sql: "\(columns) WHERE ecosystem = ? AND id = ?", arguments: [ecosystem.rawValue, id])
            case .date:
                // Timestamps are fixed-width RFC 3339 UTC, so text order is time order.
                let end = Timestamp.format(selector.endOfDay!)
                row = try Row.fetchOne(
                    db, sql: "\(columns) WHERE ecosystem = ? AND published_at < ? ORDER BY id DESC LIMIT 1", arguments: [ecosystem.rawValue, end])
            }
            return row.map(Self.snapshot)
        }
    }

    public func snapshots(_ ecosystem: Ecosystem) throws -> [Snapshot] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, ecosystem, published_at, policy_digest, distribution_count FROM snapshot WHERE ecosystem = ? ORDER BY id",
                arguments: [ecosystem.rawValue]
            ).map(Self.snapshot)
        }
    }

    public func servedFiles(in snapshot: Snapshot) throws -> [Distribution] {
        try read { db in try Self.files(db, in: snapshot) }
    }

    public func servedFile(digest: Digest, filename: String) throws -> Distribution? {
        try read { db in
            try Row.fetchOne(
                db,
                sql: Self.distributionColumns + """
                     WHERE d.sha256 = ? AND d.filename = ?
                       AND EXISTS (SELECT 1 FROM membership m WHERE m.distribution_id = d.id)
                       AND NOT EXISTS (SELECT 1 FROM revocation v WHERE v.ecosystem = p.ecosystem AND v.project = p.name AND v.version = r.version)
                     LIMIT 1
                    """,
                arguments: [digest.hex, filename]
            ).map(Self.distribution)
        }
    }

    /// Membership ranges stored, across all snapshots: what snapshots cost.
    public func membershipRowCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM membership") ?? 0 }
    }

    // MARK: Rows

    static let distributionColumns = """
        SELECT p.ecosystem, p.name, p.display_name, r.version, d.filename, d.kind, d.sha256, d.size, d.upload_time,
               d.requires_python, d.yanked, d.metadata_sha256
        FROM distribution d JOIN release r ON r.id = d.release_id JOIN project p ON p.id = r.project_id
        """

    /// The distribution columns as a snapshot serves them: a policy's yank reason for that snapshot
    /// takes the place of the upstream's.
    private static let servedColumns = distributionColumns.replacingOccurrences(of: "d.yanked", with: "coalesce(m.yank_reason, d.yanked)")

    private static func files(_ db: Database, in snapshot: Snapshot) throws -> [Distribution] {
        try Row.fetchAll(
            db,
            sql: servedColumns + """
                 JOIN membership m ON m.distribution_id = d.id
                 WHERE p.ecosystem = ? AND m.added_in <= ? AND (m.removed_in IS NULL OR m.removed_in > ?)
                   AND NOT EXISTS (SELECT 1 FROM revocation v WHERE v.ecosystem = p.ecosystem AND v.project = p.name AND v.version = r.version)
                 ORDER BY p.name, d.filename
                """,
            arguments: [snapshot.ecosystem.rawValue, snapshot.id, snapshot.id]
        ).map(distribution)
    }

    static func distribution(_ row: Row) -> Distribution {
        Distribution(
            ecosystem: Ecosystem(rawValue: row[0]) ?? .pypi,
            project: ProjectName(normalized: row[1], display: row[2]),
            version: row[3], filename: row[4], kind: DistributionKind(rawValue: row[5]) ?? .sdist,
            digest: Digest(hex: row[6])!, size: row[7], uploadTime: (row[8] as String?).flatMap(Timestamp.parse),
            requiresPython: row[9], yanked: row[10], metadataDigest: (row[11] as String?).flatMap(Digest.init(hex:)))
    }

    static func snapshot(_ row: Row) -> Snapshot {
        Snapshot(
            id: row[0], ecosystem: Ecosystem(rawValue: row[1]) ?? .pypi, publishedAt: Timestamp.parse(row[2]) ?? Date(timeIntervalSince1970: 0),
            policyDigest: row[3], distributionCount: row[4])
    }

    // MARK: Feeds

    /// Replaces the download counts of an ecosystem with an imported feed.
    public func replacePopularity(_ ecosystem: Ecosystem, _ downloads: [String: Int], source: String, digest: Digest, at: Date) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM popularity WHERE ecosystem = ?", arguments: [ecosystem.rawValue])
            for (project, count) in downloads {
                try db.execute(sql: "INSERT INTO popularity (ecosystem, project, downloads) VALUES (?, ?, ?)", arguments: [ecosystem.rawValue, project, count])
            }
            try Self.noteImport(db, "popularity", ecosystem, source, digest, downloads.count, at)
        }
    }

    /// Download counts per project, or nil when no popularity feed was imported.
    public func popularity(_ ecosystem: Ecosystem) throws -> [String: Int]? {
        try read { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM feed_import WHERE kind = 'popularity' AND ecosystem = ?", arguments: [ecosystem.rawValue])! > 0
            else { return nil }
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT project, downloads FROM popularity WHERE ecosystem = ?", arguments: [ecosystem.rawValue]) {
                out[row[0]] = row[1]
            }
            return out
        }
    }

    /// Adds (or updates, by id and project) advisories, each kept as its JSON document.
    public func storeAdvisories(_ ecosystem: Ecosystem, _ advisories: [(id: String, project: String, document: String)], source: String, digest: Digest, at: Date) throws {
        try write { db in
            for a in advisories {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO advisory (ecosystem, project, id, document) VALUES (?, ?, ?, ?)",
                    arguments: [ecosystem.rawValue, a.project, a.id, a.document])
            }
            try Self.noteImport(db, "osv", ecosystem, source, digest, advisories.count, at)
        }
    }

    /// Every stored advisory document of an ecosystem, in a stable order.
    public func advisoryDocuments(_ ecosystem: Ecosystem) throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT document FROM advisory WHERE ecosystem = ? ORDER BY project, id", arguments: [ecosystem.rawValue])
        }
    }

    private static func noteImport(_ db: Database, _ kind: String, _ ecosystem: Ecosystem, _ source: String, _ digest: Digest, _ entries: Int, _ at: Date) throws {
        try db.execute(
            sql: "INSERT INTO feed_import (kind, ecosystem, source, sha256, entries, imported_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [kind, ecosystem.rawValue, source, digest.hex, entries, Timestamp.format(at)])
    }

    // MARK: Response cache (conditional requests)

    public func cachedResponse(url: String) throws -> (etag: String?, lastModified: String?, contentType: String?, finalURL: String, body: [UInt8])? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT etag, last_modified, content_type, final_url, body FROM response_cache WHERE url = ?", arguments: [url])
            else { return nil }
            let body: Data = row[4]
            return (row[0], row[1], row[2], row[3], [UInt8](body))
        }
    }

    public func storeResponse(url: String, etag: String?, lastModified: String?, contentType: String?, finalURL: String, body: [UInt8]) throws {
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO response_cache (url, etag, last_modified, content_type, final_url, body) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [url, etag, lastModified, contentType, finalURL, Data(body)])
        }
    }

    // MARK: Access

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let e as AirlockError {
            throw e
        } catch {
            throw AirlockError(.catalog, "catalog read failed in \(path): \(error)")
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch let e as AirlockError {
            throw e
        } catch {
            throw AirlockError(.catalog, "catalog write failed in \(path): \(error)")
        }
    }
}
