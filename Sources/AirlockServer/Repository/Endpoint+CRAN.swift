import AirlockCore
import Foundation
import Hummingbird

extension Endpoint {
    /// `/cran/{snapshot}/src/contrib/{file}`, `…/Archive/{package}/{file}` and `…/Meta/archive.rds`: the
    /// index files (`PACKAGES`, `.gz`, `.rds` in R's serialization format, and the archive index R's
    /// version-pinning tools read) and the tarballs of approved versions.
    func cranFile(path: Substring, snapshot: String, directory: CRANDirectory, file raw: String, view: SnapshotView?) throws -> RepositoryAnswer {
        let file = raw.removingPercentEncoding ?? raw
        let archive: String?
        switch directory {
        case .contrib: archive = nil
        case .archive(let package): archive = String(package)
        case .meta:
            guard let view else { return .other(Responses.unknownSnapshot(.cran, snapshot)) }
            guard file == "archive.rds" else { return .other(Responses.text(.notFound, "airlock: src/contrib/Meta/ holds archive.rds only")) }
            return .page(pages.page(view, path: "src/contrib/Meta", variant: file, contentType: "application/octet-stream", pinned: view.isExact(snapshot)) {
                CRANRepositoryRenderer.archiveRDS(view)
            })
        }
        guard let view else { return .other(Responses.unknownSnapshot(.cran, snapshot)) }
        if archive == nil, ["PACKAGES", "PACKAGES.gz", "PACKAGES.rds"].contains(file) {
            return .page(try pages.page(
                view, path: "src/contrib", variant: file, contentType: file == "PACKAGES" ? "text/plain; charset=utf-8" : "application/octet-stream",
                pinned: view.isExact(snapshot)
            ) {
                if file == "PACKAGES.rds" { return try CRANRepositoryRenderer.packagesRDS(view, store: store) }
                let text = try CRANRepositoryRenderer.packages(view, store: store)
                return file == "PACKAGES" ? text : Gzip.compress(text)
            })
        }
        guard let package = CRANRepositoryRenderer.package(ofTarball: file), archive == nil || archive == package else {
            return .other(Responses.text(.notFound, "airlock: nothing is served at \(path). R reads /cran/\(snapshot)/src/contrib/PACKAGES.gz and the tarballs it lists."))
        }
        guard let project = view.projects[package] else {
            let version = String(file.dropFirst(package.count + 1).dropLast(".tar.gz".count))
            return .miss(.cran, project: package, version: version, Responses.notApproved(.cran, project: package, snapshot: view.snapshot))
        }
        let current = CRANRepositoryRenderer.currentFile(of: project)
        // The top level holds the current version only, as on CRAN; Archive/ holds every approved version.
        guard let served = archive == nil ? (current?.filename == file ? current : nil) : project.files.first(where: { $0.filename == file }) else {
            let hint = archive == nil ? "\(package) \(current?.version ?? "?") is the current version; older approved ones are under Archive/\(package)/" : "approved versions of \(package): \(project.versions.joined(separator: ", "))"
            return .other(Responses.text(.notFound, "airlock: \(file) is not approved in cran snapshot \(view.snapshot.id); \(hint)."))
        }
        return .blob(served.digest, filename: file)
    }
}
