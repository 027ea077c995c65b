import AirlockCatalog
import Foundation
import Hummingbird
import Logging

/// Who is asking: the token presented as `Authorization: Bearer`, or as HTTP basic auth (any user
/// name, the token as password, so `https://__token__:TOKEN@host/simple/` works for pip). Cookies are
/// never read here: the web UI has its own sessions. Failures go to the `DemandRecorder`, which
/// throttles and coalesces them; secrets are never logged.
struct Authenticator: Sendable {
    let catalog: any ReviewCatalog
    let recorder: DemandRecorder
    let logger: Logger

    /// The valid token of at least `role` this secret belongs to, or the problem to answer.
    /// A client over its failed sign-ins per minute gets 429 for every further failure, which is no
    /// longer recorded; a valid token still works from there (one address may be many people behind NAT).
    func require(_ role: Role, secret: String?, path: String, client: String?) throws -> APIToken {
        guard let secret, !secret.isEmpty else {
            throw Problem(
                .unauthorized, "a \(role.rawValue) token is required (Authorization: Bearer TOKEN)",
                headers: [.wwwAuthenticate: "Bearer realm=\"airlock\", Basic realm=\"airlock\""])
        }
        let token: APIToken?
        do {
            token = try catalog.token(secret: secret)
        } catch {
            logger.error("token lookup failed", metadata: ["error": "\(error)"])
            throw Problem(.serviceUnavailable, "tokens cannot be checked right now")
        }
        let refusal: String
        switch token {
        case .none: refusal = "unknown token"
        case .some(let t) where t.revokedAt != nil: refusal = "token '\(t.name)' was revoked"
        case .some(let t) where !t.isValid(at: Date()): refusal = "token '\(t.name)' expired"
        case .some(let t) where t.role < role: throw Problem(.forbidden, "token '\(t.name)' has role \(t.role.rawValue); this needs \(role.rawValue)")
        case .some(let t): return t
        }
        if recorder.isThrottled(client) {
            throw Problem(.tooManyRequests, "too many failed sign-ins from \(client ?? "this client"); wait a minute", headers: [.retryAfter: "60"])
        }
        logger.notice("login failed", metadata: ["reason": "\(refusal)", "client": "\(client ?? "?")", "path": "\(path)"])
        recorder.loginFailed(client: client, reason: refusal)
        throw Problem(.unauthorized, refusal, headers: [.wwwAuthenticate: "Bearer realm=\"airlock\", error=\"invalid_token\""])
    }

    /// The secret of the `Authorization` header, bearer or basic.
    static func secret(in req: Request) -> String? {
        guard let header = req.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        switch parts[0].lowercased() {
        case "bearer": return String(parts[1]).trimmingCharacters(in: .whitespaces)
        case "basic":
            guard let data = Data(base64Encoded: String(parts[1])), let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
            else { return nil }
            return String(text[text.index(after: colon)...])
        default: return nil
        }
    }
}

/// Admits a route group's callers: a valid token of at least `role` in the `Authorization` header,
/// checked before anything else of the request is read (no body is parsed for an anonymous caller).
struct RoleMiddleware: RouterMiddleware {
    typealias Context = AirlockRequestContext
    let role: Role
    let auth: Authenticator

    func handle(_ req: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.caller = try auth.require(role, secret: Authenticator.secret(in: req), path: req.uri.path, client: context.clientAddress)
        return try await next(req, context)
    }
}
