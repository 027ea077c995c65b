import AirlockCore
import Foundation
import GRDB

/// Reads a JSON column strictly: a corrupt value is an error naming the table and the row, never a
/// silently empty list.
func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String?, table: String, key: any CustomStringConvertible) throws -> T? {
    guard let text else { return nil }
    do {
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    } catch {
        throw AirlockError(.catalog, "corrupt JSON in \(table) row \(key): \(error)", underlying: error)
    }
}

func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// A stored timestamp, strictly: a value that does not parse names its table and row.
func parseTime(_ text: String?, table: String, key: any CustomStringConvertible) throws -> Date? {
    guard let text else { return nil }
    guard let date = Timestamp.parse(text) else { throw AirlockError(.catalog, "corrupt timestamp '\(text)' in \(table) row \(key)") }
    return date
}

func parseDigest(_ hex: String?, table: String, key: any CustomStringConvertible) throws -> Digest? {
    guard let hex else { return nil }
    guard let digest = Digest(hex: hex) else { throw AirlockError(.catalog, "corrupt SHA-256 '\(hex)' in \(table) row \(key)") }
    return digest
}

/// A column that is never NULL, read strictly.
func parseTime(_ text: String, table: String, key: any CustomStringConvertible) throws -> Date {
    guard let date = Timestamp.parse(text) else { throw AirlockError(.catalog, "corrupt timestamp '\(text)' in \(table) row \(key)") }
    return date
}

func parseDigest(_ hex: String, table: String, key: any CustomStringConvertible) throws -> Digest {
    guard let digest = Digest(hex: hex) else { throw AirlockError(.catalog, "corrupt SHA-256 '\(hex)' in \(table) row \(key)") }
    return digest
}

/// A row the statement always yields (an id just inserted, an aggregate), or an error naming it.
func required<T>(_ value: T?, _ what: @autoclosure () -> String) throws -> T {
    guard let value else { throw AirlockError(.catalog, "the catalog has no \(what())") }
    return value
}

/// Rows read by column name; `Ecosystem` and other enums decode strictly (an unknown value throws).
protocol CatalogRow: Decodable, FetchableRecord {}

extension CatalogRow {
    static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
}

/// A distribution joined with its release and project (`Relation.distributionColumns`).
struct DistributionRow: CatalogRow {
    var id: Int64
    var ecosystem: Ecosystem
    var name: String
    var displayName: String
    var version: String
    var filename: String
    var kind: DistributionKind
    var sha256: String
    var size: Int64
    var uploadTime: String?
    var requiresPython: String?
    var yanked: String?
    var metadataSha256: String?
    var uploadTimeObserved: Int
    var provenanceSha256: String?
    var publisherIdentity: String?

    func distribution() throws -> Distribution {
        Distribution(
            ecosystem: ecosystem, project: ProjectName(normalized: name, display: displayName), version: version, filename: filename, kind: kind,
            digest: try parseDigest(sha256, table: "distribution", key: id), size: size,
            uploadTime: try parseTime(uploadTime, table: "distribution", key: id), requiresPython: requiresPython, yanked: yanked,
            metadataDigest: try parseDigest(metadataSha256, table: "distribution", key: id), uploadTimeObserved: uploadTimeObserved != 0,
            provenanceDigest: try parseDigest(provenanceSha256, table: "file_provenance", key: id), publisherIdentity: publisherIdentity)
    }
}

struct SnapshotRow: CatalogRow {
    var id: Int64
    var ecosystem: Ecosystem
    var publishedAt: String
    var policyDigest: String
    var distributionCount: Int

    func snapshot() throws -> Snapshot {
        Snapshot(
            id: id, ecosystem: ecosystem, publishedAt: try parseTime(publishedAt, table: "snapshot", key: id), policyDigest: policyDigest,
            distributionCount: distributionCount)
    }
}

/// A decision row; `factors` is JSON.
struct DecisionRow: CatalogRow {
    var releaseId: Int64
    var policyDigest: String
    var verdict: Verdict
    var score: Double
    var factors: String
    var serveYanked: String?

    func decision() throws -> Decision {
        Decision(
            verdict: verdict, score: score,
            factors: try decodeJSON([Decision.Factor].self, factors, table: "decision", key: "\(releaseId)/\(policyDigest)") ?? [],
            policyDigest: policyDigest, serveYanked: serveYanked)
    }
}

struct OverrideRow: CatalogRow {
    var id: Int64
    var ecosystem: Ecosystem
    var project: String
    var versions: String
    var action: Override.Action
    var reason: String
    var actor: String
    var createdAt: String
    var expiresAt: String?
    var withdrawnAt: String?
    var withdrawnBy: String?
    var withdrawnReason: String?

    func override() throws -> Override {
        let withdrawal = try withdrawnAt.map { at in
            Override.Withdrawal(actor: withdrawnBy ?? "", at: try parseTime(at, table: "override", key: id), reason: withdrawnReason ?? "")
        }
        return Override(
            id: id, ecosystem: ecosystem, project: project, versions: versions, action: action, reason: reason, actor: actor,
            createdAt: try parseTime(createdAt, table: "override", key: id), expiresAt: try parseTime(expiresAt, table: "override", key: id),
            withdrawal: withdrawal)
    }

    /// What its audit events name: `pypi/requests >=2,<3`.
    var auditObject: String { "\(ecosystem.rawValue)/\(project)" + (versions.isEmpty ? "" : " \(versions)") }
}

struct RevocationRow: CatalogRow {
    var id: Int64
    var ecosystem: Ecosystem
    var project: String
    var version: String
    var reason: String
    var actor: String
    var createdAt: String

    func revocation() throws -> Revocation {
        Revocation(
            id: id, ecosystem: ecosystem, project: project, version: version, reason: reason, actor: actor,
            createdAt: try parseTime(createdAt, table: "revocation", key: id))
    }
}

struct TokenRow: CatalogRow {
    var id: Int64
    var name: String
    var role: Role
    var secretSha256: String
    var createdAt: String
    var expiresAt: String?
    var revokedAt: String?

    func token() throws -> APIToken {
        APIToken(
            id: id, name: name, role: role, createdAt: try parseTime(createdAt, table: "token", key: id),
            expiresAt: try parseTime(expiresAt, table: "token", key: id), revokedAt: try parseTime(revokedAt, table: "token", key: id))
    }
}

struct MissRow: CatalogRow {
    var ecosystem: Ecosystem
    var project: String
    var version: String
    var count: Int
    var firstSeen: String
    var lastSeen: String
    var lastClient: String?

    func miss() throws -> Miss {
        let key = "\(ecosystem.rawValue)/\(project)"
        return Miss(
            ecosystem: ecosystem, project: project, version: version, count: count, firstSeen: try parseTime(firstSeen, table: "miss", key: key),
            lastSeen: try parseTime(lastSeen, table: "miss", key: key), lastClient: lastClient)
    }
}

struct AuditRow: CatalogRow {
    var id: Int64
    var at: String
    var actor: String
    var action: String
    var object: String
    var details: String
    var prevHash: String
    var hash: String

    var event: AuditEvent {
        AuditEvent(id: id, at: at, actor: actor, action: action, object: object, details: details, prevHash: prevHash, hash: hash)
    }
}

/// A release with its project and the facts its decision rests on (`SQLiteCatalog.storedReleases`).
struct StoredReleaseRow: CatalogRow {
    var id: Int64
    var name: String
    var displayName: String
    var version: String
    var author: String?
    var authorEmail: String?
    var maintainer: String?
    var maintainerEmail: String?
    var firstUpload: String?
    var lastUpload: String?
    var releaseCount: Int?
    var licenseExpression: String?
    var licenseDeclared: String?
    var selectedBy: String?
    var newEmails: String?
    var dependents: Int?
    var maintainerProjects: String?
    var requiresDist: String?

    /// The release's declared dependencies (`Requires-Dist`, R's dependency fields), as recorded.
    func dependencies() throws -> [String] { try decodeJSON([String].self, requiresDist, table: "release", key: id) ?? [] }

    func facts() throws -> DecisionFacts {
        DecisionFacts(
            firstUpload: try parseTime(firstUpload, table: "project", key: name), lastUpload: try parseTime(lastUpload, table: "project", key: name),
            releaseCount: releaseCount ?? 0, licenseExpression: licenseExpression, licenseDeclared: licenseDeclared, selectedBy: selectedBy ?? "",
            newMaintainerEmails: try decodeJSON([String].self, newEmails, table: "release", key: id) ?? [], dependents: dependents ?? 0,
            maintainersOtherProjects: try decodeJSON([String].self, maintainerProjects, table: "release", key: id) ?? [])
    }
}
