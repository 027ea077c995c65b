import HTTPTypes
import Hummingbird

/// Refuses a write to the web UI that a browser says came from another site: `Sec-Fetch-Site`
/// other than `same-origin` (or `none`, typed by the user), or, from a browser that sends no
/// `Sec-Fetch-Site`, an `Origin` naming another scheme, host or port than the request's own. A
/// second wall behind the CSRF token every form carries. `Origin: null` alone decides nothing:
/// under the endpoint's `Referrer-Policy: no-referrer` browsers send it for their own forms too.
struct SameOriginForms: RouterMiddleware {
    typealias Context = AirlockRequestContext
    let https: Bool
    static let fetchSite = HTTPField.Name("Sec-Fetch-Site")!

    func handle(_ req: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard req.method != .get, req.method != .head, req.method != .options, req.uri.path.hasPrefix("/ui/") else {
            return try await next(req, context)
        }
        if let site = req.headers[Self.fetchSite] {
            guard site == "same-origin" || site == "none" else {
                return Responses.text(.forbidden, "airlock: this form was sent from another site (Sec-Fetch-Site: \(site)); refused")
            }
        } else if let origin = req.headers[.origin], origin != "null" {
            guard let host = req.head.authority, origin == "\(https ? "https" : "http")://\(host)" else {
                return Responses.text(.forbidden, "airlock: this form was sent from \(origin), not from this server; refused")
            }
        }
        return try await next(req, context)
    }
}
