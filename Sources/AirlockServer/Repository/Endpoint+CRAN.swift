import AirlockCore
import Foundation
import Hummingbird

extension Endpoint {
    /// `/cran/{snapshot}/src/contrib/{file}` and `…/Archive/{package}/{file}`: the index files and
    /// the tarballs of approved versions. `PACKAGES.rds` is R's serialization format, which airlock
    /// does not write: it answers 404 and R falls back to `PACKAGES.gz`.
    func cranFile(path: Substring, snapshot: String, archive: String?, file raw: String, view: SnapshotView?) throws -> RepositoryAnswer {
        let file = raw.removingPercentEncoding ?? raw
        guard let view else { return .other(Responses.unknownSnapshot(.cran, snapshot)) }
        if archive == nil, file == "PACKAGES" || file == "PACKAGES.gz" {
            return .page(try pages.page(
                view, path: "src/contrib", variant: file, contentType: file == "PACKAGES" ? "text/plain; charset=utf-8" : "application/gzip",
                pinned: view.isExact(snapshot)
            ) {
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
