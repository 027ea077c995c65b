import HTTPTypes
import Hummingbird

/// Adds the browser security headers to every response: a strict Content-Security-Policy (no inline
/// script or style, no framing, forms post only here), `nosniff`, `X-Frame-Options`, no referrer,
/// and `Strict-Transport-Security` when serving TLS. The hot responses (cached pages, files) carry
/// them prebuilt, and the middleware leaves those alone.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = AirlockRequestContext
    let fields: HTTPFields

    init(tls: Bool) {
        var f: HTTPFields = [
            .contentSecurityPolicy:
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .xContentTypeOptions: "nosniff",
            HTTPField.Name("X-Frame-Options")!: "DENY",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
        if tls { f[.strictTransportSecurity] = "max-age=31536000" }
        fields = f
    }

    func handle(_ req: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(req, context)
        if response.headers[.xContentTypeOptions] == nil { response.headers.append(contentsOf: fields) }
        return response
    }
}
