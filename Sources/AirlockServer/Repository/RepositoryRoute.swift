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
    case file(FileURL)
    /// `/cran/{snapshot}/src/contrib/{file}`, `…/Archive/{package}/{file}` or `…/Meta/{file}`.
    case cran(snapshot: Substring, directory: CRANDirectory, file: Substring)

    /// The route of a path (no query), or nil when it is not a repository URL.
    init?(path: Substring) {
        let c = path.split(separator: "/", omittingEmptySubsequences: true)
        switch (c.count, c.first) {
        case (1, "simple"): self = .simpleIndex(snapshot: "latest")
        case (2, "simple"): self = .simpleProject(snapshot: "latest", project: c[1])
        case (3, "pypi") where c[2] == "simple": self = .simpleIndex(snapshot: c[1])
        case (4, "pypi") where c[2] == "simple": self = .simpleProject(snapshot: c[1], project: c[3])
        case (4, "files") where c[1] == "sha256": self = .file(FileURL(hex: c[2], filename: c[3]))
        case (5, "cran") where c[2] == "src" && c[3] == "contrib": self = .cran(snapshot: c[1], directory: .contrib, file: c[4])
        case (7, "cran") where c[2] == "src" && c[3] == "contrib" && c[4] == "Archive":
            self = .cran(snapshot: c[1], directory: .archive(c[5]), file: c[6])
        case (6, "cran") where c[2] == "src" && c[3] == "contrib" && c[4] == "Meta": self = .cran(snapshot: c[1], directory: .meta, file: c[5])
        default: return nil
        }
    }

    /// Whether a path lies under a repository namespace (`simple`, `pypi`, `files`, `cran` as its first
    /// segment): what a repository route answers, or what is refused there. The install gate guards these.
    static func isRepositoryPath(_ path: Substring) -> Bool {
        guard let first = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true).first else { return false }
        return first == "simple" || first == "pypi" || first == "files" || first == "cran"
    }

    /// What the catalog must say before this route can be answered.
    enum Lookup {
        case view(Ecosystem, String)
        case file(Digest, String)
        /// Nothing: the URL is answered (refused) from its text alone.
        case none
    }

    var lookup: Lookup {
        switch self {
        case .simpleIndex(let snapshot), .simpleProject(let snapshot, _): return .view(.pypi, String(snapshot))
        case .cran(let snapshot, _, _): return .view(.cran, String(snapshot))
        case .file(let url):
            guard let digest = url.digest else { return .none }
            return .file(digest, url.distributionName)
        }
    }

    /// The router patterns of these routes.
    static let patterns = [
        "/simple", "/simple/{project}", "/pypi/{snapshot}/simple", "/pypi/{snapshot}/simple/{project}", "/files/sha256/{digest}/{filename}",
        "/cran/{snapshot}/src/contrib/{file}", "/cran/{snapshot}/src/contrib/Archive/{package}/{file}", "/cran/{snapshot}/src/contrib/Meta/{file}",
    ]

    /// The router patterns of the binary repositories (`Endpoint.linuxRepository`).
    static let linuxPatterns = [
        "/cran/__linux__/{distro}/{snapshot}/src/contrib/{file}", "/cran/__linux__/{distro}/{snapshot}/src/contrib/Archive/{package}/{file}",
        "/cran/__linux__/{distro}/{snapshot}/src/contrib/Meta/{file}",
    ]
}

/// Where under `src/contrib` a CRAN URL points: the top, `Archive/{package}/`, or `Meta/`.
enum CRANDirectory: Equatable {
    case contrib
    case archive(Substring)
    case meta
}

/// A file URL's parts, read once: the digest (nil unless lowercase SHA-256 hex), the file name as
/// sent (percent-decoded), what is asked for (the file, its PEP 658 `.metadata` or its PEP 740
/// `.provenance`), and the distribution it names (without that suffix).
struct FileURL: Equatable {
    enum Part: String { case file, metadata, provenance }

    let hex: Substring
    let digest: Digest?
    let filename: String
    let part: Part
    var distributionName: String { part == .file ? filename : String(filename.dropLast(part.rawValue.count + 1)) }

    init(hex: Substring, filename raw: Substring) {
        self.hex = hex
        digest = Digest(hex: String(hex)).flatMap { $0.hex == hex ? $0 : nil }
        filename = raw.utf8.contains(UInt8(ascii: "%")) ? (raw.removingPercentEncoding ?? String(raw)) : String(raw)
        part = filename.hasSuffix(".metadata") ? .metadata : filename.hasSuffix(".provenance") ? .provenance : .file
    }
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
    /// No snapshot serves this file (the router says whether it was revoked, and why).
    case notServedFile(Digest, filename: String)
    /// Any other answer: a redirect, 404, 406.
    case other(Response)
}

extension Endpoint {
    /// The answer to a repository URL, decided from `facts` (what the catalog says the route needs)
    /// without side effects. `path` is the request path as sent (redirects are built from it).
    func answer(_ route: RepositoryRoute, path: Substring, accept: String?, facts: RouteFacts) throws -> RepositoryAnswer {
        switch route {
        case .simpleIndex(let snapshot):
            return simpleIndex(path: path, accept: accept, snapshot: String(snapshot), view: facts.view)
        case .simpleProject(let snapshot, let project):
            return simpleProject(path: path, accept: accept, snapshot: String(snapshot), project: String(project), view: facts.view)
        case .file(let url):
            return file(url, served: facts.served)
        case .cran(let snapshot, let directory, let file):
            return try cranFile(path: path, snapshot: String(snapshot), directory: directory, file: String(file), view: facts.view)
        }
    }

    /// The router's handler for every repository pattern: the facts from the catalog, then the answer.
    func repository(_ req: Request, _ ctx: AirlockRequestContext) async throws -> Response {
        let path = Substring(req.uri.path)
        guard let route = RepositoryRoute(path: path) else { return Responses.notServed(req.uri.path) }
        return try await respond(try answer(route, path: path, accept: req.headers[.accept], facts: try await views.facts(route)), req, ctx)
    }

    /// An answer as a response: a miss is counted, a blob sent (and counted as a download).
    func respond(_ answer: RepositoryAnswer, _ req: Request, _ ctx: AirlockRequestContext) async throws -> Response {
        switch answer {
        case .page(let page): return page.response(to: req)
        case .blob(let digest, let filename):
            countDownload(digest, filename: filename, isHead: req.method == .head, range: req.headers[.range])
            return try await send(digest, named: filename, req, ctx)
        case .miss(let ecosystem, let project, let version, let response):
            await recordMiss(ecosystem, project: project, version: version, client: ctx.clientAddress)
            return response
        case .notServedFile(let digest, let filename):
            if let revoked = try await catalog.revocation(ofFile: digest) {
                return Responses.text(
                    .notFound, "airlock: \(filename) was revoked by \(revoked.actor) on \(Timestamp.format(revoked.createdAt)): \(revoked.reason)")
            }
            return Responses.text(
                .notFound,
                "airlock: \(filename) (sha256 \(digest.hex)) is not served by any snapshot of this airlock. It may never have been approved.")
        case .other(let response): return response
        }
    }

    // MARK: PyPI simple repository

    private func simpleIndex(path: Substring, accept: String?, snapshot: String, view: SnapshotView?) -> RepositoryAnswer {
        if !path.hasSuffix("/") { return .other(Responses.redirect(to: "\(path)/")) }
        guard let format = formats.negotiate(accept) else { return .other(notAcceptable()) }
        guard let view else { return .other(Responses.unknownSnapshot(.pypi, snapshot)) }
        return .page(
            pages.page(view, path: "", variant: format.rawValue, contentType: format.contentType, pinned: view.isExact(snapshot)) {
                SimpleRepositoryRenderer.index(view, format: format)
            })
    }

    private func simpleProject(path: Substring, accept: String?, snapshot: String, project raw: String, view: SnapshotView?) -> RepositoryAnswer {
        let project = raw.utf8.contains(UInt8(ascii: "%")) ? (raw.removingPercentEncoding ?? raw) : raw
        let normalized = ProjectName.normalize(project)
        if project != normalized || !path.hasSuffix("/") {
            let prefix = path.hasPrefix("/simple") ? "/simple" : "/pypi/\(snapshot)/simple"
            return .other(Responses.redirect(to: "\(prefix)/\(normalized)/"))
        }
        guard let format = formats.negotiate(accept) else { return .other(notAcceptable()) }
        guard let view else { return .other(Responses.unknownSnapshot(.pypi, snapshot)) }
        let upstream = view.upstream[normalized]
        guard
            let entry = view.projects[normalized]
                ?? upstream.flatMap({ $0.status.isQuarantined ? SnapshotView.Project(name: ProjectName(normalized), files: [], versions: []) : nil })
        else {
            return .miss(.pypi, project: normalized, version: "", Responses.notApproved(.pypi, project: normalized, snapshot: view.snapshot))
        }
        // A quarantined project's page lists no files and says why (PEP 792), as the upstream's does.
        return .page(
            pages.page(view, path: normalized, variant: format.rawValue, contentType: format.contentType, pinned: view.isExact(snapshot)) {
                SimpleRepositoryRenderer.project(entry, upstream: upstream, snapshot: view.snapshot, format: format)
            })
    }

    func notAcceptable() -> Response {
        Responses.text(
            .notAcceptable,
            "airlock: this index speaks application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html and text/html (PEP 691).")
    }

    // MARK: Files

    private func file(_ url: FileURL, served: Distribution?) -> RepositoryAnswer {
        let (filename, distributionName) = (url.filename, url.distributionName)
        guard let digest = url.digest else {
            return .other(
                Responses.text(
                    .notFound, "airlock: \(url.hex) is not a SHA-256 digest in lowercase hex; file URLs name files by their lowercase digest"))
        }
        guard let served else { return .notServedFile(digest, filename: filename) }
        switch url.part {
        case .file: return .blob(digest, filename: filename)
        case .metadata:
            guard served.kind == .wheel, let metadata = served.metadataDigest else {
                return .other(Responses.text(.notFound, "airlock: no core metadata is served for \(distributionName)"))
            }
            return .blob(metadata, filename: filename)
        case .provenance:
            guard let provenance = served.provenanceDigest else {
                return .other(Responses.text(.notFound, "airlock: \(distributionName) was published without a PEP 740 provenance"))
            }
            return .blob(provenance, filename: filename)
        }
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
