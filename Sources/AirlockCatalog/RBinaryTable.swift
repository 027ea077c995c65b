public import AirlockCore
import Foundation
import GRDB

/// The `r_binary` table (v17, the same on both backends): binary builds of R source releases, one per
/// package, version, distribution and R minor version, with their blob and the `PACKAGES` record served for them.
enum RBinaryTable {
    static let create = """
        CREATE TABLE r_binary (
            package TEXT NOT NULL,
            version TEXT NOT NULL,
            distro TEXT NOT NULL,
            r_minor TEXT NOT NULL,
            platform TEXT NOT NULL,
            built TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size BIGINT NOT NULL,
            record_sha256 TEXT NOT NULL,
            origin TEXT NOT NULL,
            build_log_sha256 TEXT,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (package, version, distro, r_minor)
        );
        """

    static let upsert = """
        INSERT INTO r_binary (package, version, distro, r_minor, platform, built, sha256, size, record_sha256, origin, build_log_sha256, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (package, version, distro, r_minor) DO UPDATE SET platform = excluded.platform, built = excluded.built,
            sha256 = excluded.sha256, size = excluded.size, record_sha256 = excluded.record_sha256, origin = excluded.origin,
            build_log_sha256 = excluded.build_log_sha256, recorded_at = excluded.recorded_at
        """
}

/// A row of `r_binary`.
struct RBinaryRow: CatalogRow {
    var package: String
    var version: String
    var distro: String
    var rMinor: String
    var platform: String
    var built: String
    var sha256: String
    var size: Int64
    var recordSha256: String
    var origin: String
    var buildLogSha256: String?
    var recordedAt: String

    func binary() throws -> RBinary {
        guard let digest = Digest(hex: sha256), let record = Digest(hex: recordSha256) else {
            throw AirlockError(.catalog, "corrupt digest in r_binary row \(package) \(version) \(distro) R \(rMinor)")
        }
        return RBinary(
            package: package, version: version, distro: distro, rMinor: rMinor, platform: platform, built: built, digest: digest, size: size,
            recordDigest: record, origin: origin, buildLog: buildLogSha256.flatMap { Digest(hex: $0) },
            recordedAt: Timestamp.parse(recordedAt))
    }
}
