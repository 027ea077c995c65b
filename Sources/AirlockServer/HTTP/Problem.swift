import AirlockCore
import Foundation
import Hummingbird

/// Every JSON error the endpoint answers, as RFC 9457 `application/problem+json`: a status, a title
/// and a detail a person can act on. Domain errors become problems here, in one place.
struct Problem: HTTPResponseError, Encodable {
    let status: HTTPResponse.Status
    let detail: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.detail = detail
        self.headers = headers
    }

    /// The status an airlock error stands for.
    init(_ error: AirlockError) {
        let status: HTTPResponse.Status =
            switch error.code {
            case .notFound: .notFound
            case .catalog, .storage: .internalServerError
            case .forbidden: .forbidden
            default: .badRequest
            }
        self.init(status, error.message)
    }

    enum CodingKeys: String, CodingKey { case type, title, status, detail }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("about:blank", forKey: .type)
        try c.encode(status.reasonPhrase, forKey: .title)
        try c.encode(status.code, forKey: .status)
        try c.encode(detail, forKey: .detail)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
    }

    /// The problem document's bytes.
    var json: Data { (try? ReviewAPI.encoder.encode(self)) ?? Data() }
}

/// Turns whatever a JSON route throws into a `Problem`: airlock errors by their code, Hummingbird's
/// own errors (413, 400 for a body that does not decode) by their status.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = AirlockRequestContext

    func handle(_ req: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(req, context)
        } catch let p as Problem {
            throw p
        } catch let e as AirlockError {
            throw Problem(e)
        } catch let e as HTTPError {
            throw Problem(e.status, e.body ?? e.status.reasonPhrase, headers: e.headers)
        } catch let e as DecodingError {
            throw Problem(.badRequest, "the request body is not the JSON this route takes: \(Self.describe(e))")
        } catch let e as any HTTPResponseError {
            throw Problem(e.status, e.status.reasonPhrase)
        }
    }

    static func describe(_ e: DecodingError) -> String {
        switch e {
        case .keyNotFound(let key, _): "missing field '\(key.stringValue)'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            "\(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        @unknown default: "\(e)"
        }
    }
}
