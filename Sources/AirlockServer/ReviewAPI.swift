import AirlockCatalog
import AirlockCore
import AirlockPublish
import Foundation
import Hummingbird

/// The JSON API under `/api/v1`: snapshots and diffs, projects with decisions and explanations, the
/// review queue, overrides, revocations, misses, the audit log and tokens. Reads need a reviewer
/// token, token management an admin one. `/api/v1/openapi.json` documents exactly these routes.
struct ReviewAPI {
    let endpoint: Endpoint

    /// Every route as `METHOD path`, as the OpenAPI document must list them.
    static let routes: [(method: HTTPRequest.Method, path: String)] = [
        (.get, "/api/v1/openapi.json"), (.get, "/api/v1/snapshots/{ecosystem}"), (.get, "/api/v1/snapshots/{ecosystem}/{from}/diff/{to}"),
        (.get, "/api/v1/projects/{ecosystem}/{project}"), (.get, "/api/v1/queue"), (.get, "/api/v1/overrides"), (.post, "/api/v1/overrides"),
        (.get, "/api/v1/revocations"), (.post, "/api/v1/revocations"), (.get, "/api/v1/misses"), (.get, "/api/v1/audit"), (.get, "/api/v1/tokens"),
        (.post, "/api/v1/tokens"), (.delete, "/api/v1/tokens/{id}"),
    ]

    struct OverrideRequest: Decodable {
        let ecosystem: Ecosystem
        let project: String
        let versions: String?
        let action: Override.Action
        let reason: String
        let expires_at: String?
        let with_dependencies: Bool?
    }

    struct RevocationRequest: Decodable {
        let ecosystem: Ecosystem
        let project: String
        let version: String
        let reason: String
    }

    struct TokenRequest: Decodable {
        let name: String
        let role: Role
        let expires_at: String?
    }

    func register(on router: Router<AirlockRequestContext>) {
        let catalog = endpoint.catalog
        router.get("/api/v1/openapi.json") { _, _ in Self.json(OpenAPIDocument.text, raw: true) }
        router.get("/api/v1/snapshots/{ecosystem}") { req, ctx in
            try guarded(.reviewer, req, ctx) { _ in try catalog.snapshots(try ecosystem(ctx)) }
        }
        router.get("/api/v1/snapshots/{ecosystem}/{from}/diff/{to}") { req, ctx in
            try guarded(.reviewer, req, ctx) { _ in
                let eco = try ecosystem(ctx)
                let a = try snapshot(eco, ctx.parameters.get("from") ?? ""), b = try snapshot(eco, ctx.parameters.get("to") ?? "")
                return SnapshotDiff(from: a, fromFiles: try catalog.servedFiles(in: a), to: b, toFiles: try catalog.servedFiles(in: b))
            }
        }
        router.get("/api/v1/projects/{ecosystem}/{project}") { req, ctx in
            try guarded(.reviewer, req, ctx) { _ in try ProjectReport.load(catalog, try ecosystem(ctx), ctx.parameters.get("project") ?? "") }
        }
        router.get("/api/v1/queue") { req, ctx in try guarded(.reviewer, req, ctx) { _ in try ReviewQueue(catalog: catalog).entries() } }
        router.get("/api/v1/overrides") { req, ctx in try guarded(.reviewer, req, ctx) { _ in try catalog.overrides(nil, project: nil) } }
        router.post("/api/v1/overrides") { req, ctx in
            let body = try await req.decode(as: OverrideRequest.self, context: ctx)
            return try guarded(.reviewer, req, ctx) { token in
                let expires = try Self.date(body.expires_at, field: "expires_at")
                let actor = "token:\(token.name)"
                let result: [Override]
                let snapshot: Snapshot
                switch body.action {
                case .approve:
                    (result, snapshot) = try endpoint.desk.approve(
                        body.ecosystem, project: body.project, versions: body.versions ?? "", reason: body.reason, expiresAt: expires,
                        withDependencies: body.with_dependencies ?? false, actor: actor)
                case .deny:
                    let (o, s) = try endpoint.desk.deny(body.ecosystem, project: body.project, versions: body.versions ?? "", reason: body.reason, expiresAt: expires, actor: actor)
                    (result, snapshot) = ([o], s)
                }
                endpoint.views.invalidate()
                return Published(overrides: result, revocation: nil, snapshot: snapshot)
            }
        }
        router.get("/api/v1/revocations") { req, ctx in try guarded(.reviewer, req, ctx) { _ in try catalog.revocations(nil) } }
        router.post("/api/v1/revocations") { req, ctx in
            let body = try await req.decode(as: RevocationRequest.self, context: ctx)
            return try guarded(.reviewer, req, ctx) { token in
                let (r, snapshot) = try endpoint.desk.revoke(body.ecosystem, project: body.project, version: body.version, reason: body.reason, actor: "token:\(token.name)")
                endpoint.views.invalidate()
                return Published(overrides: [], revocation: r, snapshot: snapshot)
            }
        }
        router.get("/api/v1/misses") { req, ctx in try guarded(.reviewer, req, ctx) { _ in try catalog.misses(nil) } }
        router.get("/api/v1/audit") { req, ctx in try guarded(.reviewer, req, ctx) { _ in try catalog.auditEvents(limit: 1000) } }
        router.get("/api/v1/tokens") { req, ctx in try guarded(.admin, req, ctx) { _ in try catalog.tokens() } }
        router.post("/api/v1/tokens") { req, ctx in
            let body = try await req.decode(as: TokenRequest.self, context: ctx)
            return try guarded(.admin, req, ctx) { token in
                let (created, secret) = try catalog.createToken(
                    name: body.name, role: body.role, expiresAt: try Self.date(body.expires_at, field: "expires_at"), actor: "token:\(token.name)", at: Date())
                return CreatedToken(token: created, secret: secret)
            }
        }
        router.delete("/api/v1/tokens/{id}") { req, ctx in
            try guarded(.admin, req, ctx) { token in
                guard let id = Int64(ctx.parameters.get("id") ?? "") else { throw AirlockError(.invalidArgument, "token id must be a number") }
                try catalog.revokeToken(id: id, actor: "token:\(token.name)", at: Date())
                return ["revoked": id]
            }
        }
    }

    struct Published: Encodable {
        let overrides: [Override]
        let revocation: Revocation?
        let snapshot: Snapshot
    }

    struct CreatedToken: Encodable {
        let token: APIToken
        /// Shown once; only its hash is kept.
        let secret: String
    }

    /// Runs `body` for a caller holding at least `role`, answering JSON; errors become JSON with the
    /// status their kind calls for.
    private func guarded<T: Encodable>(_ role: Role, _ req: Request, _ ctx: AirlockRequestContext, _ body: (APIToken) throws -> T) throws -> Response {
        switch endpoint.auth.require(role, req, client: ctx.clientAddress) {
        case .failure(let e): return Self.error(e.status, e.body ?? "unauthorized", headers: e.headers)
        case .success(let token):
            do {
                return Self.json(try body(token))
            } catch let e as AirlockError {
                let status: HTTPResponse.Status = e.code == .notFound ? .notFound : e.code == .catalog || e.code == .storage ? .internalServerError : .badRequest
                return Self.error(status, e.message)
            }
        }
    }

    private func ecosystem(_ ctx: AirlockRequestContext) throws -> Ecosystem {
        let raw = ctx.parameters.get("ecosystem") ?? ""
        guard let e = Ecosystem(rawValue: raw) else { throw AirlockError(.notFound, "unknown ecosystem '\(raw)'; use pypi or cran") }
        return e
    }

    private func snapshot(_ ecosystem: Ecosystem, _ text: String) throws -> Snapshot {
        guard let selector = SnapshotSelector(text), let s = try endpoint.catalog.snapshot(ecosystem, selector) else {
            throw AirlockError(.notFound, "no \(ecosystem.rawValue) snapshot matches '\(text)'")
        }
        return s
    }

    static func date(_ text: String?, field: String) throws -> Date? {
        guard let text, !text.isEmpty else { return nil }
        if let d = Timestamp.parse(text) ?? Timestamp.parse(text + "T00:00:00Z") { return d }
        throw AirlockError(.invalidArgument, "\(field) '\(text)' is not a date: use YYYY-MM-DD or an RFC 3339 UTC time such as 2026-12-31T00:00:00Z")
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, enc in
            var c = enc.singleValueContainer()
            try c.encode(Timestamp.format(date))
        }
        return e
    }()

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(_ text: String, raw: Bool) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        var r = json(["error": message], status: status)
        for h in headers { r.headers.append(h) }
        return r
    }
}

/// A project as reviewers see it: every recorded release with its decision and explanation, the
/// overrides on it, and what approving its newest release would pull in.
struct ProjectReport: Encodable {
    let ecosystem: Ecosystem
    let project: String
    let releases: [ReleaseReview]
    let overrides: [Override]
    let closure: [ReleaseReview]
    let demand: Int

    static func load(_ catalog: any ReviewCatalog, _ ecosystem: Ecosystem, _ raw: String) throws -> ProjectReport {
        let project = ecosystem == .pypi ? ProjectName.normalize(raw) : raw
        let releases = try catalog.releaseReviews(ecosystem, project: project)
        guard let newest = releases.last else { throw AirlockError(.notFound, "\(ecosystem.rawValue) project '\(project)' is not in the catalog") }
        return ProjectReport(
            ecosystem: ecosystem, project: project, releases: releases, overrides: try catalog.overrides(ecosystem, project: project),
            closure: try ReviewQueue(catalog: catalog).closure(ecosystem, project: project, version: newest.version),
            demand: try catalog.misses(ecosystem).filter { $0.project == project }.reduce(0) { $0 + $1.count })
    }
}
