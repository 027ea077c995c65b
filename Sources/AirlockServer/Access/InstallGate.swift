import AirlockCatalog
import Hummingbird

/// When installs require a token, refuses every path under the repositories' namespaces (what the
/// repository routes answer, and anything else there) without one of role `reader` or above. The
/// path is canonical by the time the router sees it (`CanonicalPath`, checked by the connection's
/// `DirectResponder`), and the namespace is read by segment, never as a string prefix. The API and
/// UI check their own roles; `/healthz` stays open.
struct InstallGate: RouterMiddleware {
    typealias Context = AirlockRequestContext
    let required: Bool
    let auth: Authenticator

    func handle(_ req: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard required, RepositoryRoute.isRepositoryPath(Substring(req.uri.path)) else { return try await next(req, context) }
        do {
            _ = try await auth.require(.reader, secret: Authenticator.secret(in: req), path: req.uri.path, client: context.clientAddress)
        } catch let p as Problem {
            return Responses.text(p.status, "airlock: \(p.detail)", headers: p.headers)
        }
        return try await next(req, context)
    }
}
