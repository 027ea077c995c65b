import Foundation

/// How a sync reaches its upstream from inside a company network: a proxy, the CA that signs the
/// upstream's certificate, a client certificate, credentials, extra headers and a request-rate limit.
/// Credentials and headers go only to the upstream's own origin (scheme, host and port), never to a
/// host a redirect leads to. Nothing here is ever logged or recorded: `summary` names what is set
/// without the secrets, and URLs airlock keeps carry no credentials (`strippingCredentials`).
public struct UpstreamAccess: Sendable, Equatable {
    /// `http://host:port` (or `https://`, `socks5://`); may carry the proxy's own user and password.
    /// Unset: libcurl's environment variables apply (`https_proxy`, `http_proxy`, `ALL_PROXY`, `NO_PROXY`).
    public var proxy: String?
    /// Hosts reached without the proxy, comma-separated (`*` for all), as in `NO_PROXY`.
    public var noProxy: String?
    /// PEM file of the CAs trusted for the upstream, in place of the system's store.
    public var caBundle: String?
    /// PEM client certificate (and its key, when kept apart) for upstreams that ask for one.
    public var clientCertificate: String?
    public var clientKey: String?
    public var credentials: UpstreamCredentials?
    /// Extra request headers (the upstream's origin only).
    public var headers: [String: String]
    /// At most this many requests a second toward the upstream (nil: no limit).
    public var maxRequestsPerSecond: Double?

    public init(
        proxy: String? = nil, noProxy: String? = nil, caBundle: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil,
        credentials: UpstreamCredentials? = nil, headers: [String: String] = [:], maxRequestsPerSecond: Double? = nil
    ) {
        self.proxy = proxy
        self.noProxy = noProxy
        self.caBundle = caBundle
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.credentials = credentials
        self.headers = headers
        self.maxRequestsPerSecond = maxRequestsPerSecond
    }

    /// What is set, one line each, secrets left out (for `config check` and logs).
    public var summary: [String] {
        var lines: [String] = []
        lines.append("proxy: " + (proxy.map(Self.redacted) ?? "from the environment (https_proxy, http_proxy, ALL_PROXY), if set"))
        if let noProxy { lines.append("no proxy for: \(noProxy)") }
        if let caBundle { lines.append("CA bundle: \(caBundle)") }
        if let clientCertificate { lines.append("client certificate: \(clientCertificate)" + (clientKey.map { " (key \($0))" } ?? "")) }
        lines.append("credentials: \(credentials?.description ?? "none")")
        if !headers.isEmpty { lines.append("extra headers: \(headers.keys.sorted().joined(separator: ", ")) (values not shown)") }
        if let maxRequestsPerSecond { lines.append("at most \(maxRequestsPerSecond.formatted()) requests/s") }
        return lines
    }

    /// `url` without any user or password it carries, for messages.
    public static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.user != nil || parts.password != nil else { return url }
        parts.user = parts.user.map { _ in "***" }
        parts.password = nil
        return parts.string ?? "(a URL with credentials)"
    }

    /// Splits credentials written into an upstream URL (`https://user:secret@host/simple/`) off it:
    /// the URL airlock records and logs is the bare one, the credentials become basic auth.
    public static func strippingCredentials(from url: String) -> (url: String, credentials: UpstreamCredentials?) {
        guard var parts = URLComponents(string: url), let user = parts.user, !user.isEmpty else { return (url, nil) }
        let password = parts.password ?? ""
        parts.user = nil
        parts.password = nil
        return (parts.string ?? url, .basic(username: user, password: password))
    }

    /// Whether `url` is on the upstream's origin: credentials and headers go there and nowhere else.
    public static func sameOrigin(_ url: String, _ upstream: String) -> Bool {
        guard let a = URLComponents(string: url), let b = URLComponents(string: upstream) else { return false }
        func port(_ c: URLComponents) -> Int? { c.port ?? (c.scheme?.lowercased() == "https" ? 443 : c.scheme?.lowercased() == "http" ? 80 : nil) }
        return a.scheme?.lowercased() == b.scheme?.lowercased() && a.host?.lowercased() == b.host?.lowercased() && port(a) == port(b)
    }
}

/// Credentials for a private upstream. Their description never includes the secret.
public enum UpstreamCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    case basic(username: String, password: String)
    case bearer(token: String)
    /// The user's netrc (`~/.netrc`, or this file): libcurl picks the entry for the upstream's host.
    case netrc(file: String?)

    public var description: String {
        switch self {
        case .basic(let username, _): "basic auth as \(username)"
        case .bearer: "a bearer token"
        case .netrc(let file): "netrc (\(file ?? "~/.netrc"))"
        }
    }

    public var debugDescription: String { description }
    /// `dump` and reflection show the description, never the secret.
    public var customMirror: Mirror { Mirror(self, children: ["credentials": description]) }

    /// The `Authorization` header value, for basic and bearer credentials.
    public var authorization: String? {
        switch self {
        case .basic(let username, let password): "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        case .bearer(let token): "Bearer \(token)"
        case .netrc: nil
        }
    }

    /// Reads a secret kept in a file (a password or token): the first line, without its line end.
    /// A missing or empty file is an error naming it (and never the content).
    public static func secret(fromFile path: String, field: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AirlockError(.invalidArgument, "\(field) names \(path), which cannot be read")
        }
        let first = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard !first.isEmpty else { throw AirlockError(.invalidArgument, "\(field) names \(path), which is empty") }
        return first
    }
}
