import AirlockCore
import Foundation

/// The relations queries share, each written once in SQL both backends read: the release join,
/// "served by snapshot N" and "not revoked".
enum Relation {
    /// The distribution columns every file query selects (as `DistributionRow`).
    static let distributionColumns = """
        SELECT d.id, p.ecosystem, p.name, p.display_name, r.version, d.filename, d.kind, d.sha256, d.size, d.upload_time,
               d.requires_python, d.yanked, d.metadata_sha256, d.upload_time_observed,
               (SELECT fp.document FROM file_provenance fp WHERE fp.sha256 = d.sha256) AS provenance_sha256,
               (SELECT fp.identity FROM file_provenance fp WHERE fp.sha256 = d.sha256) AS publisher_identity
        FROM \(files)
        """

    /// The same columns for recorded releases as decisions read them: the provenance columns (what only
    /// serving needs) left NULL, so a sync's look at every previous release costs no lookup per file.
    static let recordedColumns =
        distributionColumns
        .replacingOccurrences(of: "(SELECT fp.document FROM file_provenance fp WHERE fp.sha256 = d.sha256)", with: "CAST(NULL AS TEXT)")
        .replacingOccurrences(of: "(SELECT fp.identity FROM file_provenance fp WHERE fp.sha256 = d.sha256)", with: "CAST(NULL AS TEXT)")

    /// The same columns as a snapshot serves them (joined with membership `m`): a policy's yank
    /// reason for that snapshot takes the place of the upstream's.
    static let servedColumns = distributionColumns.replacingOccurrences(of: "d.yanked", with: "coalesce(m.yank_reason, d.yanked) AS yanked")

    /// In a distribution upsert: the new row's upload time replaces the stored one when none is stored,
    /// or when the stored one was only observed and the new one comes from an upstream.
    static let takesUploadTime =
        "distribution.upload_time IS NULL OR (distribution.upload_time_observed = 1 AND excluded.upload_time_observed = 0)"

    /// Distributions `d` with their release `r` and project `p`.
    static let files = "distribution d JOIN release r ON r.id = d.release_id JOIN project p ON p.id = r.project_id"
    /// Releases `r` with their project `p`.
    static let releases = "release r JOIN project p ON p.id = r.project_id"

    /// Membership range `m` serves snapshot `snapshot` (an SQL expression: a parameter or a column):
    /// `added_in <= snapshot < removed_in`, an open range serving every snapshot from `added_in` on.
    static func serves(_ snapshot: String) -> String {
        "m.added_in <= \(snapshot) AND (m.removed_in IS NULL OR m.removed_in > \(snapshot))"
    }

    /// The distinct project names of an ecosystem's candidates (the ecosystem is the one parameter).
    static func candidateProjects(placeholder: String) -> String {
        "SELECT DISTINCT p.name FROM candidate c JOIN release r ON r.id = c.release_id JOIN project p ON p.id = r.project_id WHERE c.ecosystem = \(placeholder) ORDER BY p.name"
    }

    /// A number that moves whenever what `notRevoked` withdraws does: revocations and expiries only grow;
    /// quarantines are counted with the time of the last sync that read one (a lifted quarantine moves it too).
    static let withdrawalStamp = """
        SELECT (SELECT coalesce(max(id), 0) FROM revocation) + (SELECT count(*) FROM snapshot WHERE expired_at IS NOT NULL)
             + (SELECT count(*) FROM upstream_project WHERE status = 'quarantined') AS stamp,
               (SELECT max(observed_at) FROM upstream_project WHERE status = 'quarantined') AS quarantine_seen
        """

    /// Release `r` of project `p` is not withdrawn: not revoked, and its project not quarantined upstream
    /// (PEP 792). Both cover every snapshot, past and future.
    static let notRevoked = """
        NOT EXISTS (SELECT 1 FROM revocation v WHERE v.ecosystem = p.ecosystem AND v.project = p.name AND v.version = r.version)
        AND NOT EXISTS (SELECT 1 FROM upstream_project u WHERE u.ecosystem = p.ecosystem AND u.name = p.name AND u.status = 'quarantined')
        """
}

extension Relation {
    /// Project, version and provenance columns of every attested release some snapshot served (ecosystem: the one parameter).
    static func servedAttestations(placeholder: String) -> String {
        """
        SELECT p.name, r.version, fp.document, fp.publisher, fp.signed_at
        FROM file_provenance fp JOIN distribution d ON d.sha256 = fp.sha256 JOIN release r ON r.id = d.release_id JOIN project p ON p.id = r.project_id
        WHERE p.ecosystem = \(placeholder) AND EXISTS (SELECT 1 FROM membership m WHERE m.distribution_id = d.id)
        ORDER BY p.name, r.version, d.filename
        """
    }

    /// Columns `provenance_document`, `provenance_publisher`, `provenance_signed_at`: the provenance of
    /// release `r`'s first attested file (by filename), or NULLs.
    static let releaseProvenance = ["document", "publisher", "signed_at"].map {
        "(SELECT fp.\($0) FROM distribution d JOIN file_provenance fp ON fp.sha256 = d.sha256 WHERE d.release_id = r.id ORDER BY d.filename LIMIT 1) AS provenance_\($0)"
    }.joined(separator: ", ")
}

/// A file's publisher as the catalog keeps it: JSON.
enum PublisherRecord {
    static func encode(_ publisher: Publisher) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(publisher), as: UTF8.self)
    }

    static func decode(_ document: String, publisher json: String, signedAt: String, file: Digest) throws -> FileProvenance {
        guard let doc = Digest(hex: document), let at = Timestamp.parse(signedAt),
            let publisher = try? JSONDecoder().decode(Publisher.self, from: Data(json.utf8))
        else { throw AirlockError(.catalog, "the stored provenance of \(file.hex) does not read back") }
        return FileProvenance(document: doc, publisher: publisher, signedAt: at)
    }

    /// The release's provenance from the `Relation.releaseProvenance` columns; nil when it has none.
    static func decode(document: String?, publisher: String?, signedAt: String?, release: String) throws -> FileProvenance? {
        guard let document, let publisher, let signedAt else { return nil }
        guard let file = Digest(hex: document) else { throw AirlockError(.catalog, "the stored provenance of \(release) does not read back") }
        return try decode(document, publisher: publisher, signedAt: signedAt, file: file)
    }
}

/// Content findings as the catalog keeps them: a JSON array per scanned file.
enum ContentScanRecord {
    static func encode(_ findings: [ContentFinding]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(findings), as: UTF8.self)
    }

    static func decode(_ json: String, digest: Digest) throws -> [ContentFinding] {
        do {
            return try JSONDecoder().decode([ContentFinding].self, from: Data(json.utf8))
        } catch {
            throw AirlockError(.catalog, "the stored content scan of \(digest.hex) does not read back: \(error)")
        }
    }

}

extension Relation {
    /// `referenced` and the provenance documents (file digest, document digest) of the files in it:
    /// a served file's PEP 740 document is served beside it, so it is kept as long as the file is.
    static func withProvenance(_ referenced: Set<String>, _ documents: [(file: String, document: String)]) -> Set<String> {
        referenced.union(documents.filter { referenced.contains($0.file) }.map(\.document))
    }
}
