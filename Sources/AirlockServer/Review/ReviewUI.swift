import AirlockCatalog
import AirlockCore
import AirlockPublish
import Foundation
import HTTPTypes
import Hummingbird

/// The web UI, rendered on the server from Mustache templates (`UITemplates`; no script): the landing
/// page at `/` with the clients' setup, and under `/ui/` for reviewers the queue, project search, a project
/// page (the score as a bar per factor, downloads and demand over time, overrides, the closure), snapshots
/// and their diffs, misses, unused overrides, a lockfile check (and approval), and the audit log; the long
/// lists paginated. Signing in starts a server-side session (`SessionStore`); every form, sign-in and
/// sign-out included, carries a CSRF token; forms are decoded by Hummingbird's `URLEncodedFormDecoder`.
struct ReviewUI {
    let endpoint: Endpoint

    /// The write routes, each of which needs a reviewer session and the CSRF token.
    static let writeRoutes = ["/ui/overrides", "/ui/revocations", "/ui/overrides/1/withdrawal", "/ui/check"]

    func register(on router: Router<AirlockRequestContext>) {
        let sessions = endpoint.sessions
        router.get("/ui/style.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: UITemplates.style)))
        }
        router.get("/") { req, ctx in try await landing(req, ctx) }
        router.get("/ui/setup") { req, ctx in try await landing(req, ctx) }
        router.get("/ui/login") { _, _ in loginPage(error: nil, status: .ok) }
        router.post("/ui/login") { req, ctx in
            let form = try await Self.decode(LoginForm.self, req, ctx)
            guard let nonce = SessionStore.cookie(SessionStore.loginCookie, in: req), sessions.csrfMatches(form?.csrf, binding: nonce) else {
                return loginPage(error: "the sign-in form expired or came from elsewhere: sign in again", status: .forbidden)
            }
            let secret = form?.token ?? ""
            let token: APIToken
            do {
                token = try await endpoint.auth.require(.reviewer, secret: secret, path: req.uri.path, client: ctx.clientAddress)
            } catch let p as Problem {
                return loginPage(error: p.detail, status: p.status)
            }
            let session = sessions.start(secret: secret, tokenID: token.id)
            var r = Responses.redirect(to: "/ui/", status: .seeOther)
            r.headers.append(HTTPField(name: .setCookie, value: sessions.setCookie(SessionStore.cookie, session.id)))
            r.headers.append(HTTPField(name: .setCookie, value: sessions.setCookie(SessionStore.loginCookie, "", maxAge: 0)))
            return r
        }
        router.post("/ui/logout") { req, ctx in
            let form = try await Self.decode(CSRFForm.self, req, ctx)
            if let session = sessions.session(for: req) {
                // A sign-out from elsewhere (no CSRF token) changes nothing, neither here nor in the browser.
                guard sessions.csrfMatches(form?.csrf, binding: session.id) else {
                    return message("Refused", nil, error: "missing or wrong CSRF token: sign out from the page's own button", status: .forbidden)
                }
                sessions.end(session.id)
            }
            var r = Responses.redirect(to: "/ui/login", status: .seeOther)
            r.headers[.setCookie] = sessions.setCookie(SessionStore.cookie, "", maxAge: 0)
            return r
        }
        router.get("/ui/") { req, ctx in try await signedIn(req, ctx) { s in try await queuePage(req, s) } }
        router.get("/ui/projects") { req, ctx in try await signedIn(req, ctx) { s in try await projectsPage(req, s) } }
        router.get("/ui/projects/{ecosystem}/{project}") { req, ctx in
            try await signedIn(req, ctx) { s in
                let report = try await ProjectReport.load(endpoint.catalog, try ReviewAPI.ecosystem(ctx), ctx.parameters.get("project") ?? "")
                return try await projectPage(report, s)
            }
        }
        router.get("/ui/snapshots") { req, ctx in try await signedIn(req, ctx) { s in try await snapshotsPage(req, s) } }
        router.get("/ui/snapshots/diff") { req, ctx in try await signedIn(req, ctx) { s in try await diffPage(req, s) } }
        router.get("/ui/misses") { req, ctx in try await signedIn(req, ctx) { s in try await missesPage(req, s) } }
        router.get("/ui/stale") { req, ctx in try await signedIn(req, ctx) { s in try await stalePage(req, s) } }
        router.get("/ui/check") { req, ctx in
            try await signedIn(req, ctx) { s in
                page("check", "Check a lockfile", s, CheckView(csrf: s.csrf, name: "requirements.txt", content: "", snapshot: "latest"))
            }
        }
        router.post("/ui/check") { req, ctx in try await checkLockfile(req, ctx) }
        router.get("/ui/audit") { req, ctx in try await signedIn(req, ctx) { s in try await auditPage(req, s) } }
        router.post("/ui/overrides") { req, ctx in
            try await acting(DecideForm.self, req, ctx) { form, token in
                let eco = try Self.ecosystem(form.ecosystem)
                let expires = try ReviewAPI.date(form.expires_at, field: "expiry")
                if form.action == "deny" {
                    _ = try await endpoint.desk.deny(
                        eco, project: form.project, versions: form.versions ?? "", reason: form.reason, expiresAt: expires, actor: "ui:\(token.name)")
                } else {
                    _ = try await endpoint.desk.approve(
                        eco, project: form.project, versions: form.versions ?? "", reason: form.reason, expiresAt: expires,
                        withDependencies: form.with_dependencies == "on", actor: "ui:\(token.name)")
                }
                return "/ui/projects/\(eco.rawValue)/\(form.project)"
            }
        }
        router.post("/ui/revocations") { req, ctx in
            try await acting(RevokeForm.self, req, ctx) { form, token in
                let eco = try Self.ecosystem(form.ecosystem)
                _ = try await endpoint.desk.revoke(eco, project: form.project, version: form.version, reason: form.reason, actor: "ui:\(token.name)")
                return "/ui/projects/\(eco.rawValue)/\(form.project)"
            }
        }
        router.post("/ui/overrides/{id}/withdrawal") { req, ctx in
            try await acting(WithdrawForm.self, req, ctx) { form, token in
                guard let id = Int64(ctx.parameters.get("id") ?? "") else { throw AirlockError(.invalidArgument, "override id must be a number") }
                let (o, _) = try await endpoint.desk.withdraw(override: id, reason: form.reason, actor: "ui:\(token.name)")
                return "/ui/projects/\(o.ecosystem.rawValue)/\(o.project)"
            }
        }
    }

    // MARK: Forms

    struct CSRFForm: Decodable { let csrf: String? }
    struct LoginForm: Decodable {
        let csrf: String?
        let token: String?
    }
    struct DecideForm: Decodable {
        let ecosystem: String
        let project: String
        let versions: String?
        let reason: String
        let expires_at: String?
        let with_dependencies: String?
        let action: String?
    }
    struct RevokeForm: Decodable {
        let ecosystem: String
        let project: String
        let version: String
        let reason: String
    }
    struct WithdrawForm: Decodable { let reason: String }
    struct CheckForm: Decodable {
        let name: String
        let content: String
        let snapshot: String?
        let action: String?
        let reason: String?
        let expires_at: String?
    }

    /// A form's fields, decoded by Hummingbird's decoder; nil when the body is not a form of this shape.
    static func decode<T: Decodable>(_ type: T.Type, _ req: Request, _ ctx: AirlockRequestContext, limit: Int? = nil) async throws -> T? {
        let body = String(buffer: try await req.body.collect(upTo: limit ?? ctx.maxUploadSize))
        return try? URLEncodedFormDecoder().decode(T.self, from: body)
    }

    // MARK: Sessions

    struct Session {
        let token: APIToken
        let csrf: String
    }

    /// The signed-in reviewer, checked again against the catalog (a revoked token ends the session).
    func session(_ req: Request, _ ctx: AirlockRequestContext) async -> Session? {
        guard let s = endpoint.sessions.session(for: req) else { return nil }
        guard let token = try? await endpoint.auth.require(.reviewer, secret: s.secret, path: req.uri.path, client: ctx.clientAddress) else {
            endpoint.sessions.end(s.id)
            return nil
        }
        return Session(token: token, csrf: endpoint.sessions.csrf(for: s.id))
    }

    private func signedIn(_ req: Request, _ ctx: AirlockRequestContext, _ body: (Session) async throws -> Response) async throws -> Response {
        guard let session = await session(req, ctx) else { return Responses.redirect(to: "/ui/login", status: .seeOther) }
        do {
            return try await body(session)
        } catch let e as AirlockError {
            let p = Problem(e)
            return message(p.status == .notFound ? "Not found" : "Not done", session, error: e.message, status: p.status)
        }
    }

    /// A form post: needs a reviewer session and its CSRF token (checked before the form is read any
    /// further); runs `act`, then shows the page it names, or the error.
    func acting<Form: Decodable>(
        _ type: Form.Type, _ req: Request, _ ctx: AirlockRequestContext, limit: Int? = nil, _ act: (Form, APIToken) async throws -> String
    ) async throws -> Response {
        let body = String(buffer: try await req.body.collect(upTo: limit ?? ctx.maxUploadSize))
        guard let s = endpoint.sessions.session(for: req), let session = await session(req, ctx) else {
            return message("Refused", nil, error: "sign in first", hint: "<a href=\"/ui/login\">Sign in</a>", status: .unauthorized)
        }
        let csrf = try? URLEncodedFormDecoder().decode(CSRFForm.self, from: body)
        guard endpoint.sessions.csrfMatches(csrf?.csrf, binding: s.id) else {
            return message("Refused", session, error: "missing or wrong CSRF token: reload the page and submit the form again", status: .forbidden)
        }
        do {
            let form: Form
            do { form = try URLEncodedFormDecoder().decode(Form.self, from: body) } catch {
                throw AirlockError(.invalidArgument, "the form is incomplete: \(Self.describe(error))")
            }
            let next = try await act(form, session.token)
            endpoint.views.invalidate()
            return Responses.redirect(to: next, status: .seeOther)
        } catch let e as AirlockError {
            return message("Not done", session, error: e.message, hint: "Go back, correct the form and submit it again.", status: Problem(e).status)
        }
    }

    /// A decoding error as a reader would put it: which field is missing or wrong.
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "'\(key.stringValue)' is missing"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c):
            return "'\(c.codingPath.map(\.stringValue).joined(separator: "."))' is not valid"
        default: return "\(error)"
        }
    }

    static func ecosystem(_ text: String) throws -> Ecosystem {
        guard let e = Ecosystem(rawValue: text) else { throw AirlockError(.notFound, "unknown ecosystem '\(text.prefix(20))'; use pypi or cran") }
        return e
    }

    // MARK: Rendering

    func page(_ template: String, _ title: String, _ s: Session?, _ content: Any, query: String = "", status: HTTPResponse.Status = .ok) -> Response {
        UITemplates.response(
            template, PageView(title: title, reviewer: s.map { .init(name: $0.token.name) }, csrf: s?.csrf, error: nil, query: query, page: content),
            status: status)
    }

    func message(_ title: String, _ s: Session?, error: String, hint: String? = nil, status: HTTPResponse.Status) -> Response {
        struct Message { let hint: String? }
        return UITemplates.response(
            "message", PageView(title: title, reviewer: s.map { .init(name: $0.token.name) }, csrf: s?.csrf, error: error, page: Message(hint: hint)),
            status: status)
    }

    private func loginPage(error: String?, status: HTTPResponse.Status) -> Response {
        struct Login { let loginCSRF: String }
        let nonce = SessionStore.randomID()
        var r = UITemplates.response(
            "login", PageView(title: "Sign in", reviewer: nil, csrf: nil, error: error, page: Login(loginCSRF: endpoint.sessions.csrf(for: nonce))),
            status: status)
        r.headers[.setCookie] = endpoint.sessions.setCookie(SessionStore.loginCookie, nonce, maxAge: 3600)
        return r
    }
}
