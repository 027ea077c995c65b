import AirlockCatalog
import AirlockCore
import Foundation
import Hummingbird
import Synchronization

/// A URL of the package repositories (PyPI simple pages, file URLs, CRAN's `src/contrib`), parsed
/// once for both ways a request is answered: the `DirectResponder` on the event loop and the router.
enum RepositoryRoute: Equatable {
    /// `/simple/` (latest) or `/pypi/{snapshot}/simple/`.
    case simpleIndex(snapshot: Substring)
    /// `/simple/{project}/` or `/pypi/{snapshot}/simple/{project}/`.
    case simpleProject(snapshot: Substring, project: Substring)
    /// `/files/sha256/{digest}/{filename}`.
    case file(digest: Substring, filename: Substring)
    /// `/cran/{snapshot}/src/contrib/{file}` or `…/Archive/{package}/{file}`.
    case cran(snapshot: Substring, archive: Substring?, file: Substring)

    /// The route of a path (no query), or nil when it is not a repository URL.
    init?(path: Substring) {
        let c = path.split(separator: "/", omittingEmptySubsequences: true)
        switch (c.count, c.first) {
        case (1, "simple"): self = .simpleIndex(snapshot: "latest")
        case (2, "simple"): self = .simpleProject(snapshot: "latest", project: c[1])
        case (3, "pypi") where c[2] == "simple": self = .simpleIndex(snapshot: c[1])
        case (4, "pypi") where c[2] == "simple": self = .simpleProject(snapshot: c[1], project: c[3])
        case (4, "files") where c[1] == "sha256": self = .file(digest: c[2], filename: c[3])
        case (5, "cran") where c[2] == "src" && c[3] == "contrib": self = .cran(snapshot: c[1], archive: nil, file: c[4])
        case (7, "cran") where c[2] == "src" && c[3] == "contrib" && c[4] == "Archive": self = .cran(snapshot: c[1], archive: c[5], file: c[6])
        default: return nil
        }
    }

    /// Whether a path lies under a repository namespace (`simple`, `pypi`, `files`, `cran` as its first
    /// segment): what a repository route answers, or what is refused there. The install gate guards these.
    static func isRepositoryPath(_ path: Substring) -> Bool {
        guard let first = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true).first else { return false }
        return first == "simple" || first == "pypi" || first == "files" || first == "cran"
    }

    /// The router patterns of these routes.
    static let patterns = [
        "/simple", "/simple/{project}", "/pypi/{snapshot}/simple", "/pypi/{snapshot}/simple/{project}", "/files/sha256/{digest}/{filename}",
        "/cran/{snapshot}/src/contrib/{file}", "/cran/{snapshot}/src/contrib/Archive/{package}/{file}",
    ]
}

/// What a repository URL answers, decided without side effects. The router turns every case into a
/// response; the `DirectResponder` sends `.page` and `.blob` itself and hands the rest to the router.
enum RepositoryAnswer {
    /// A rendered page (200, or 304 for a matching `If-None-Match`).
    case page(RenderedPage)
    /// A stored blob under this file name.
    case blob(Digest, filename: String)
    /// Nothing approved under this name: recorded as demand, then answered with the response.
    case miss(Ecosystem, project: String, version: String, Response)
    /// Any other answer: a redirect, 404, 406.
    case other(Response)
}

extension Endpoint {
    /// The answer to a repository URL. `path` is the request path as sent (redirects are built from it).
    func answer(_ route: RepositoryRoute, path: Substring, accept: String?) throws -> RepositoryAnswer {
        switch route {
        case .simpleIndex(let snapshot):
            return try simpleIndex(path: path, accept: accept, snapshot: String(snapshot))
        case .simpleProject(let snapshot, let project):
            return try simpleProject(path: path, accept: accept, snapshot: String(snapshot), project: String(project))
        case .file(let digest, let filename):
            return try file(digest: String(digest), filename: String(filename))
        case .cran(let snapshot, let archive, let file):
            return try cranFile(path: path, snapshot: String(snapshot), archive: archive.map(String.init), file: String(file))
        }
    }

    /// The router's handler for every repository pattern.
    func repository(_ req: Request, _ ctx: AirlockRequestContext) async throws -> Response {
        let path = Substring(req.uri.path)
        guard let route = RepositoryRoute(path: path) else { return Responses.notServed(req.uri.path) }
        switch try answer(route, path: path, accept: req.headers[.accept]) {
        case .page(let page): return page.response(to: req)
        case .blob(let digest, let filename): return try await send(digest, named: filename, req, ctx)
        case .miss(let ecosystem, let project, let version, let response):
            recordMiss(ecosystem, project: project, version: version, client: ctx.clientAddress)
            return response
        case .other(let response): return response
        }
    }

    enum Resolved {
        case view(SnapshotView)
        case answer(RepositoryAnswer)
    }

    func resolve(_ text: String, _ ecosystem: Ecosystem = .pypi) throws -> Resolved {
        guard let view = try views.view(ecosystem, text) else { return .answer(.other(Responses.unknownSnapshot(ecosystem, text))) }
        return .view(view)
    }

    // MARK: PyPI simple repository

    private func simpleIndex(path: Substring, accept: String?, snapshot: String) throws -> RepositoryAnswer {
        if !path.hasSuffix("/") { return .other(Responses.redirect(to: "\(path)/")) }
        guard let format = formats.negotiate(accept) else { return .other(notAcceptable()) }
        let view: SnapshotView
        switch try resolve(snapshot) {
        case .answer(let a): return a
        case .view(let v): view = v
        }
        return .page(pages.page(view, path: "", variant: format.rawValue, contentType: format.contentType, pinned: view.isExact(snapshot)) {
            SimpleRepositoryRenderer.index(view, format: format)
        })
    }

    private func simpleProject(path: Substring, accept: String?, snapshot: String, project raw: String) throws -> RepositoryAnswer {
        let project = raw.utf8.contains(UInt8(ascii: "%")) ? (raw.removingPercentEncoding ?? raw) : raw
        let normalized = ProjectName.normalize(project)
        if project != normalized || !path.hasSuffix("/") {
            let prefix = path.hasPrefix("/simple") ? "/simple" : "/pypi/\(snapshot)/simple"
            return .other(Responses.redirect(to: "\(prefix)/\(normalized)/"))
        }
        guard let format = formats.negotiate(accept) else { return .other(notAcceptable()) }
        let view: SnapshotView
        switch try resolve(snapshot) {
        case .answer(let a): return a
        case .view(let v): view = v
        }
        guard let entry = view.projects[normalized] else {
            return .miss(.pypi, project: normalized, version: "", Responses.notApproved(.pypi, project: normalized, snapshot: view.snapshot))
        }
        return .page(pages.page(view, path: normalized, variant: format.rawValue, contentType: format.contentType, pinned: view.isExact(snapshot)) {
            SimpleRepositoryRenderer.project(entry, snapshot: view.snapshot, format: format)
        })
    }

    func notAcceptable() -> Response {
        Responses.text(.notAcceptable, "airlock: this index speaks application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html and text/html (PEP 691).")
    }

    // MARK: Files

    private func file(digest hex: String, filename raw: String) throws -> RepositoryAnswer {
        let filename = raw.removingPercentEncoding ?? raw
        guard let digest = Digest(hex: hex), hex == digest.hex else {
            return .other(Responses.text(.notFound, "airlock: \(hex) is not a SHA-256 digest in lowercase hex; file URLs name files by their lowercase digest"))
        }
        let isMetadata = filename.hasSuffix(".metadata")
        let distributionName = isMetadata ? String(filename.dropLast(".metadata".count)) : filename
        guard let served = try views.servedFile(digest: digest, filename: distributionName) else {
            if let revoked = try catalog.revocation(ofFile: digest) {
                return .other(Responses.text(.notFound, "airlock: \(filename) was revoked by \(revoked.actor) on \(Timestamp.format(revoked.createdAt)): \(revoked.reason)"))
            }
            return .other(Responses.text(.notFound, "airlock: \(filename) (sha256 \(digest.hex)) is not served by any snapshot of this airlock. It may never have been approved."))
        }
        guard isMetadata else { return .blob(digest, filename: filename) }
        guard served.kind == .wheel, let metadata = served.metadataDigest else {
            return .other(Responses.text(.notFound, "airlock: no core metadata is served for \(distributionName)"))
        }
        return .blob(metadata, filename: filename)
    }
}

/// `SimpleFormat.negotiate`, remembered per `Accept` header: clients send the same one every time.
final class FormatNegotiation: Sendable {
    private let known = Mutex<[String: SimpleFormat?]>([:])

    func negotiate(_ accept: String?) -> SimpleFormat? {
        guard let accept else { return SimpleFormat.negotiate(nil) }
        if let hit = known.withLock({ $0[accept] }) { return hit }
        let format = SimpleFormat.negotiate(accept)
        guard accept.utf8.count <= 256 else { return format }  // remembered only for headers clients really send
        known.withLock {
            if $0.count >= 256 { $0.removeAll() }
            $0[accept] = format
        }
        return format
    }
}
