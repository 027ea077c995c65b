import AirlockCatalog
import AirlockCore
import AirlockStore
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import Synchronization

/// The parts of a GET or HEAD request the direct paths decide on, however the head was parsed.
package struct DirectRequest {
    package var isHead = false
    /// The request target (origin form, query included).
    package var target: Substring = ""
    package var version = HTTPVersion.http1_1
    package var keepAlive = true
    package var accept: String?
    package var ifNoneMatch: String?
    package var range: String?
    package var authorization: String?
}

/// A response decided on the event loop: a page from the cache or a stored blob, with its status
/// and headers but the per-request ones (`Date`, `Server`, `Connection`).
struct Reply {
    enum Body {
        case none
        case buffer(ByteBuffer)
        case blob(OpenBlobs.Lease, Range<Int64>, OpenBlobs)
    }

    let version: HTTPVersion
    let keepAlive: Bool
    let isHead: Bool
    let route: EndpointMetrics.RouteClass
    let start: NIODeadline
    let status: HTTPResponseStatus
    let headers: HTTPHeaders
    let body: Body

    init(
        _ request: DirectRequest, route: EndpointMetrics.RouteClass, start: NIODeadline, status: HTTPResponseStatus, headers: HTTPHeaders, body: Body
    ) {
        version = request.version
        keepAlive = request.keepAlive
        isHead = request.isHead
        self.route = route
        self.start = start
        self.status = status
        self.headers = headers
        self.body = body
    }

    var bodyLength: Int? {
        switch body {
        case .none: return nil
        case .buffer(let b): return b.readableBytes
        case .blob(_, let range, _): return Int(range.count)
        }
    }

    /// The headers as sent, with the per-request ones.
    var sentHeaders: HTTPHeaders {
        var headers = headers
        headers.add(name: "Date", value: HTTPDate.now)
        headers.add(name: "Server", value: "airlock")
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if version.minor == 0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        return headers
    }

    /// Counts the reply in the endpoint's metrics.
    func record(_ metrics: EndpointMetrics) {
        metrics.record(
            route: route, status: Int(status.code), elapsed: .nanoseconds(Int64((NIODeadline.now() - start).nanoseconds)),
            bodyBytes: status == .notModified ? nil : bodyLength)
    }

    /// Gives back the file handle of a reply whose body will not be sent.
    func release() {
        if case .blob(let lease, _, let blobs) = body { blobs.release(lease) }
    }
}

extension Endpoint {
    /// What the direct paths answer, or nil to leave the request to the router: only pages and
    /// blobs, decided by the same `answer` the router uses.
    func directReply(to request: DirectRequest) -> Reply? {
        let start = NIODeadline.now()
        if let reply = nonCanonicalReply(request, start: start) { return reply }
        let target = request.target
        let path = CanonicalPath.path(of: target)
        guard let route = RepositoryRoute(path: path) else { return nil }
        if options.requireAuth, !auth.admits(.reader, secret: Authenticator.secret(inHeader: request.authorization)) {
            return nil  // the router checks it against the catalog (refusing and recording, or admitting and remembering)
        }
        let key = RecentPages.Key(path: String(path), accept: request.accept)
        if let page = recentPages.page(key, epoch: views.epoch, now: start) {
            return pageReply(request, route: route, start: start, page)
        }
        // Only what the caches know freshly is answered here; the router asks the catalog (off the event loop).
        guard let facts = views.cachedFacts(route) else { return nil }
        let answer: RepositoryAnswer
        do {
            answer = try self.answer(route, path: path, accept: request.accept, facts: facts)
        } catch {
            return nil  // the router answers (and logs) the same error
        }
        switch answer {
        case .page(let page):
            recentPages.remember(
                key, page, epoch: views.epoch, until: start + .nanoseconds(Int64(views.refreshInterval.components.seconds * 1_000_000_000)))
            return pageReply(request, route: route, start: start, page)
        case .blob(let digest, let filename):
            guard let path = store.localPath(for: digest), let lease = openBlobs.open(digest, path: path) else { return nil }
            countDownload(digest, filename: filename, isHead: request.isHead, range: request.range)
            return blobReply(request, route: route.metricsClass, start: start, lease)
        case .miss, .notServedFile, .other:
            return nil
        }
    }

    /// The answer to a request whose target is not canonical (any method): a permanent redirect to
    /// the canonical spelling, or 404 naming why the target names nothing. The JSON API is not
    /// redirected: it answers 404 as `application/problem+json`, as every API error. Nil for a canonical target.
    func nonCanonicalReply(_ request: DirectRequest, start: NIODeadline = .now()) -> Reply? {
        var status = HTTPResponseStatus.notFound
        var headers = HTTPHeaders(securityHeaders.fields)
        var api = request.target.hasPrefix("/api/")
        let message: String
        switch CanonicalPath.check(request.target) {
        case .canonical: return nil
        case .redirect(let location) where location.hasPrefix("/api/"):
            api = true
            message = "this path is not in canonical form; the API answers at \(location.prefix(200))"
        case .redirect(let location):
            status = .permanentRedirect
            headers.add(name: "Location", value: location)
            message = "this resource is at \(location)"
        case .refused(let reason):
            message = "nothing is served at this path: \(reason)"
        }
        let body = api ? ByteBuffer(bytes: Problem(.notFound, message).json) : ByteBuffer(string: "airlock: \(message)\n")
        headers.add(name: "Content-Type", value: api ? "application/problem+json" : "text/plain; charset=utf-8")
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        return Reply(request, route: .other, start: start, status: status, headers: headers, body: .buffer(body))
    }

    private func pageReply(_ request: DirectRequest, route: RepositoryRoute, start: NIODeadline, _ page: RenderedPage) -> Reply {
        let fresh = request.ifNoneMatch == page.etag
        return Reply(
            request, route: route.metricsClass, start: start, status: fresh ? .notModified : .ok, headers: fresh ? page.notModifiedHead : page.head,
            body: fresh ? .none : .buffer(page.body))
    }

    /// A blob's answer: 304 for its own ETag, 416 or 206 for a `Range`, else the whole file.
    private func blobReply(_ request: DirectRequest, route: EndpointMetrics.RouteClass, start: NIODeadline, _ lease: OpenBlobs.Lease) -> Reply {
        let etag = "\"\(lease.digest.hex)\""
        var headers = blobHead
        headers.add(name: "ETag", value: etag)
        if request.ifNoneMatch == etag {
            openBlobs.release(lease)
            return Reply(request, route: route, start: start, status: .notModified, headers: headers, body: .none)
        }
        var range: Range<Int64> = 0..<lease.size
        var status = HTTPResponseStatus.ok
        if let header = request.range {
            guard let r = ByteRange.parse(header, size: lease.size) else {
                openBlobs.release(lease)
                headers.add(name: "Content-Range", value: "bytes */\(lease.size)")
                headers.add(name: "Content-Length", value: "0")
                return Reply(request, route: route, start: start, status: .rangeNotSatisfiable, headers: headers, body: .none)
            }
            range = r.lowerBound..<(r.upperBound + 1)
            status = .partialContent
            headers.add(name: "Content-Range", value: "bytes \(r.lowerBound)-\(r.upperBound)/\(lease.size)")
        }
        headers.add(name: "Content-Length", value: String(range.count))
        return Reply(request, route: route, start: start, status: status, headers: headers, body: .blob(lease, range, openBlobs))
    }
}

extension RepositoryRoute {
    var metricsClass: EndpointMetrics.RouteClass {
        switch self {
        case .simpleIndex, .simpleProject: return .simple
        case .file: return .files
        case .cran: return .cran
        }
    }
}

/// The pages the direct paths answered lately, by canonical path and `Accept`, so a repeated
/// request skips routing and resolution. An entry lives no longer than the snapshot views' refresh
/// interval and dies with their epoch, so it is never staler than a view resolved afresh.
final class RecentPages: Sendable {
    struct Key: Hashable {
        let path: String
        let accept: String?
    }

    private let entries = Mutex<[Key: (page: RenderedPage, epoch: Int, until: NIODeadline)]>([:])

    func page(_ key: Key, epoch: Int, now: NIODeadline) -> RenderedPage? {
        entries.withLock { e in
            guard let hit = e[key] else { return nil }
            guard hit.epoch == epoch, hit.until > now else {
                e[key] = nil
                return nil
            }
            return hit.page
        }
    }

    /// Longest path plus `Accept` remembered: repository paths are short, and a key is never larger than this.
    static let maxKeyBytes = 1024

    func remember(_ key: Key, _ page: RenderedPage, epoch: Int, until: NIODeadline) {
        guard key.path.utf8.count + (key.accept?.utf8.count ?? 0) <= Self.maxKeyBytes else { return }
        entries.withLock { e in
            if e.count >= 10_000 { e.removeAll() }
            e[key] = (page, epoch, until)
        }
    }
}
