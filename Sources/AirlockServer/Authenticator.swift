import AirlockCatalog
import Foundation
import Hummingbird
import Logging

/// Who is asking: the token presented as `Authorization: Bearer`, as HTTP basic auth (any user name,
/// the token as password, so `https://__token__:TOKEN@host/simple/` works for pip), or in the web UI's
/// session cookie. Wrong and expired tokens are audited as login failures; secrets are never logged.
struct Authenticator: Sendable {
    static let sessionCookie = "airlock_session"

    enum Outcome {
        case anonymous
        case token(APIToken)
        /// A token was presented but is wrong, expired or revoked: the message says which.
        case refused(String)
    }

    let catalog: any ReviewCatalog
    let logger: Logger

    func authenticate(secret: String?, path: String, client: String?) -> Outcome {
        guard let secret, !secret.isEmpty else { return .anonymous }
        let outcome: Outcome
        do {
            if let token = try catalog.token(secret: secret) {
                if token.revokedAt != nil {
                    outcome = .refused("token '\(token.name)' was revoked")
                } else if !token.isValid(at: Date()) {
                    outcome = .refused("token '\(token.name)' expired")
                } else {
                    return .token(token)
                }
            } else {
                outcome = .refused("unknown token")
            }
        } catch {
            logger.error("token lookup failed", metadata: ["error": "\(error)"])
            return .refused("tokens cannot be checked right now")
        }
        if case .refused(let why) = outcome {
            logger.notice("login failed", metadata: ["reason": "\(why)", "client": "\(client ?? "?")", "path": "\(path)"])
            try? catalog.audit(actor: "client:\(client ?? "unknown")", action: "login.failed", object: path, details: ["reason": why], at: Date())
        }
        return outcome
    }

    /// Checks the request carries a valid token of at least `role`; the error response otherwise.
    func require(_ role: Role, _ req: Request, client: String?) -> Result<APIToken, HTTPError> {
        require(role, secret: Self.secret(in: req), path: req.uri.path, client: client)
    }

    func require(_ role: Role, secret: String?, path: String, client: String?) -> Result<APIToken, HTTPError> {
        switch authenticate(secret: secret, path: path, client: client) {
        case .anonymous:
            return .failure(HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"airlock\", Basic realm=\"airlock\""], message: "a \(role.rawValue) token is required (Authorization: Bearer TOKEN)"))
        case .refused(let why):
            return .failure(HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"airlock\", error=\"invalid_token\""], message: why))
        case .token(let t) where t.role < role:
            return .failure(HTTPError(.forbidden, message: "token '\(t.name)' has role \(t.role.rawValue); this needs \(role.rawValue)"))
        case .token(let t):
            return .success(t)
        }
    }

    static func secret(in req: Request) -> String? {
        if let header = req.headers[.authorization] {
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
        return cookie(sessionCookie, in: req)
    }

    static func cookie(_ name: String, in req: Request) -> String? {
        for header in req.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let kv = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == name { return String(kv[1]) }
            }
        }
        return nil
    }
}
