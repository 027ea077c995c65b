import AirlockCatalog
import Crypto
import Foundation
import Hummingbird
import Synchronization

/// Browser sessions of the web UI. The cookie holds only a random session id; the token stays on
/// the server, and every request checks it again (a revoked or expired token ends its sessions).
/// Sessions expire after `lifetime`, or after `idle` without a request, and end at sign-out.
/// CSRF tokens are HMACs of the session id (or, before sign-in, of a login nonce), checked in constant time.
final class SessionStore: Sendable {
    static let cookie = "airlock_session"
    static let loginCookie = "airlock_login"

    struct Session: Sendable {
        let id: String
        /// The token's secret, kept in this process only, to check the token again on every request.
        let secret: String
        let tokenID: Int64
        let created: Date
        var lastSeen: Date
    }

    let lifetime: TimeInterval
    let idle: TimeInterval
    /// Set `Secure` on cookies (served over TLS, or behind a proxy that terminates it).
    let secureCookies: Bool
    /// The HMAC key of CSRF tokens, new in every process.
    private let key: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }()
    private let sessions = Mutex<[String: Session]>([:])

    init(lifetime: TimeInterval = 12 * 3600, idle: TimeInterval = 30 * 60, secureCookies: Bool) {
        self.lifetime = lifetime
        self.idle = idle
        self.secureCookies = secureCookies
    }

    func start(secret: String, tokenID: Int64, at now: Date = Date()) -> Session {
        let session = Session(id: Self.randomID(), secret: secret, tokenID: tokenID, created: now, lastSeen: now)
        sessions.withLock {
            $0 = $0.filter { now.timeIntervalSince($0.value.created) < lifetime && now.timeIntervalSince($0.value.lastSeen) < idle }
            $0[session.id] = session
        }
        return session
    }

    /// The live session the request's cookie names, its idle clock restarted.
    func session(for req: Request, at now: Date = Date()) -> Session? {
        guard let id = Self.cookie(Self.cookie, in: req) else { return nil }
        return sessions.withLock { all -> Session? in
            guard var s = all[id] else { return nil }
            guard now.timeIntervalSince(s.created) < lifetime, now.timeIntervalSince(s.lastSeen) < idle else {
                all[id] = nil
                return nil
            }
            s.lastSeen = now
            all[id] = s
            return s
        }
    }

    func end(_ id: String) { sessions.withLock { $0[id] = nil } }

    /// Ends every session signed in with a token (it was revoked).
    func endAll(ofTokenID id: Int64) { sessions.withLock { $0 = $0.filter { $0.value.tokenID != id } } }

    /// The CSRF token of forms bound to `binding` (a session id or a login nonce).
    func csrf(for binding: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Array(binding.utf8), using: SymmetricKey(data: key)).map { String(format: "%02x", $0) }.joined()
    }

    func csrfMatches(_ sent: String?, binding: String) -> Bool {
        guard let sent else { return false }
        let expected = Array(csrf(for: binding).utf8)
        let given = Array(sent.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func setCookie(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        "\(name)=\(value); Path=/ui; HttpOnly; SameSite=Strict" + (secureCookies ? "; Secure" : "") + (maxAge.map { "; Max-Age=\($0)" } ?? "")
    }

    static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
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
