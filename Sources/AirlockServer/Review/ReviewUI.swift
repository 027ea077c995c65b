import AirlockCatalog
import AirlockCore
import AirlockPublish
import Foundation
import HTTPTypes
import Hummingbird

/// The reviewers' web UI under `/ui/`, rendered on the server (no front-end build, no script): the
/// queue, a project page with the explanation and the dependency closure, approve/deny/revoke forms,
/// snapshots and their diff, the audit log, and the clients' setup page. Signing in starts a
/// server-side session (`SessionStore`); every form, sign-in and sign-out included, carries a CSRF token.
struct ReviewUI {
    let endpoint: Endpoint

    /// The write routes, each of which needs a reviewer session and the CSRF token.
    static let writeRoutes = ["/ui/overrides", "/ui/revocations"]

    func register(on router: Router<AirlockRequestContext>) {
        let sessions = endpoint.sessions
        router.get("/ui/style.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: Self.style)))
        }
        router.get("/ui/login") { _, _ in loginPage(error: nil, status: .ok) }
        router.post("/ui/login") { req, ctx in
            let form = try await Self.form(req, ctx)
            guard let nonce = SessionStore.cookie(SessionStore.loginCookie, in: req), sessions.csrfMatches(form["csrf"], binding: nonce) else {
                return loginPage(error: "the sign-in form expired or came from elsewhere: sign in again", status: .forbidden)
            }
            let secret = form["token"] ?? ""
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
            let form = try await Self.form(req, ctx)
            if let session = sessions.session(for: req) {
                // A sign-out from elsewhere (no CSRF token) changes nothing, neither here nor in the browser.
                guard sessions.csrfMatches(form["csrf"], binding: session.id) else {
                    return page("Refused", nil, "<p class=error>missing or wrong CSRF token: sign out from the page's own button</p>", status: .forbidden)
                }
                sessions.end(session.id)
            }
            var r = Responses.redirect(to: "/ui/login", status: .seeOther)
            r.headers[.setCookie] = sessions.setCookie(SessionStore.cookie, "", maxAge: 0)
            return r
        }
        router.get("/ui/setup") { req, _ in page("Set up your clients", nil, setup(req)) }
        router.get("/ui/") { req, ctx in try await signedIn(req, ctx) { session in page("Review queue", session, try await queue()) } }
        router.get("/ui/projects/{ecosystem}/{project}") { req, ctx in
            try await signedIn(req, ctx) { session in
                let eco = try ReviewAPI.ecosystem(ctx)
                let report = try await ProjectReport.load(endpoint.catalog, eco, ctx.parameters.get("project") ?? "")
                return page("\(report.project) (\(eco.rawValue))", session, projectPage(report, session))
            }
        }
        router.get("/ui/snapshots") { req, ctx in try await signedIn(req, ctx) { session in page("Snapshots", session, try await snapshots(req)) } }
        router.get("/ui/audit") { req, ctx in try await signedIn(req, ctx) { session in page("Audit log", session, try await audit()) } }
        router.post("/ui/overrides") { req, ctx in
            try await acting(req, ctx) { form, token in
                let eco = try Self.ecosystem(form)
                let project = form["project"] ?? "", versions = form["versions"] ?? "", reason = form["reason"] ?? ""
                let expires = try ReviewAPI.date(form["expires_at"], field: "expiry")
                if form["action"] == "deny" {
                    _ = try await endpoint.desk.deny(eco, project: project, versions: versions, reason: reason, expiresAt: expires, actor: "ui:\(token.name)")
                } else {
                    _ = try await endpoint.desk.approve(
                        eco, project: project, versions: versions, reason: reason, expiresAt: expires, withDependencies: form["with_dependencies"] == "on",
                        actor: "ui:\(token.name)")
                }
                return "/ui/projects/\(eco.rawValue)/\(project)"
            }
        }
        router.post("/ui/revocations") { req, ctx in
            try await acting(req, ctx) { form, token in
                let eco = try Self.ecosystem(form)
                let project = form["project"] ?? ""
                _ = try await endpoint.desk.revoke(eco, project: project, version: form["version"] ?? "", reason: form["reason"] ?? "", actor: "ui:\(token.name)")
                return "/ui/projects/\(eco.rawValue)/\(project)"
            }
        }
    }

    // MARK: Sessions and forms

    struct Session {
        let token: APIToken
        let csrf: String
    }

    /// The signed-in reviewer, checked again against the catalog (a revoked token ends the session).
    private func session(_ req: Request, _ ctx: AirlockRequestContext) async -> Session? {
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
            return page(p.status == .notFound ? "Not found" : "Not done", session, "<p class=error>\(esc(e.message))</p>", status: p.status)
        }
    }

    /// A form post: needs a reviewer session and its CSRF token; runs `act`, then shows the page it
    /// names, or the error.
    private func acting(_ req: Request, _ ctx: AirlockRequestContext, _ act: ([String: String], APIToken) async throws -> String) async throws -> Response {
        let form = try await Self.form(req, ctx)
        guard let s = endpoint.sessions.session(for: req), let session = await session(req, ctx) else {
            return page("Refused", nil, "<p class=error>sign in first: <a href=\"/ui/login\">sign in</a></p>", status: .unauthorized)
        }
        guard endpoint.sessions.csrfMatches(form["csrf"], binding: s.id) else {
            return page("Refused", session, "<p class=error>missing or wrong CSRF token: reload the page and submit the form again</p>", status: .forbidden)
        }
        do {
            let next = try await act(form, session.token)
            endpoint.views.invalidate()
            return Responses.redirect(to: next, status: .seeOther)
        } catch let e as AirlockError {
            return page("Not done", session, "<p class=error>\(esc(e.message))</p><p>Go back, correct the form and submit it again.</p>", status: Problem(e).status)
        }
    }

    private static func ecosystem(_ form: [String: String]) throws -> Ecosystem {
        guard let e = Ecosystem(rawValue: form["ecosystem"] ?? "") else { throw AirlockError(.notFound, "unknown ecosystem '\(form["ecosystem"] ?? "")'; use pypi or cran") }
        return e
    }

    private func loginPage(error: String?, status: HTTPResponse.Status) -> Response {
        let nonce = SessionStore.randomID()
        var r = page("Sign in", nil, Self.loginForm(error: error, csrf: endpoint.sessions.csrf(for: nonce)), status: status)
        r.headers[.setCookie] = endpoint.sessions.setCookie(SessionStore.loginCookie, nonce, maxAge: 3600)
        return r
    }

    static func form(_ req: Request, _ ctx: AirlockRequestContext) async throws -> [String: String] {
        let buffer = try await req.body.collect(upTo: ctx.maxUploadSize)
        let text = String(buffer: buffer)
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if kv.count == 2 { out[kv[0]] = kv[1] } else if kv.count == 1 { out[kv[0]] = "" }
        }
        return out
    }

    // MARK: Pages

    private func page(_ title: String, _ session: Session?, _ body: String, status: HTTPResponse.Status = .ok) -> Response {
        let nav = session.map { s in
            """
            <nav><a href="/ui/">Queue</a> <a href="/ui/snapshots">Snapshots</a> <a href="/ui/audit">Audit log</a> <a href="/ui/setup">Setup</a>
            <form method=post action="/ui/logout" class=inline><input type=hidden name=csrf value="\(s.csrf)"><button>Sign out \(esc(s.token.name))</button></form></nav>
            """
        } ?? "<nav><a href=\"/ui/setup\">Setup</a> <a href=\"/ui/login\">Sign in</a></nav>"
        let html = """
            <!doctype html><html lang=en><head><meta charset=utf-8><title>\(esc(title)) · airlock</title>
            <link rel=stylesheet href="/ui/style.css"></head><body>\(nav)<h1>\(esc(title))</h1>\(body)</body></html>
            """
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static let style = """
        body{font:15px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;color:#222}
        nav a{margin-right:1em} table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left}
        .approve{color:#176c2f}.review{color:#8a5a00}.deny,.error,.revoked{color:#a31515} .inline{display:inline}
        pre{background:#f4f4f4;padding:.6em} fieldset{margin:1em 0} label{display:block;margin:.3em 0}
        """

    static func loginForm(error: String?, csrf: String) -> String {
        (error.map { "<p class=error>\(esc($0))</p>" } ?? "")
            + """
            <form method=post action="/ui/login"><input type=hidden name=csrf value="\(csrf)"><label>Reviewer token <input type=password name=token id=token size=70 autocomplete=off></label>
            <button id=sign-in>Sign in</button></form>
            """
    }

    private func queue() async throws -> String {
        let entries = try await ReviewQueue(catalog: endpoint.catalog).entries()
        if entries.isEmpty { return "<p>Nothing waits for review.</p>" }
        let rows = entries.map { e in
            """
            <tr><td>\(e.ecosystem.rawValue)</td><td><a href="/ui/projects/\(e.ecosystem.rawValue)/\(esc(e.project))">\(esc(e.project))</a></td>
            <td>\(esc(e.version))</td><td class=\(e.verdict.rawValue)>\(e.verdict.rawValue)</td><td>\(Int(e.score))</td><td>\(e.demand)</td>
            <td>\(e.lastRequested.map(Timestamp.format) ?? "")</td><td>\(e.reason)\(e.detail.map { ": " + esc($0) } ?? "")</td>
            <td>\(e.unblocks.map(esc).joined(separator: ", "))</td></tr>
            """
        }
        return "<table id=queue><tr><th>Ecosystem</th><th>Project</th><th>Version</th><th>Verdict</th><th>Score</th><th>Requests</th><th>Last requested</th><th>Why</th><th>Held until it is served</th></tr>"
            + rows.joined() + "</table>"
    }

    private func projectPage(_ r: ProjectReport, _ s: Session) -> String {
        let eco = r.ecosystem.rawValue
        var html = "<p>\(r.demand) install request(s) this endpoint could not serve.</p>"
        if let upstream = r.upstream {
            html += "<p id=upstream>Mirrors <code>\(esc(upstream.pageURL))</code>; the upstream marks it <strong>\(esc(upstream.status.described))</strong>.</p>"
        }
        html += "<h2>Versions</h2>"
        for release in r.releases.reversed() {
            let verdict = release.decision?.verdict.rawValue ?? "undecided"
            let state = release.revocation.map { "<span class=revoked>revoked: \(esc($0.reason))</span>" } ?? (release.served ? "served" : "not served")
            html += "<h3>\(esc(release.version)) — <span class=\(verdict)>\(verdict)</span>, score \(Int(release.decision?.score ?? 0)) — \(state)</h3>"
            html += "<p class=publisher>Published by: " + (release.provenance.map {
                "\(esc($0.publisher.summary)), attested \(Timestamp.format($0.signedAt)) (Sigstore, verified offline)"
            } ?? "no verified attestation") + "</p>"
            if let d = release.decision {
                html += "<table class=factors><tr><th>Factor or rule</th><th>What it saw</th><th>Points</th></tr>"
                    + d.factors.map { "<tr><td>\(esc($0.name))</td><td>\(esc($0.signal))</td><td>\(String(format: "%.1f", $0.points))</td></tr>" }.joined() + "</table>"
            }
        }
        html += "<h2>Dependency closure of \(esc(r.releases.last?.version ?? ""))</h2>"
        html += r.closure.isEmpty ? "<p>No dependencies.</p>" : "<table id=closure><tr><th>Project</th><th>Version</th><th>Verdict</th><th>Served</th></tr>"
            + r.closure.map { c in
                "<tr><td>\(esc(c.project))</td><td>\(esc(c.version.isEmpty ? "never synced" : c.version))</td><td class=\(c.decision?.verdict.rawValue ?? "")>\(c.decision?.verdict.rawValue ?? "")</td><td>\(c.served ? "yes" : "no")</td></tr>"
            }.joined() + "</table>"
        if !r.overrides.isEmpty {
            html += "<h2>Overrides</h2><table><tr><th>Action</th><th>Versions</th><th>Reason</th><th>By</th><th>Expires</th></tr>"
                + r.overrides.map {
                    "<tr><td class=\($0.action.rawValue)>\($0.action.rawValue)</td><td>\(esc($0.versions.isEmpty ? "all" : $0.versions))</td><td>\(esc($0.reason))</td><td>\(esc($0.actor))</td><td>\($0.expiresAt.map(Timestamp.format) ?? "never")</td></tr>"
                }.joined() + "</table>"
        }
        let hidden = "<input type=hidden name=csrf value=\"\(s.csrf)\"><input type=hidden name=ecosystem value=\"\(eco)\"><input type=hidden name=project value=\"\(esc(r.project))\">"
        html += """
            <form method=post action="/ui/overrides" id=decide><fieldset><legend>Decide</legend>\(hidden)
            <label>Versions (empty: all; a version; or a range) <input name=versions id=versions value="\(esc(r.releases.last?.version ?? ""))"></label>
            <label>Reason (required) <input name=reason id=reason size=60 required></label>
            <label>Expires (optional, YYYY-MM-DD) <input name=expires_at id=expires_at></label>
            <label><input type=checkbox name=with_dependencies id=with_dependencies checked> approve its unserved dependencies with it (all or none)</label>
            <button name=action value=approve id=approve>Approve</button> <button name=action value=deny id=deny>Deny</button></fieldset></form>
            <form method=post action="/ui/revocations" id=revoke><fieldset><legend>Revoke a release from every snapshot</legend>\(hidden)
            <label>Version <input name=version required></label><label>Reason (required) <input name=reason size=60 required></label>
            <button id=revoke-button>Revoke</button></fieldset></form>
            """
        return html
    }

    private func snapshots(_ req: Request) async throws -> String {
        var html = ""
        for eco in Ecosystem.allCases {
            let list = try await endpoint.catalog.snapshots(eco)
            guard !list.isEmpty else { continue }
            html += "<h2>\(eco.rawValue)</h2><table><tr><th>Id</th><th>Published</th><th>Files</th><th>Policy</th></tr>"
                + list.reversed().map { "<tr><td>\($0.id)</td><td>\(Timestamp.format($0.publishedAt))</td><td>\($0.distributionCount)</td><td>\(esc($0.policyDigest))</td></tr>" }.joined()
                + "</table>"
        }
        let q = req.uri.queryParameters
        if let e = q.get("ecosystem").flatMap(Ecosystem.init(rawValue:)), let from = q.get("from").flatMap(SnapshotSelector.init),
            let to = q.get("to").flatMap(SnapshotSelector.init), let a = try await endpoint.catalog.snapshot(e, from), let b = try await endpoint.catalog.snapshot(e, to)
        {
            let diff = SnapshotDiff(from: a, fromFiles: try await endpoint.catalog.servedFiles(in: a), to: b, toFiles: try await endpoint.catalog.servedFiles(in: b))
            html += "<h2>Diff \(a.id) → \(b.id)</h2><pre>" + (diff.added.map { "+ \($0.project) \($0.version)" } + diff.removed.map { "- \($0.project) \($0.version)" })
                .map(esc).joined(separator: "\n") + "</pre>"
        }
        return html + """
            <form method=get action="/ui/snapshots"><select name=ecosystem><option>pypi</option><option>cran</option></select>
            from <input name=from size=12> to <input name=to size=12 value=latest> <button>Diff</button></form>
            """
    }

    private func audit() async throws -> String {
        let anchors = try PublishedManifests.auditHeads(in: endpoint.options.dataDirectory + "/snapshots")
        let verification = try await endpoint.catalog.verifyAudit(anchors: anchors)
        let events = try await endpoint.catalog.auditEvents(limit: 500)
        return (verification.intact ? "<p>Chain intact over \(verification.events) events.</p>" : "<p class=error>" + verification.problems.map(esc).joined(separator: "<br>") + "</p>")
            + "<table id=audit><tr><th>#</th><th>Time</th><th>Actor</th><th>Action</th><th>Object</th><th>Details</th></tr>"
            + events.map {
                "<tr><td>\($0.id)</td><td>\($0.at)</td><td>\(esc($0.actor))</td><td>\(esc($0.action))</td><td>\(esc($0.object))</td><td>\(esc($0.details))</td></tr>"
            }.joined() + "</table>"
    }

    private func setup(_ req: Request) -> String {
        // The Host header is the client's to write: only a host[:port] is used, and escaped like all text.
        let authority = req.head.authority ?? ""
        let isHost = !authority.isEmpty && authority.utf8.count <= 255
            && authority.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-:[]".unicodeScalars.contains($0)) }
        let base = esc("http://\(isHost ? authority : "airlock.internal:8080")")
        return """
            <p>Point your tools at this server; nothing else on your machine changes. Pin a date (or a snapshot id) for the same bytes forever.</p>
            <h2>pip</h2><pre>[global]\nindex-url = \(base)/simple/</pre><p>in <code>~/.config/pip/pip.conf</code>; for a pinned snapshot use <code>\(base)/pypi/\(Timestamp.day(Date()))/simple/</code>.</p>
            <h2>uv</h2><pre>[[index]]\nurl = "\(base)/simple/"\ndefault = true</pre><p>in <code>uv.toml</code>, or <code>UV_INDEX_URL=\(base)/simple/</code>.</p>
            <h2>R</h2><pre>options(repos = c(CRAN = "\(base)/cran/\(Timestamp.day(Date()))"))</pre><p>in <code>~/.Rprofile</code>; renv and pak read the same option.</p>
            <p>If the server requires a token: <code>\(base.replacingOccurrences(of: "http://", with: "http://__token__:TOKEN@"))/simple/</code>.</p>
            """
    }
}

/// Escapes text for HTML.
func esc(_ s: String) -> String { SimpleRepositoryRenderer.escape(s) }
