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
        (.post, "/api/v1/tokens"), (.delete, "/api/v1/tokens/{id}"), (.post, "/api/v1/check"), (.post, "/api/v1/approvals/lockfile"),
        (.post, "/api/v1/overrides/{id}/withdrawal"), (.get, "/api/v1/stale"),
    ]

    static let maxLockfileUpload = 8 << 20

    /// `POST /api/v1/check`: lockfiles, each by file name (which decides its format) and content.
    struct CheckRequest: Decodable {
        struct File: Decodable {
            let name: String
            let content: String
        }
        let snapshot: String?
        let files: [File]

        enum CodingKeys: String, CodingKey { case snapshot, files }

        /// As documented: `snapshot` a string when present (null is not one), at least one file.
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            snapshot = c.contains(.snapshot) ? try c.decode(String.self, forKey: .snapshot) : nil
            files = try c.decode([File].self, forKey: .files)
            guard !files.isEmpty else { throw DecodingError.dataCorruptedError(forKey: .files, in: c, debugDescription: "no lockfile given") }
        }
    }

    /// `POST /api/v1/approvals/lockfile`: one lockfile to approve, with the reason.
    struct LockfileApprovalRequest: Decodable {
        let name: String
        let content: String
        let reason: String
        let expires_at: String?
    }

    struct WithdrawalRequest: Decodable {
        let reason: String
    }

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

    /// Registers the routes in groups by who may call them: the document for anyone, reads and
    /// decisions for reviewers, tokens for admins. Each group's `RoleMiddleware` admits the caller
    /// before anything of the request is read; `ProblemMiddleware` turns every error into problem+json.
    func register(on router: Router<AirlockRequestContext>) {
        let catalog = endpoint.catalog
        let desk = endpoint.desk
        let api = router.group("/api/v1").add(middleware: ProblemMiddleware())
        api.get("openapi.json") { _, _ in Self.json(OpenAPIDocument.text, raw: true) }

        let readers = api.group().add(middleware: RoleMiddleware(role: .reader, auth: endpoint.auth))
        readers.post("check") { req, ctx in
            // Lockfiles run to megabytes (a uv.lock lists every file of every package): a larger limit than forms.
            let bytes = try await req.body.collect(upTo: Self.maxLockfileUpload)
            let body: CheckRequest
            do { body = try JSONDecoder().decode(CheckRequest.self, from: Data(bytes.readableBytesView)) } catch {
                throw AirlockError(.invalidArgument, "the check request is not {\"snapshot\": …, \"files\": [{\"name\", \"content\"}]}: \(error)")
            }
            let text = body.snapshot ?? "latest"
            guard let selector = SnapshotSelector(text) else {
                throw AirlockError(.invalidArgument, "'\(text)' names no snapshot: use latest, a date YYYY-MM-DD or an id")
            }
            return Self.json(
                try await LockfileCheck(catalog: catalog).check(body.files.map { ($0.name, Array($0.content.utf8)) }, snapshot: selector))
        }

        let reviewers = api.group().add(middleware: RoleMiddleware(role: .reviewer, auth: endpoint.auth))
        reviewers.get("snapshots/{ecosystem}") { _, ctx in Self.json(try await catalog.snapshots(try Self.ecosystem(ctx))) }
        reviewers.get("snapshots/{ecosystem}/{from}/diff/{to}") { _, ctx in
            let eco = try Self.ecosystem(ctx)
            let a = try await snapshot(eco, ctx.parameters.get("from") ?? "")
            let b = try await snapshot(eco, ctx.parameters.get("to") ?? "")
            return Self.json(try await catalog.diff(a, b))
        }
        reviewers.get("projects/{ecosystem}/{project}") { _, ctx in
            Self.json(try await ProjectReport.load(catalog, try Self.ecosystem(ctx), ctx.parameters.get("project") ?? ""))
        }
        reviewers.get("queue") { _, _ in
            await endpoint.demand.flush()
            return Self.json(try await ReviewQueue(catalog: catalog).entries())
        }
        reviewers.get("overrides") { _, _ in Self.json(try await catalog.overrides(nil, project: nil)) }
        reviewers.post("overrides") { req, ctx in
            let body = try await req.decode(as: OverrideRequest.self, context: ctx)
            let expires = try Self.date(body.expires_at, field: "expires_at")
            let actor = "token:\(try ctx.admitted.name)"
            let published: Published
            switch body.action {
            case .approve:
                let (overrides, snapshot) = try await desk.approve(
                    body.ecosystem, project: body.project, versions: body.versions ?? "", reason: body.reason, expiresAt: expires,
                    withDependencies: body.with_dependencies ?? false, actor: actor)
                published = Published(overrides: overrides, revocation: nil, snapshot: snapshot)
            case .deny:
                let (o, s) = try await desk.deny(
                    body.ecosystem, project: body.project, versions: body.versions ?? "", reason: body.reason, expiresAt: expires, actor: actor)
                published = Published(overrides: [o], revocation: nil, snapshot: s)
            }
            endpoint.views.invalidate()
            return Self.json(published)
        }
        reviewers.post("approvals/lockfile") { req, ctx in
            let bytes = try await req.body.collect(upTo: Self.maxLockfileUpload)
            let body: LockfileApprovalRequest
            do { body = try JSONDecoder().decode(LockfileApprovalRequest.self, from: Data(bytes.readableBytesView)) } catch {
                throw AirlockError(.invalidArgument, "the approval request is not {\"name\", \"content\", \"reason\", \"expires_at\"}: \(error)")
            }
            let approval = try await desk.approve(
                lockfile: body.name, bytes: Array(body.content.utf8), reason: body.reason,
                expiresAt: try Self.date(body.expires_at, field: "expires_at"),
                actor: "token:\(try ctx.admitted.name)")
            endpoint.views.invalidate()
            return Self.json(approval)
        }
        reviewers.post("overrides/{id}/withdrawal") { req, ctx in
            guard let id = Int64(ctx.parameters.get("id") ?? "") else { throw AirlockError(.invalidArgument, "override id must be a number") }
            let body = try await req.decode(as: WithdrawalRequest.self, context: ctx)
            let (o, snapshot) = try await desk.withdraw(override: id, reason: body.reason, actor: "token:\(try ctx.admitted.name)")
            endpoint.views.invalidate()
            return Self.json(Published(overrides: [o], revocation: nil, snapshot: snapshot))
        }
        reviewers.get("stale") { req, _ in
            let text = req.uri.queryParameters.get("unused_for") ?? "90d"
            guard let window = DurationText.parse(text), window >= .seconds(86_400) else {
                throw AirlockError(.invalidArgument, "unused_for takes a duration of at least a day, such as 90d, not '\(text.prefix(40))'")
            }
            await endpoint.demand.flush()
            return Self.json(try await StaleOverrides(catalog: catalog).report(unusedFor: TimeInterval(window.components.seconds)))
        }
        reviewers.get("revocations") { _, _ in Self.json(try await catalog.revocations(nil)) }
        reviewers.post("revocations") { req, ctx in
            let body = try await req.decode(as: RevocationRequest.self, context: ctx)
            let (r, snapshot) = try await desk.revoke(
                body.ecosystem, project: body.project, version: body.version, reason: body.reason, actor: "token:\(try ctx.admitted.name)")
            endpoint.views.invalidate()
            return Self.json(Published(overrides: [], revocation: r, snapshot: snapshot))
        }
        reviewers.get("misses") { _, _ in
            await endpoint.demand.flush()
            return Self.json(try await catalog.misses(nil))
        }
        reviewers.get("audit") { _, _ in Self.json(try await catalog.auditEvents(limit: 1000)) }

        let admins = api.group().add(middleware: RoleMiddleware(role: .admin, auth: endpoint.auth))
        admins.get("tokens") { _, _ in Self.json(try await catalog.tokens()) }
        admins.post("tokens") { req, ctx in
            let body = try await req.decode(as: TokenRequest.self, context: ctx)
            let (created, secret) = try await catalog.createToken(
                name: body.name, role: body.role, expiresAt: try Self.date(body.expires_at, field: "expires_at"),
                actor: "token:\(try ctx.admitted.name)", at: Date())
            return Self.json(CreatedToken(token: created, secret: secret), status: .created)
        }
        admins.delete("tokens/{id}") { _, ctx in
            guard let id = Int64(ctx.parameters.get("id") ?? "") else { throw AirlockError(.invalidArgument, "token id must be a number") }
            try await catalog.revokeToken(id: id, actor: "token:\(try ctx.admitted.name)", at: Date())
            endpoint.auth.forget()
            endpoint.sessions.endAll(ofTokenID: id)
            return Self.json(["revoked": id])
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

    static func ecosystem(_ ctx: AirlockRequestContext) throws -> Ecosystem {
        let raw = ctx.parameters.get("ecosystem") ?? ""
        guard let e = Ecosystem(rawValue: raw) else { throw AirlockError(.notFound, "unknown ecosystem '\(raw)'; use pypi or cran") }
        return e
    }

    private func snapshot(_ ecosystem: Ecosystem, _ text: String) async throws -> Snapshot {
        guard let selector = SnapshotSelector(text), let s = try await endpoint.catalog.snapshot(ecosystem, selector) else {
            throw AirlockError(.notFound, "no \(ecosystem.rawValue) snapshot matches '\(text)'")
        }
        return s
    }

    /// A date field: `YYYY-MM-DD` or RFC 3339 UTC.
    static func date(_ text: String?, field: String) throws -> Date? {
        guard let text, !text.isEmpty else { return nil }
        guard let d = Timestamp.parse(text) ?? Timestamp.parse(text + "T00:00:00Z") else {
            throw AirlockError(
                .invalidArgument, "\(field) '\(text)' is not a date: use YYYY-MM-DD or an RFC 3339 UTC time such as 2026-12-31T00:00:00Z")
        }
        return d
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
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(_ text: String, raw: Bool) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
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
    /// The upstream page the project was last read from and the status it marked (PEP 708, PEP 792).
    let upstream: UpstreamProject?

    static func load(_ catalog: any ReviewCatalog & SnapshotCatalog, _ ecosystem: Ecosystem, _ raw: String) async throws -> ProjectReport {
        let project = ecosystem == .pypi ? ProjectName.normalize(raw) : raw
        let releases = try await catalog.releaseReviews(ecosystem, project: project)
        guard let newest = releases.last else { throw AirlockError(.notFound, "\(ecosystem.rawValue) project '\(project)' is not in the catalog") }
        return ProjectReport(
            ecosystem: ecosystem, project: project, releases: releases, overrides: try await catalog.overrides(ecosystem, project: project),
            closure: try await ReviewQueue(catalog: catalog).closure(ecosystem, project: project, version: newest.version),
            demand: try await catalog.misses(ecosystem).filter { $0.project == project }.reduce(0) { $0 + $1.count },
            upstream: try await catalog.upstreamProjects(ecosystem)[project])
    }
}
