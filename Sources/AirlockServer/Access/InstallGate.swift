import AirlockCatalog
import Hummingbird

/// When installs require a token, refuses the repository and file routes without one of role
/// `reader` or above. The API and UI check their own roles; `/healthz` stays open.
struct InstallGate: RouterMiddleware {
    typealias Context = AirlockRequestContext
    let required: Bool
    let auth: Authenticator

    static let installPrefixes = ["/simple", "/pypi/", "/files/", "/cran/"]

    func handle(_ req: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard required, Self.installPrefixes.contains(where: req.uri.path.hasPrefix) else { return try await next(req, context) }
        do {
            _ = try auth.require(.reader, secret: Authenticator.secret(in: req), path: req.uri.path, client: context.clientAddress)
        } catch let p as Problem {
            return Responses.text(p.status, "airlock: \(p.detail)", headers: p.headers)
        }
        return try await next(req, context)
    }
}
