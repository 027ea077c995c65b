public import AirlockCore
public import Foundation
import GRDB

extension SQLiteCatalog: ReleaseCatalog {
    public func record(_ ecosystem: Ecosystem, _ releases: [ReleaseRecord], at: Date) async throws -> [RecordedRelease] {
        try await write { db in
            var projectIDs: [String: Int64] = [:]
            return try releases.map { r in
                let projectID: Int64
                if let known = projectIDs[r.project.normalized] {
                    projectID = known
                } else {
                    projectID = try Self.upsertProject(db, ecosystem, r.project, people: r.people)
                    projectIDs[r.project.normalized] = projectID
                }
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
                        projectID, r.version, try r.requiresDist.map(encodeJSON), Timestamp.format(at), f.licenseExpression, f.licenseDeclared,
                        f.selectedBy, try encodeJSON(f.newMaintainerEmails), f.dependents, try encodeJSON(f.maintainersOtherProjects),
                    ])
                let releaseID = try required(
                    Int64.fetchOne(db, sql: "SELECT id FROM release WHERE project_id = ? AND version = ?", arguments: [projectID, r.version]),
                    "release \(r.version) of project \(projectID) just written")
                try db.execute(
                    sql:
                        "INSERT OR REPLACE INTO decision (release_id, policy_digest, verdict, score, factors, decided_at, serve_yanked) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        releaseID, r.decision.policyDigest, r.decision.verdict.rawValue, r.decision.score, try encodeJSON(r.decision.factors),
                        Timestamp.format(at), r.decision.serveYanked,
                    ])
                let files = try r.files.map {
                    try Self.upsertDistribution(db, releaseID: releaseID, $0.distribution, upstreamURL: $0.upstreamURL, at: at)
                }
                return RecordedRelease(releaseID: releaseID, fileIDs: files)
            }
        }
    }

    public func metadataDigest(ofFile digest: Digest) async throws -> Digest? {
        try await read { db in
            try parseDigest(
                try String.fetchOne(
                    db, sql: "SELECT metadata_sha256 FROM distribution WHERE sha256 = ? AND metadata_sha256 IS NOT NULL LIMIT 1",
                    arguments: [digest.hex]),
                table: "distribution", key: digest.hex)
        }
    }

    public func recordedFile(upstreamURL: String) async throws -> RecordedFile? {
        try await read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT sha256, metadata_sha256 FROM distribution WHERE upstream_url = ? ORDER BY id DESC LIMIT 1",
                    arguments: [upstreamURL])
            else { return nil }
            return RecordedFile(
                digest: try parseDigest(row["sha256"] as String, table: "distribution", key: upstreamURL),
                metadataDigest: try parseDigest(row["metadata_sha256"], table: "distribution", key: upstreamURL))
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
            arguments: [
                ecosystem.rawValue, name.normalized, name.display, people?.author, people?.authorEmail, people?.maintainer, people?.maintainerEmail,
            ])
        return try required(
            Int64.fetchOne(db, sql: "SELECT id FROM project WHERE ecosystem = ? AND name = ?", arguments: [ecosystem.rawValue, name.normalized]),
            "project \(name.normalized) just written")
    }

    /// Records a file. Without an upload time from the upstream, the first time it was recorded stands
    /// in (marked observed) until an upstream gives one; an upstream's time, once known, is kept.
    private static func upsertDistribution(_ db: Database, releaseID: Int64, _ d: Distribution, upstreamURL: String, at: Date) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO distribution (release_id, filename, kind, sha256, size, upload_time, upload_time_observed, requires_python, yanked, metadata_sha256, upstream_url)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (release_id, filename, sha256) DO UPDATE SET
                    yanked = excluded.yanked,
                    upload_time = CASE WHEN \(Relation.takesUploadTime) THEN excluded.upload_time ELSE upload_time END,
                    upload_time_observed = CASE WHEN \(Relation.takesUploadTime) THEN excluded.upload_time_observed ELSE upload_time_observed END,
                    requires_python = coalesce(excluded.requires_python, requires_python),
                    metadata_sha256 = coalesce(excluded.metadata_sha256, metadata_sha256), upstream_url = excluded.upstream_url
                """,
            arguments: [
                releaseID, d.filename, d.kind.rawValue, d.digest.hex, d.size, Timestamp.format(d.uploadTime ?? at), d.uploadTime == nil ? 1 : 0,
                d.requiresPython, d.yanked, d.metadataDigest?.hex, upstreamURL,
            ])
        return try required(
            Int64.fetchOne(
                db, sql: "SELECT id FROM distribution WHERE release_id = ? AND filename = ? AND sha256 = ?",
                arguments: [releaseID, d.filename, d.digest.hex]),
            "distribution \(d.filename) just written")
    }

    public func selection(_ ecosystem: Ecosystem) async throws -> [String] {
        try await read { db in
            try String.fetchAll(
                db, sql: "SELECT requirement FROM selection WHERE ecosystem = ? ORDER BY added_at, requirement", arguments: [ecosystem.rawValue])
        }
    }

    public func updateSelection(_ ecosystem: Ecosystem, adding requirements: [String], replace: Bool, at: Date) async throws {
        try await write { db in
            if replace { try db.execute(sql: "DELETE FROM selection WHERE ecosystem = ?", arguments: [ecosystem.rawValue]) }
            for r in requirements {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO selection (ecosystem, requirement, added_at) VALUES (?, ?, ?)",
                    arguments: [ecosystem.rawValue, r, Timestamp.format(at)])
            }
        }
    }

    public func candidateProjects(_ ecosystem: Ecosystem) async throws -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: Relation.candidateProjects(placeholder: "?"), arguments: [ecosystem.rawValue])
        }
    }

    public func projectEmails(_ ecosystem: Ecosystem) async throws -> [(project: String, people: ProjectPeople)] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT name, author_email, maintainer_email FROM project WHERE ecosystem = ? ORDER BY name", arguments: [ecosystem.rawValue]
            ).map { ($0["name"], ProjectPeople(authorEmail: $0["author_email"], maintainerEmail: $0["maintainer_email"])) }
        }
    }

    public func activePolicy(_ ecosystem: Ecosystem) async throws -> PolicySource? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT path, text FROM policy WHERE ecosystem = ? ORDER BY rowid DESC LIMIT 1", arguments: [ecosystem.rawValue]
            )
            .map { PolicySource(path: $0["path"], text: $0["text"]) }
        }
    }

    public func storedReleases(_ ecosystem: Ecosystem, project: String? = nil, version: String? = nil) async throws -> [StoredRelease] {
        try await read { db in
            let rows = try StoredReleaseRow.fetchAll(
                db,
                sql: """
                    SELECT r.id, p.name, p.display_name, r.version, p.author, p.author_email, p.maintainer, p.maintainer_email,
                           p.first_upload, p.last_upload, p.release_count, r.license_expression, r.license_declared, r.selected_by,
                           r.new_emails, r.dependents, r.maintainer_projects, r.requires_dist
                    FROM \(Relation.releases)
                    WHERE p.ecosystem = ? AND (?2 IS NULL OR p.name = ?2) AND (?3 IS NULL OR r.version = ?3)
                    ORDER BY p.name, r.id
                    """, arguments: [ecosystem.rawValue, project, version])
            return try rows.map { row in
                let files = try DistributionRow.fetchAll(
                    db, sql: Relation.recordedColumns + " WHERE d.release_id = ? ORDER BY d.filename", arguments: [row.id]
                )
                .map { try $0.distribution() }
                let decision = try DecisionRow.fetchOne(
                    db, sql: "SELECT * FROM decision WHERE release_id = ? ORDER BY decided_at DESC, rowid DESC LIMIT 1", arguments: [row.id])
                return StoredRelease(
                    project: ProjectName(normalized: row.name, display: row.displayName), version: row.version,
                    people: ProjectPeople(
                        author: row.author, authorEmail: row.authorEmail, maintainer: row.maintainer, maintainerEmail: row.maintainerEmail),
                    files: files, facts: try row.facts(), decision: try decision?.decision(), requiresDist: try row.dependencies())
            }
        }
    }

    public func contentScan(ofFile digest: Digest) async throws -> (scanner: Int, findings: [ContentFinding])? {
        let row = try await read { db in
            try Row.fetchOne(db, sql: "SELECT scanner, findings FROM content_scan WHERE sha256 = ?", arguments: [digest.hex]).map {
                ($0["scanner"] as Int, $0["findings"] as String)
            }
        }
        return try row.map { ($0.0, try ContentScanRecord.decode($0.1, digest: digest)) }
    }

    public func storeContentScan(ofFile digest: Digest, scanner: Int, findings: [ContentFinding]) async throws {
        let json = try ContentScanRecord.encode(findings)
        try await write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO content_scan (sha256, scanner, findings) VALUES (?, ?, ?)", arguments: [digest.hex, scanner, json])
        }
    }

    public func provenance(ofFile digest: Digest) async throws -> FileProvenance? {
        let row = try await read { db in
            try Row.fetchOne(db, sql: "SELECT document, publisher, signed_at FROM file_provenance WHERE sha256 = ?", arguments: [digest.hex]).map {
                ($0["document"] as String, $0["publisher"] as String, $0["signed_at"] as String)
            }
        }
        return try row.map { try PublisherRecord.decode($0.0, publisher: $0.1, signedAt: $0.2, file: digest) }
    }

    public func storeProvenance(_ provenance: FileProvenance, ofFile digest: Digest) async throws {
        let json = try PublisherRecord.encode(provenance.publisher)
        try await write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO file_provenance (sha256, document, identity, publisher, signed_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [digest.hex, provenance.document.hex, provenance.publisher.identity, json, Timestamp.format(provenance.signedAt)])
        }
    }

    public func servedAttestations(_ ecosystem: Ecosystem) async throws -> [(project: String, version: String, provenance: FileProvenance)] {
        let rows = try await read { db in
            try Row.fetchAll(db, sql: Relation.servedAttestations(placeholder: "?"), arguments: [ecosystem.rawValue]).map {
                ($0["name"] as String, $0["version"] as String, $0["document"] as String, $0["publisher"] as String, $0["signed_at"] as String)
            }
        }
        return try rows.map { ($0.0, $0.1, try PublisherRecord.decode(document: $0.2, publisher: $0.3, signedAt: $0.4, release: "\($0.0) \($0.1)")!) }
    }

    public func recordUpstreamProjects(_ ecosystem: Ecosystem, _ projects: [UpstreamProject], at: Date) async throws {
        try await write { db in
            for p in projects {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO upstream_project (ecosystem, name, page_url, status, reason, observed_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [ecosystem.rawValue, p.name, p.pageURL, p.status.status, p.status.reason, Timestamp.format(at)])
            }
        }
    }

    public func storeTrustedRoot(_ document: [UInt8], source: String, digest: Digest, at: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO trusted_root (id, document) VALUES (1, ?)", arguments: [String(decoding: document, as: UTF8.self)])
            try Self.noteImport(db, "sigstore-root", .pypi, source, digest, 1, at)
        }
    }

    public func trustedRoot() async throws -> [UInt8]? {
        try await read { db in try String.fetchOne(db, sql: "SELECT document FROM trusted_root WHERE id = 1").map { Array($0.utf8) } }
    }

    public func cachedResponse(url: String) async throws -> StoredResponse? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM response_cache WHERE url = ?", arguments: [url]).map {
                StoredResponse(
                    etag: $0["etag"], lastModified: $0["last_modified"], contentType: $0["content_type"], finalURL: $0["final_url"],
                    body: [UInt8]($0["body"] as Data), serial: $0["serial"])
            }
        }
    }

    public func storeResponse(url: String, _ r: StoredResponse) async throws {
        try await write { db in
            try db.execute(
                sql:
                    "INSERT OR REPLACE INTO response_cache (url, etag, last_modified, content_type, final_url, body, serial) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [url, r.etag, r.lastModified, r.contentType, r.finalURL, Data(r.body), r.serial])
        }
    }
}

extension SQLiteCatalog: FeedCatalog {
    public func replacePopularity(_ ecosystem: Ecosystem, _ downloads: [String: Int], source: String, digest: Digest, at: Date) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM popularity WHERE ecosystem = ?", arguments: [ecosystem.rawValue])
            for (project, count) in downloads {
                try db.execute(
                    sql: "INSERT INTO popularity (ecosystem, project, downloads) VALUES (?, ?, ?)", arguments: [ecosystem.rawValue, project, count])
            }
            try Self.noteImport(db, "popularity", ecosystem, source, digest, downloads.count, at)
        }
    }

    public func popularity(_ ecosystem: Ecosystem) async throws -> [String: Int]? {
        try await read { db in
            guard
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM feed_import WHERE kind = 'popularity' AND ecosystem = ?", arguments: [ecosystem.rawValue]) ?? 0 > 0
            else { return nil }
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT project, downloads FROM popularity WHERE ecosystem = ?", arguments: [ecosystem.rawValue]) {
                out[row["project"]] = row["downloads"]
            }
            return out
        }
    }

    public func storeAdvisories(_ ecosystem: Ecosystem, _ advisories: [StoredAdvisory], source: String, digest: Digest, at: Date) async throws {
        try await write { db in
            for a in advisories {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO advisory (ecosystem, project, id, document) VALUES (?, ?, ?, ?)",
                    arguments: [ecosystem.rawValue, a.project, a.id, a.document])
            }
            try Self.noteImport(db, "osv", ecosystem, source, digest, advisories.count, at)
        }
    }

    public func advisoryDocuments(_ ecosystem: Ecosystem) async throws -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT document FROM advisory WHERE ecosystem = ? ORDER BY project, id", arguments: [ecosystem.rawValue])
        }
    }

    private static func noteImport(
        _ db: Database, _ kind: String, _ ecosystem: Ecosystem, _ source: String, _ digest: Digest, _ entries: Int, _ at: Date
    ) throws {
        try db.execute(
            sql: "INSERT INTO feed_import (kind, ecosystem, source, sha256, entries, imported_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [kind, ecosystem.rawValue, source, digest.hex, entries, Timestamp.format(at)])
    }
}
