import AirlockCatalog
import AirlockCore
import Foundation
import Hummingbird
import Logging
import Synchronization

/// Who is asking: the token presented as `Authorization: Bearer`, or as HTTP basic auth (any user
/// name, the token as password, so `https://__token__:TOKEN@host/simple/` works for pip). Cookies are
/// never read here: the web UI has its own sessions. Failures go to the `DemandRecorder`, which
/// throttles and coalesces them; secrets are never logged.
struct Authenticator: Sendable {
    let catalog: any ReviewCatalog
    let recorder: DemandRecorder
    let logger: Logger
    private let admitted = AdmittedSecrets()

    init(catalog: any ReviewCatalog, recorder: DemandRecorder, logger: Logger) {
        self.catalog = catalog
        self.recorder = recorder
        self.logger = logger
    }

    /// Whether `secret` belongs to a valid token of at least `role`, recording nothing: the
    /// `DirectResponder` asks this and leaves every refusal to the router, which explains and records
    /// it. A secret found valid is believed for a second (then looked up again), so a revoked or
    /// expired token stops working within a second.
    func admits(_ role: Role, secret: String?) -> Bool {
        guard let secret, !secret.isEmpty else { return false }
        let key = Digest.of(Array(secret.utf8))
        if let known = admitted.role(of: key) { return known >= role }
        guard let token = try? catalog.token(secret: secret), token.isValid(at: Date()) else { return false }
        admitted.remember(key, token.role)
        return token.role >= role
    }

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
    static func secret(in req: Request) -> String? { secret(inHeader: req.headers[.authorization]) }

    /// The secret of an `Authorization` header value, bearer or basic.
    static func secret(inHeader header: String?) -> String? {
        guard let header else { return nil }
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

/// Secrets (by digest) recently found to belong to valid tokens, each for a second.
final class AdmittedSecrets: Sendable {
    private let entries = Mutex<[Digest: (role: Role, until: ContinuousClock.Instant)]>([:])

    func role(of key: Digest) -> Role? {
        entries.withLock { e in
            guard let hit = e[key] else { return nil }
            if hit.until > .now { return hit.role }
            e[key] = nil
            return nil
        }
    }

    func remember(_ key: Digest, _ role: Role) {
        entries.withLock { e in
            if e.count >= 10_000 { e.removeAll() }
            e[key] = (role, .now + .seconds(1))
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
