import AirlockCore
import AirlockStore
import Foundation

/// Renders a CRAN snapshot as the `src/contrib` directory R reads: `PACKAGES` lists the newest
/// approved version of each package (its record as mirrored, with the MD5 of the served bytes);
/// older approved versions live under `Archive/{pkg}/`.
enum CRANRepositoryRenderer {
    /// The `PACKAGES` text: one record per package, sorted by name as `tools::write_PACKAGES` does;
    /// with `binaries` (by `package version`), a package whose current version has one is listed as it.
    static func packages(_ view: SnapshotView, store: any BlobStore, binaries: [String: RBinary] = [:]) throws -> [UInt8] {
        var out: [UInt8] = []
        for name in view.projectNames {
            guard let current = currentFile(of: view.projects[name.normalized]!) else { continue }
            guard let record = binaries["\(name.normalized) \(current.version)"]?.recordDigest ?? current.metadataDigest else {
                throw AirlockError(.storage, "\(current.filename) has no PACKAGES record in the store; re-run the sync")
            }
            if !out.isEmpty { out.append(UInt8(ascii: "\n")) }
            out += try store.read(record)
        }
        return out
    }

    /// `PACKAGES.rds`: the same records as `PACKAGES`, as the character matrix `tools::write_PACKAGES`
    /// saves (a row per package, a column per field any record has, `NA` where a record lacks it), gzipped.
    static func packagesRDS(_ view: SnapshotView, store: any BlobStore, binaries: [String: RBinary] = [:]) throws -> [UInt8] {
        let records = try DCF.parse(try packages(view, store: store, binaries: binaries), source: "PACKAGES of cran snapshot \(view.snapshot.id)")
        var columns = ["Package", "Version"]
        for record in records { for (name, _) in record.fields where !columns.contains(name) { columns.append(name) } }
        let rows = records.map { record in columns.map { record[$0] } }
        return Gzip.compress(RSerialization.serialize(.characterMatrix(rows, columns: columns)))
    }

    /// `Meta/archive.rds`, which `remotes::install_version`, pak and renv read to find older versions: a list
    /// naming each package with approved versions older than its current one, each a data frame (as
    /// `file.info` gives, CRAN's format) with a row per tarball under `Archive/`: `pkg/pkg_0.9.tar.gz`.
    static func archiveRDS(_ view: SnapshotView) -> [UInt8] {
        var packages: [(name: String, value: RValue)] = []
        for name in view.projectNames {
            guard let project = view.projects[name.normalized], let current = currentFile(of: project) else { continue }
            let archived = project.versions.filter { $0 != current.version }.compactMap { v in project.files.first { $0.version == v } }
            guard !archived.isEmpty else { continue }
            let times = RValue.posixct(archived.map { ($0.uploadTime ?? view.snapshot.publishedAt).timeIntervalSince1970 })
            let n = archived.count
            packages.append(
                (
                    name.normalized,
                    .dataFrame(
                        [
                            ("size", .doubles(archived.map { Double($0.size) })), ("isdir", .logicals(Array(repeating: false, count: n))),
                            ("mode", .attributed(.integers(Array(repeating: 0o644, count: n)), [("class", .strings(["octmode"]))])),
                            ("mtime", times), ("ctime", times), ("atime", times),
                            ("uid", .integers(Array(repeating: 0, count: n))), ("gid", .integers(Array(repeating: 0, count: n))),
                            ("uname", .strings(Array(repeating: "airlock", count: n))), ("grname", .strings(Array(repeating: "airlock", count: n))),
                        ], rowNames: archived.map { "\(name.normalized)/\($0.filename)" })
                ))
        }
        return Gzip.compress(RSerialization.serialize(.namedList(packages)))
    }

    /// The file `PACKAGES` lists for a package: its newest approved version.
    static func currentFile(of project: SnapshotView.Project) -> Distribution? {
        guard let newest = project.versions.last else { return nil }
        return project.files.first { $0.version == newest }
    }

    /// `{pkg}_{version}.tar.gz` → package name, or nil for any other file name.
    static func package(ofTarball file: String) -> String? {
        guard file.hasSuffix(".tar.gz"), let underscore = file.firstIndex(of: "_") else { return nil }
        return String(file[..<underscore])
    }
}
