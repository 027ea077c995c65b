import Hummingbird

/// Answers a request the router found no route for, on a path of the JSON API that other methods
/// serve, with 405 and `Allow` (as problem+json), rather than an empty 404.
struct MethodNotAllowed: RouterMiddleware {
    typealias Context = AirlockRequestContext
    /// Each route as its path segments (`{name}` matches any one segment) and method.
    let routes: [(segments: [Substring], method: HTTPRequest.Method)]

    init(_ routes: [(method: HTTPRequest.Method, path: String)]) {
        self.routes = routes.map { ($0.path.split(separator: "/"), $0.method) }
    }

    func handle(_ req: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(req, context)
        } catch let e as HTTPError where e.status == .notFound && e.body == nil {
            let allowed = allowedMethods(req.uri.path)
            guard !allowed.isEmpty else { throw e }
            let allow = (allowed.contains(.get) ? ["HEAD"] : []) + allowed.map(\.rawValue)
            throw Problem(
                .methodNotAllowed, "\(req.method) is not allowed on \(req.uri.path); use \(allow.joined(separator: ", "))",
                headers: [.allow: allow.joined(separator: ", ")])
        }
    }

    private func allowedMethods(_ path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/")
        return routes.filter { route in
            route.segments.count == parts.count && zip(route.segments, parts).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.map(\.method)
    }
}
