import AirlockCore
import Hummingbird

/// The endpoint's non-success answers, in one place: every one has a body a person can act on.
enum Responses {
    static func text(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "text/plain; charset=utf-8"
        fields[.cacheControl] = "no-store"
        return Response(
            status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: message.hasSuffix("\n") ? message : message + "\n")))
    }

    static func notApproved(_ ecosystem: Ecosystem, project: String, snapshot: Snapshot) -> Response {
        text(
            .notFound,
            """
            airlock: '\(project)' is not approved in \(ecosystem.rawValue) snapshot \(snapshot.id) (published \(Timestamp.format(snapshot.publishedAt))).

            This endpoint serves only packages your security team has approved. To use '\(project)',
            ask them to review it: they can add it with `airlock sync \(ecosystem.rawValue) \(project)` (or approve it for review).
            """)
    }

    static func unknownSnapshot(_ ecosystem: Ecosystem, _ text: String) -> Response {
        Responses.text(
            .notFound,
            "airlock: no \(ecosystem.rawValue) snapshot matches '\(text)'. Use 'latest', a date (YYYY-MM-DD, the last snapshot of that UTC day) or a snapshot id; `airlock snapshot list` shows them."
        )
    }

    static func notServed(_ path: String) -> Response {
        text(
            .notFound,
            "airlock: nothing is served at \(path). Package indexes live under /pypi/{snapshot}/simple/ (or /simple/ for the latest snapshot) and /cran/{snapshot}/src/contrib/."
        )
    }

    static func redirect(to location: String, status: HTTPResponse.Status = .movedPermanently) -> Response {
        Response(status: status, headers: [.location: location, .cacheControl: status == .movedPermanently ? "public, max-age=86400" : "no-store"])
    }
}
