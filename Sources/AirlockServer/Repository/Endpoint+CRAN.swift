import AirlockCatalog
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
            return .page(
                pages.page(view, path: "src/contrib/Meta", variant: file, contentType: "application/octet-stream", pinned: view.isExact(snapshot)) {
                    CRANRepositoryRenderer.archiveRDS(view)
                })
        }
        guard let view else { return .other(Responses.unknownSnapshot(.cran, snapshot)) }
        if archive == nil, ["PACKAGES", "PACKAGES.gz", "PACKAGES.rds"].contains(file) {
            return .page(
                try pages.page(
                    view, path: "src/contrib", variant: file,
                    contentType: file == "PACKAGES" ? "text/plain; charset=utf-8" : "application/octet-stream",
                    pinned: view.isExact(snapshot)
                ) {
                    if file == "PACKAGES.rds" { return try CRANRepositoryRenderer.packagesRDS(view, store: store) }
                    let text = try CRANRepositoryRenderer.packages(view, store: store)
                    return file == "PACKAGES" ? text : Gzip.compress(text)
                })
        }
        guard let package = CRANRepositoryRenderer.package(ofTarball: file), archive == nil || archive == package else {
            return .other(
                Responses.text(
                    .notFound, "airlock: nothing is served at \(path). R reads /cran/\(snapshot)/src/contrib/PACKAGES.gz and the tarballs it lists."))
        }
        guard let project = view.projects[package] else {
            let version = String(file.dropFirst(package.count + 1).dropLast(".tar.gz".count))
            return .miss(.cran, project: package, version: version, Responses.notApproved(.cran, project: package, snapshot: view.snapshot))
        }
        let current = CRANRepositoryRenderer.currentFile(of: project)
        // The top level holds the current version only, as on CRAN; Archive/ holds every approved version.
        guard let served = archive == nil ? (current?.filename == file ? current : nil) : project.files.first(where: { $0.filename == file }) else {
            let hint =
                archive == nil
                ? "\(package) \(current?.version ?? "?") is the current version; older approved ones are under Archive/\(package)/"
                : "approved versions of \(package): \(project.versions.joined(separator: ", "))"
            return .other(Responses.text(.notFound, "airlock: \(file) is not approved in cran snapshot \(view.snapshot.id); \(hint)."))
        }
        return .blob(served.digest, filename: file)
    }
}

extension Endpoint {
    /// `/cran/__linux__/{distro}/{snapshot}/src/contrib/…`, Posit Package Manager's layout: the same
    /// repository as `/cran/{snapshot}/`, but where a binary of a served release exists for this
    /// distribution and the R minor version the client names in its `User-Agent`, `PACKAGES` lists it
    /// and its tarball URL sends it. Anything else, and any client that is not R, gets the source.
    func linuxRepository(_ req: Request, _ ctx: AirlockRequestContext) async throws -> Response {
        let distro = ctx.parameters.get("distro") ?? ""
        let prefix = "/cran/__linux__/\(distro)"
        guard req.uri.path.hasPrefix(prefix + "/") else { return Responses.notServed(req.uri.path) }
        let sourcePath = Substring("/cran" + req.uri.path.dropFirst(prefix.count))
        guard let route = RepositoryRoute(path: sourcePath), case .cran(let snapshot, let directory, let rawFile) = route else {
            return Responses.notServed(req.uri.path)
        }
        let facts = try await views.facts(route)
        let source = try answer(route, path: sourcePath, accept: req.headers[.accept], facts: facts)
        guard let view = facts.view, directory != .meta, let rMinor = req.headers[.userAgent].flatMap(RBinary.rMinor(userAgent:)) else {
            return try await respond(source, req, ctx)
        }
        let binaries = try await linuxBinaries.served(by: view, distro: distro, rMinor: rMinor) { try await catalog.binaries(distro: distro) }
        let file = String(rawFile).removingPercentEncoding ?? String(rawFile)
        if directory == .contrib, ["PACKAGES", "PACKAGES.gz", "PACKAGES.rds"].contains(file) {
            let page = try pages.page(
                view, path: "__linux__/\(distro)/src/contrib", variant: "\(file) R\(rMinor)",
                contentType: file == "PACKAGES" ? "text/plain; charset=utf-8" : "application/octet-stream",
                pinned: view.isExact(String(snapshot)), vary: "User-Agent"
            ) {
                if file == "PACKAGES.rds" { return try CRANRepositoryRenderer.packagesRDS(view, store: store, binaries: binaries) }
                let text = try CRANRepositoryRenderer.packages(view, store: store, binaries: binaries)
                return file == "PACKAGES" ? text : Gzip.compress(text)
            }
            return page.response(to: req)
        }
        // A tarball: the binary of the very release the source answer serves, if there is one.
        if case .blob(_, let filename) = source, let package = CRANRepositoryRenderer.package(ofTarball: filename),
            let served = view.projects[package]?.files.first(where: { $0.filename == filename }),
            let binary = binaries["\(package) \(served.version)"]
        {
            return try await respond(.blob(binary.digest, filename: filename), req, ctx)
        }
        return try await respond(source, req, ctx)
    }
}

/// The R binaries each snapshot view serves for a distribution and R minor version, by `package version`:
/// read from the catalog once per view, as a snapshot's binaries never change (`RBinary.served`).
final class LinuxBinaries: Sendable {
    private let known = ViewMemo<[String: RBinary]>(limit: 1_000)

    func served(by view: SnapshotView, distro: String, rMinor: String, load: () async throws -> [RBinary]) async throws -> [String: RBinary] {
        let key = ViewMemo<[String: RBinary]>.Key(view, path: distro, variant: rMinor)
        if let hit = known[key] { return hit }
        let served = RBinary.served(by: view.snapshot, files: view.projects.values.flatMap(\.files), from: try await load())
        let index = Dictionary(served.filter { $0.rMinor == rMinor }.map { ("\($0.package) \($0.version)", $0) }, uniquingKeysWith: { a, _ in a })
        known[key] = index
        return index
    }
}
