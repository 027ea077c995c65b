import AirlockCore
import AirlockStore

/// Renders a CRAN snapshot as the `src/contrib` directory R reads: `PACKAGES` lists the newest
/// approved version of each package (its record as mirrored, with the MD5 of the served bytes);
/// older approved versions live under `Archive/{pkg}/`.
enum CRANRepositoryRenderer {
    /// The `PACKAGES` text: one record per package, sorted by name as `tools::write_PACKAGES` does.
    static func packages(_ view: SnapshotView, store: any BlobStore) throws -> [UInt8] {
        var out: [UInt8] = []
        for name in view.projectNames {
            guard let current = currentFile(of: view.projects[name.normalized]!) else { continue }
            guard let record = current.metadataDigest else {
                throw AirlockError(.storage, "\(current.filename) has no PACKAGES record in the store; re-run the sync")
            }
            if !out.isEmpty { out.append(UInt8(ascii: "\n")) }
            out += try store.read(record)
        }
        return out
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
