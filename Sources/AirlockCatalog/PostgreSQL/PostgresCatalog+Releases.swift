public import AirlockCore
public import Foundation
import NIOCore
import PostgresNIO

extension PostgresCatalog: ReleaseCatalog {
    public func record(_ ecosystem: Ecosystem, _ releases: [ReleaseRecord], at: Date) async throws -> [RecordedRelease] {
        try await write { s in
            var projectIDs: [String: Int64] = [:]
            var recorded: [RecordedRelease] = []
            for r in releases {
                let projectID: Int64
                if let known = projectIDs[r.project.normalized] {
                    projectID = known
                } else {
                    projectID = try await Self.upsertProject(s, ecosystem, r.project, people: r.people)
                    projectIDs[r.project.normalized] = projectID
                }
                let f = r.facts
                try await s.execute(
                    "UPDATE project SET first_upload = $1, last_upload = $2, release_count = $3 WHERE id = $4",
                    [f.firstUpload.map(Timestamp.format), f.lastUpload.map(Timestamp.format), f.releaseCount, projectID])
                let releaseID = try required(
                    try await s.value(
                        Int64.self,
                        """
                        INSERT INTO release (project_id, version, requires_dist, first_seen, license_expression, license_declared, selected_by, new_emails, dependents,
                                             maintainer_projects)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                        ON CONFLICT (project_id, version) DO UPDATE SET requires_dist = coalesce(excluded.requires_dist, release.requires_dist),
                            license_expression = excluded.license_expression, license_declared = excluded.license_declared,
                            selected_by = excluded.selected_by, new_emails = excluded.new_emails, dependents = excluded.dependents,
                            maintainer_projects = excluded.maintainer_projects
                        RETURNING id
                        """,
                        [
                            projectID, r.version, try r.requiresDist.map(encodeJSON), Timestamp.format(at), f.licenseExpression, f.licenseDeclared,
                            f.selectedBy, try encodeJSON(f.newMaintainerEmails), f.dependents, try encodeJSON(f.maintainersOtherProjects),
                        ]), "release \(r.version) of project \(projectID) just written")
                try await s.execute(
                    """
                    INSERT INTO decision (release_id, policy_digest, verdict, score, factors, decided_at, serve_yanked) VALUES ($1, $2, $3, $4, $5, $6, $7)
                    ON CONFLICT (release_id, policy_digest) DO UPDATE SET verdict = excluded.verdict, score = excluded.score, factors = excluded.factors,
                        decided_at = excluded.decided_at, serve_yanked = excluded.serve_yanked, seq = nextval(pg_get_serial_sequence('decision', 'seq'))
                    """,
                    [
                        releaseID, r.decision.policyDigest, r.decision.verdict.rawValue, r.decision.score, try encodeJSON(r.decision.factors),
                        Timestamp.format(at), r.decision.serveYanked,
                    ])
                var files: [Int64] = []
                for file in r.files {
                    files.append(try await Self.upsertDistribution(s, releaseID: releaseID, file.distribution, upstreamURL: file.upstreamURL, at: at))
                }
                recorded.append(RecordedRelease(releaseID: releaseID, fileIDs: files))
            }
            return recorded
        }
    }

    public func metadataDigest(ofFile digest: Digest) async throws -> Digest? {
        try await read { s in
            try parseDigest(
                try await s.value(
                    String.self, "SELECT metadata_sha256 FROM distribution WHERE sha256 = $1 AND metadata_sha256 IS NOT NULL LIMIT 1", [digest.hex]),
                table: "distribution", key: digest.hex)
        }
    }

    public func recordedFile(upstreamURL: String) async throws -> RecordedFile? {
        try await read { s in
            guard
                let row = try await s.query(
                    "SELECT sha256, metadata_sha256 FROM distribution WHERE upstream_url = $1 ORDER BY id DESC LIMIT 1", [upstreamURL]
                ).first
            else { return nil }
            return RecordedFile(
                digest: try parseDigest(try row.get("sha256", as: String.self), table: "distribution", key: upstreamURL),
                metadataDigest: try parseDigest(try row.get("metadata_sha256", as: String?.self), table: "distribution", key: upstreamURL))
        }
    }

    private static func upsertProject(_ s: PostgresSession, _ ecosystem: Ecosystem, _ name: ProjectName, people: ProjectPeople?) async throws -> Int64
    {
        try required(
            try await s.value(
                Int64.self,
                """
                INSERT INTO project (ecosystem, name, display_name, author, author_email, maintainer, maintainer_email)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (ecosystem, name) DO UPDATE SET
                    author = coalesce(excluded.author, project.author), author_email = coalesce(excluded.author_email, project.author_email),
                    maintainer = coalesce(excluded.maintainer, project.maintainer), maintainer_email = coalesce(excluded.maintainer_email, project.maintainer_email)
                RETURNING id
                """,
                [ecosystem.rawValue, name.normalized, name.display, people?.author, people?.authorEmail, people?.maintainer, people?.maintainerEmail]),
            "project \(name.normalized) just written")
    }

    /// Records a file (upload times as on SQLite: see `SQLiteCatalog.upsertDistribution`).
    private static func upsertDistribution(_ s: PostgresSession, releaseID: Int64, _ d: Distribution, upstreamURL: String, at: Date) async throws
        -> Int64
    {
        try required(
            try await s.value(
                Int64.self,
                """
                INSERT INTO distribution (release_id, filename, kind, sha256, size, upload_time, upload_time_observed, requires_python, yanked, metadata_sha256, upstream_url)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                ON CONFLICT (release_id, filename, sha256) DO UPDATE SET
                    yanked = excluded.yanked,
                    upload_time = CASE WHEN \(Relation.takesUploadTime) THEN excluded.upload_time ELSE distribution.upload_time END,
                    upload_time_observed = CASE WHEN \(Relation.takesUploadTime) THEN excluded.upload_time_observed ELSE distribution.upload_time_observed END,
                    requires_python = coalesce(excluded.requires_python, distribution.requires_python),
                    metadata_sha256 = coalesce(excluded.metadata_sha256, distribution.metadata_sha256), upstream_url = excluded.upstream_url
                RETURNING id
                """,
                [
                    releaseID, d.filename, d.kind.rawValue, d.digest.hex, d.size, Timestamp.format(d.uploadTime ?? at), d.uploadTime == nil ? 1 : 0,
                    d.requiresPython, d.yanked, d.metadataDigest?.hex, upstreamURL,
                ]), "distribution \(d.filename) just written")
    }

    public func selection(_ ecosystem: Ecosystem) async throws -> [String] {
        try await read { s in
            try await s.column(
                String.self, "SELECT requirement FROM selection WHERE ecosystem = $1 ORDER BY added_at, requirement", [ecosystem.rawValue])
        }
    }

    public func updateSelection(_ ecosystem: Ecosystem, adding requirements: [String], replace: Bool, at: Date) async throws {
        try await write { s in
            if replace { try await s.execute("DELETE FROM selection WHERE ecosystem = $1", [ecosystem.rawValue]) }
            for r in requirements {
                try await s.execute(
                    "INSERT INTO selection (ecosystem, requirement, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    [ecosystem.rawValue, r, Timestamp.format(at)])
            }
        }
    }

    public func candidateProjects(_ ecosystem: Ecosystem) async throws -> [String] {
        try await read { s in
            try await s.query(Relation.candidateProjects(placeholder: "$1"), [ecosystem.rawValue]).map { try $0.get("name", as: String.self) }
        }
    }

    public func projectEmails(_ ecosystem: Ecosystem) async throws -> [(project: String, people: ProjectPeople)] {
        let rows = try await read { s in
            try await s.query("SELECT name, author_email, maintainer_email FROM project WHERE ecosystem = $1 ORDER BY name", [ecosystem.rawValue]).map
            {
                PersonRow(name: try $0.get("name"), authorEmail: try $0.get("author_email"), maintainerEmail: try $0.get("maintainer_email"))
            }
        }
        return rows.map { ($0.name, ProjectPeople(authorEmail: $0.authorEmail, maintainerEmail: $0.maintainerEmail)) }
    }

    private struct PersonRow: Sendable {
        let name: String
        let authorEmail: String?
        let maintainerEmail: String?
    }

    public func activePolicy(_ ecosystem: Ecosystem) async throws -> PolicySource? {
        try await read { s in
            try await s.query("SELECT path, text FROM policy WHERE ecosystem = $1 ORDER BY id DESC LIMIT 1", [ecosystem.rawValue]).first
                .map { PolicySource(path: try $0.get("path"), text: try $0.get("text")) }
        }
    }

    public func storedReleases(_ ecosystem: Ecosystem, project: String? = nil, version: String? = nil) async throws -> [StoredRelease] {
        try await read { s in
            let rows = try await s.fetch(
                StoredReleaseRow.self,
                """
                SELECT r.id, p.name, p.display_name, r.version, p.author, p.author_email, p.maintainer, p.maintainer_email,
                       p.first_upload, p.last_upload, p.release_count, r.license_expression, r.license_declared, r.selected_by,
                       r.new_emails, r.dependents, r.maintainer_projects, r.requires_dist
                FROM \(Relation.releases)
                WHERE p.ecosystem = $1 AND ($2::text IS NULL OR p.name = $2) AND ($3::text IS NULL OR r.version = $3)
                ORDER BY p.name, r.id
                """, [ecosystem.rawValue, project, version])
            var out: [StoredRelease] = []
            for row in rows {
                let files = try await s.fetch(
                    DistributionRow.self, Relation.recordedColumns + " WHERE d.release_id = $1 ORDER BY d.filename", [row.id]
                )
                .map { try $0.distribution() }
                let decision = try await s.fetchOne(
                    DecisionRow.self, "SELECT * FROM decision WHERE release_id = $1 ORDER BY decided_at DESC, seq DESC LIMIT 1", [row.id])
                out.append(
                    StoredRelease(
                        project: ProjectName(normalized: row.name, display: row.displayName), version: row.version,
                        people: ProjectPeople(
                            author: row.author, authorEmail: row.authorEmail, maintainer: row.maintainer, maintainerEmail: row.maintainerEmail),
                        files: files, facts: try row.facts(), decision: try decision?.decision(), requiresDist: try row.dependencies()))
            }
            return out
        }
    }

    public func contentScan(ofFile digest: Digest) async throws -> (scanner: Int, findings: [ContentFinding])? {
        let row = try await read { s in
            try await s.query("SELECT scanner, findings FROM content_scan WHERE sha256 = $1", [digest.hex]).first.map {
                (Int(try $0.get("scanner", as: Int64.self)), try $0.get("findings", as: String.self))
            }
        }
        return try row.map { ($0.0, try ContentScanRecord.decode($0.1, digest: digest)) }
    }

    public func storeContentScan(ofFile digest: Digest, scanner: Int, findings: [ContentFinding]) async throws {
        let json = try ContentScanRecord.encode(findings)
        _ = try await write { s in
            try await s.execute(
                """
                INSERT INTO content_scan (sha256, scanner, findings) VALUES ($1, $2, $3)
                ON CONFLICT (sha256) DO UPDATE SET scanner = excluded.scanner, findings = excluded.findings
                """, [digest.hex, Int64(scanner), json])
        }
    }

    public func provenance(ofFile digest: Digest) async throws -> FileProvenance? {
        let row = try await read { s in
            try await s.query("SELECT document, publisher, signed_at FROM file_provenance WHERE sha256 = $1", [digest.hex]).first.map {
                (try $0.get("document", as: String.self), try $0.get("publisher", as: String.self), try $0.get("signed_at", as: String.self))
            }
        }
        return try row.map { try PublisherRecord.decode($0.0, publisher: $0.1, signedAt: $0.2, file: digest) }
    }

    public func storeProvenance(_ provenance: FileProvenance, ofFile digest: Digest) async throws {
        let json = try PublisherRecord.encode(provenance.publisher)
        _ = try await write { s in
            try await s.execute(
                """
                INSERT INTO file_provenance (sha256, document, identity, publisher, signed_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (sha256) DO UPDATE SET document = excluded.document, identity = excluded.identity, publisher = excluded.publisher,
                    signed_at = excluded.signed_at
                """, [digest.hex, provenance.document.hex, provenance.publisher.identity, json, Timestamp.format(provenance.signedAt)])
        }
    }

    public func servedAttestations(_ ecosystem: Ecosystem) async throws -> [(project: String, version: String, provenance: FileProvenance)] {
        let rows = try await read { s in
            try await s.query(Relation.servedAttestations(placeholder: "$1"), [ecosystem.rawValue]).map {
                (
                    try $0.get("name", as: String.self), try $0.get("version", as: String.self), try $0.get("document", as: String.self),
                    try $0.get("publisher", as: String.self), try $0.get("signed_at", as: String.self)
                )
            }
        }
        return try rows.map { ($0.0, $0.1, try PublisherRecord.decode(document: $0.2, publisher: $0.3, signedAt: $0.4, release: "\($0.0) \($0.1)")!) }
    }

    public func recordUpstreamProjects(_ ecosystem: Ecosystem, _ projects: [UpstreamProject], at: Date) async throws {
        guard !projects.isEmpty else { return }
        try await write { s in
            try await s.execute(
                """
                INSERT INTO upstream_project (ecosystem, name, page_url, status, reason, observed_at)
                SELECT $1, n, u, st, NULLIF(r, ''), t FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(n, u, st, r, t)
                ON CONFLICT (ecosystem, name) DO UPDATE SET page_url = excluded.page_url, status = excluded.status, reason = excluded.reason,
                    observed_at = excluded.observed_at
                """,
                [
                    ecosystem.rawValue, PostgresArray(projects.map(\.name)), PostgresArray(projects.map(\.pageURL)),
                    PostgresArray(projects.map(\.status.status)),
                    PostgresArray(projects.map { $0.status.reason ?? "" }), PostgresArray(projects.map { _ in Timestamp.format(at) }),
                ])
        }
    }

    public func storeTrustedRoot(_ document: [UInt8], source: String, digest: Digest, at: Date) async throws {
        try await write { s in
            try await s.execute(
                "INSERT INTO trusted_root (id, document) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET document = excluded.document",
                [String(decoding: document, as: UTF8.self)])
            try await Self.noteImport(s, "sigstore-root", .pypi, source, digest, 1, at)
        }
    }

    public func trustedRoot() async throws -> [UInt8]? {
        try await read { s in try await s.value(String.self, "SELECT document FROM trusted_root WHERE id = 1", []).map { Array($0.utf8) } }
    }

    public func cachedResponse(url: String) async throws -> StoredResponse? {
        try await read { s in
            try await s.query("SELECT * FROM response_cache WHERE url = $1", [url]).first.map {
                StoredResponse(
                    etag: try $0.get("etag"), lastModified: try $0.get("last_modified"), contentType: try $0.get("content_type"),
                    finalURL: try $0.get("final_url"), body: Array(buffer: try $0.get("body", as: ByteBuffer.self)),
                    serial: try $0.get("serial", as: Int64?.self).map(Int.init))
            }
        }
    }

    public func storeResponse(url: String, _ r: StoredResponse) async throws {
        _ = try await write { s in
            try await s.execute(
                """
                INSERT INTO response_cache (url, etag, last_modified, content_type, final_url, body, serial) VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, content_type = excluded.content_type,
                    final_url = excluded.final_url, body = excluded.body, serial = excluded.serial
                """,
                [url, r.etag, r.lastModified, r.contentType, r.finalURL, r.body, r.serial.map(Int64.init)])
        }
    }
}

extension PostgresCatalog: FeedCatalog {
    public func replacePopularity(_ ecosystem: Ecosystem, _ downloads: [String: Int], source: String, digest: Digest, at: Date) async throws {
        try await write { s in
            try await s.execute("DELETE FROM popularity WHERE ecosystem = $1", [ecosystem.rawValue])
            // In pieces of a few thousand rows: one statement per project would take minutes for a full feed.
            let entries = downloads.sorted { $0.key < $1.key }
            for start in stride(from: 0, to: entries.count, by: 5000) {
                let piece = entries[start..<min(start + 5000, entries.count)]
                try await s.execute(
                    "INSERT INTO popularity (ecosystem, project, downloads) SELECT $1, * FROM unnest($2::text[], $3::bigint[])",
                    [ecosystem.rawValue, PostgresArray(piece.map(\.key)), PostgresArray(piece.map { Int64($0.value) })])
            }
            try await Self.noteImport(s, "popularity", ecosystem, source, digest, downloads.count, at)
        }
    }

    public func popularity(_ ecosystem: Ecosystem) async throws -> [String: Int]? {
        try await read { s in
            guard
                try await s.value(Int64.self, "SELECT count(*) FROM feed_import WHERE kind = 'popularity' AND ecosystem = $1", [ecosystem.rawValue])
                    ?? 0 > 0
            else { return nil }
            var out: [String: Int] = [:]
            for row in try await s.query("SELECT project, downloads FROM popularity WHERE ecosystem = $1", [ecosystem.rawValue]) {
                out[try row.get("project", as: String.self)] = Int(try row.get("downloads", as: Int64.self))
            }
            return out
        }
    }

    public func storeAdvisories(_ ecosystem: Ecosystem, _ advisories: [StoredAdvisory], source: String, digest: Digest, at: Date) async throws {
        try await write { s in
            for a in advisories {
                try await s.execute(
                    "INSERT INTO advisory (ecosystem, project, id, document) VALUES ($1, $2, $3, $4) ON CONFLICT (ecosystem, project, id) DO UPDATE SET document = excluded.document",
                    [ecosystem.rawValue, a.project, a.id, a.document])
            }
            try await Self.noteImport(s, "osv", ecosystem, source, digest, advisories.count, at)
        }
    }

    public func advisoryDocuments(_ ecosystem: Ecosystem) async throws -> [String] {
        try await read { s in
            try await s.column(String.self, "SELECT document FROM advisory WHERE ecosystem = $1 ORDER BY project, id", [ecosystem.rawValue])
        }
    }

    private static func noteImport(
        _ s: PostgresSession, _ kind: String, _ ecosystem: Ecosystem, _ source: String, _ digest: Digest, _ entries: Int, _ at: Date
    ) async throws {
        try await s.execute(
            "INSERT INTO feed_import (kind, ecosystem, source, sha256, entries, imported_at) VALUES ($1, $2, $3, $4, $5, $6)",
            [kind, ecosystem.rawValue, source, digest.hex, entries, Timestamp.format(at)])
    }
}
