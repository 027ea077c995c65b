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

    /// Whether `secret` is known, from the last second, to belong to a valid token of at least
    /// `role`. The direct paths ask this on the event loop, where the catalog is never read: false
    /// sends the request to the router, which checks the catalog (`require`), explains and records a
    /// refusal, or remembers the secret for a second. So a token revoked or expired elsewhere stops
    /// working here within a second; `forget` makes this process's own revocations immediate.
    func admits(_ role: Role, secret: String?) -> Bool {
        guard let secret, !secret.isEmpty else { return false }
        return admitted.role(of: Digest.of(Array(secret.utf8))).map { $0 >= role } ?? false
    }

    /// Forgets every remembered secret (a token was revoked here).
    func forget() { admitted.clear() }

    /// The valid token of at least `role` this secret belongs to, or the problem to answer.
    /// A client over its failed sign-ins per minute gets 429 for every further failure, which is no
    /// longer recorded; a valid token still works from there (one address may be many people behind NAT).
    func require(_ role: Role, secret: String?, path: String, client: String?) async throws -> APIToken {
        guard let secret, !secret.isEmpty else {
            throw Problem(
                .unauthorized, "a \(role.rawValue) token is required (Authorization: Bearer TOKEN)",
                headers: [.wwwAuthenticate: "Bearer realm=\"airlock\", Basic realm=\"airlock\""])
        }
        let token: APIToken?
        do {
            token = try await catalog.token(secret: secret)
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
        case .some(let t):
            admitted.remember(Digest.of(Array(secret.utf8)), t.role, expiresAt: t.expiresAt)
            return t
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
            guard let data = Data(base64Encoded: String(parts[1])), let text = String(data: data, encoding: .utf8),
                let colon = text.firstIndex(of: ":")
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

    /// Remembers a secret for a second, or until its token expires if that is sooner.
    func remember(_ key: Digest, _ role: Role, expiresAt: Date?) {
        var until = ContinuousClock.now + .seconds(1)
        if let expiresAt {
            let left = expiresAt.timeIntervalSinceNow
            guard left > 0 else { return }
            if left < 1 { until = .now + .milliseconds(Int64(left * 1000)) }
        }
        entries.withLock { e in
            if e.count >= 10_000 { e.removeAll() }
            e[key] = (role, until)
        }
    }

    func clear() { entries.withLock { $0.removeAll() } }
}

/// Admits a route group's callers: a valid token of at least `role` in the `Authorization` header,
/// checked before anything else of the request is read (no body is parsed for an anonymous caller).
struct RoleMiddleware: RouterMiddleware {
    typealias Context = AirlockRequestContext
    let role: Role
    let auth: Authenticator

    func handle(_ req: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.caller = try await auth.require(role, secret: Authenticator.secret(in: req), path: req.uri.path, client: context.clientAddress)
        return try await next(req, context)
    }
}
