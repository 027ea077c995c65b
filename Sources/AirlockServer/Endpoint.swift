public import AirlockCatalog
import AirlockCore
import AirlockPublish
public import AirlockStore
import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import Synchronization

/// How the endpoint is run.
public struct EndpointOptions: Sendable {
    /// Installs need a token of role `reader` or above (anonymous installs are the default).
    public var requireAuth: Bool
    /// Where snapshot manifests are written when a review publishes a snapshot.
    public var dataDirectory: String
    /// Browsers reach the endpoint over HTTPS (a TLS-terminating proxy in front): cookies get `Secure`, responses HSTS.
    public var https: Bool
    /// Serve TLS here with these files (which implies `https`).
    public var tls: TLSFiles?
    /// How often counted misses and failed sign-ins are written to the catalog.
    public var demandFlushInterval: Duration
    /// Connections held at once, in all and per client address.
    public var maxConnections = 10_000
    public var maxConnectionsPerClient = 1_000
    /// A connection must send a complete request head within this of opening (or of its last response).
    public var headerTimeout: Duration = .seconds(10)
    /// Between a request head and the response, and between response writes.
    public var requestTimeout: Duration = .seconds(60)
    /// Count requests for `/metrics` (off only to measure what counting costs).
    public var requestMetrics = true

    public init(requireAuth: Bool = false, dataDirectory: String, https: Bool = false, demandFlushInterval: Duration = .seconds(5)) {
        self.requireAuth = requireAuth
        self.dataDirectory = dataDirectory
        self.https = https
        self.demandFlushInterval = demandFlushInterval
    }
}

/// The catalog roles the endpoint plays: serving snapshots, reviews and access, and publishing review acts.
public typealias EndpointCatalog = SnapshotCatalog & ReviewCatalog & PublishCatalog

/// The air-gapped HTTP endpoint: PyPI and CRAN repositories per snapshot, immutable files, the
/// reviewers' JSON API and web UI, health. It reads the catalog's published snapshots and the blob
/// store and writes only reviews, misses and audit events: it has no way to reach upstream.
public struct Endpoint: Sendable {
    let views: SnapshotViews
    let catalog: any EndpointCatalog
    let store: any BlobStore
    let logger: Logger
    let options: EndpointOptions
    let auth: Authenticator
    let desk: ReviewDesk
    let demand: DemandRecorder
    let sessions: SessionStore
    let pages: PageCache
    /// The R binaries each snapshot view serves, per distribution and R minor version.
    let linuxBinaries = LinuxBinaries()
    let formats = FormatNegotiation()
    let recentPages = RecentPages()
    let securityHeaders: SecurityHeaders
    let connectionLimits: ConnectionLimits
    /// Requests, latency, bytes, misses; `/metrics`.
    public let metrics: EndpointMetrics
    /// File handles of blobs being sent by the `DirectResponder`.
    let openBlobs = OpenBlobs()
    /// The headers every blob is sent with (the direct path adds its ETag and length).
    let blobHead: HTTPHeaders
    /// Reads blob pieces off the event loop where sendfile cannot be used (TLS).
    let fileIO = NonBlockingFileIO(threadPool: .singleton)
    let routerFileIO = FileIO()

    public init(catalog: any EndpointCatalog, store: any BlobStore, logger: Logger, options: EndpointOptions) {
        self.views = SnapshotViews(catalog: catalog)
        self.catalog = catalog
        self.store = store
        self.logger = logger
        self.options = options
        self.demand = DemandRecorder(catalog: catalog, logger: logger, interval: options.demandFlushInterval)
        self.auth = Authenticator(catalog: catalog, recorder: demand, logger: logger)
        self.desk = ReviewDesk(catalog: catalog, dataDirectory: options.dataDirectory)
        self.sessions = SessionStore(secureCookies: options.https || options.tls != nil)
        self.securityHeaders = SecurityHeaders(tls: options.https || options.tls != nil)
        self.connectionLimits = ConnectionLimits(maxTotal: options.maxConnections, maxPerClient: options.maxConnectionsPerClient)
        self.pages = PageCache(extraHeaders: securityHeaders.fields)
        self.blobHead = HTTPHeaders(Self.blobFields(security: securityHeaders.fields))
        self.metrics = EndpointMetrics()
    }

    /// Every route the endpoint answers.
    public func router() -> Router<AirlockRequestContext> {
        let router = Router(context: AirlockRequestContext.self, options: .autoGenerateHeadEndpoints)
        if options.requestMetrics { router.add(middleware: MetricsMiddleware(metrics: metrics)) }
        router.add(middleware: securityHeaders)
        router.add(middleware: InstallGate(required: options.requireAuth, auth: auth))
        router.add(middleware: SameOriginForms(https: options.https || options.tls != nil))
        router.add(middleware: MethodNotAllowed(ReviewAPI.routes))
        router.get("/healthz") { _, _ in Responses.text(.ok, "ok") }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: await metrics.exposition(catalog))))
        }
        for pattern in RepositoryRoute.patterns {
            router.get(RouterPath(pattern)) { req, ctx in try await repository(req, ctx) }
        }
        for pattern in RepositoryRoute.linuxPatterns {
            router.get(RouterPath(pattern)) { req, ctx in try await linuxRepository(req, ctx) }
        }
        router.get("/snapshots/{ecosystem}/{snapshot}/{file}") { req, ctx in try await manifest(req, ctx) }
        ReviewAPI(endpoint: self).register(on: router)
        ReviewUI(endpoint: self).register(on: router)
        router.get("**") { req, _ in Responses.notServed(req.uri.path) }
        return router
    }

    /// The `/api/v1` routes the router answers, as `METHOD path` (HEAD, generated from GET, left out).
    public func apiRoutes() -> Set<String> {
        Set(router().routes.filter { $0.path.description.hasPrefix("/api/v1") && $0.method != .head }.map { "\($0.method) \($0.path)" })
    }

    /// Builds the application, listening on `host:port` (port 0 picks a free one; `onListening` gets it).
    /// With `options.tls`, it speaks only HTTPS; an unreadable certificate or key is an error here.
    public func application(host: String, port: Int, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws
        -> some ApplicationProtocol
    {
        let tls = options.tls != nil
        let http1 = HTTPServerBuilder { responder in
            RepositoryChannel(responder: responder) { [self] in
                let connectionGuard = ConnectionGuard(
                    limits: connectionLimits, headerTimeout: .init(options.headerTimeout), requestTimeout: .init(options.requestTimeout))
                return (
                    WireResponder(endpoint: self, tls: tls, connectionGuard: connectionGuard),
                    [connectionGuard, DirectResponder(endpoint: self, tls: tls)]
                )
            }
        }
        return Application(
            router: router(),
            server: try options.tls.map { try .tls(http1, tlsConfiguration: try $0.configuration()) } ?? http1,
            configuration: .init(address: .hostname(host, port: port), serverName: "airlock"),
            services: [demand, ViewRefresher(views: views)],
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// Counts a request for something no snapshot serves: demand for the review queue.
    func recordMiss(_ ecosystem: Ecosystem, project: String, version: String, client: String?) {
        logger.info(
            "not approved", metadata: ["ecosystem": "\(ecosystem.rawValue)", "project": "\(project.prefix(128))", "version": "\(version.prefix(64))"])
        demand.miss(ecosystem, project: project, version: version, client: client)
        metrics.misses.increment()
    }

    /// Counts a download for `review stale`: a GET of a package file itself (not its metadata or
    /// provenance, not a resumed transfer's later range).
    func countDownload(_ digest: Digest, filename: String, isHead: Bool, range: String?) {
        guard !isHead, range == nil || range?.hasPrefix("bytes=0-") == true, !filename.hasSuffix(".metadata"), !filename.hasSuffix(".provenance")
        else { return }
        demand.download(digest)
    }

    /// Sends a stored blob: strong ETag (its digest), single byte ranges, cached forever.
    func send(_ blob: Digest, named filename: String, _ req: Request, _ ctx: AirlockRequestContext) async throws -> Response {
        guard let path = store.localPath(for: blob), let size = store.size(of: blob) else {
            logger.error("served blob missing from store", metadata: ["sha256": "\(blob.hex)", "filename": "\(filename)"])
            return Responses.text(.internalServerError, "airlock: the bytes of \(filename) are missing from the store; tell the administrators")
        }
        let etag = "\"\(blob.hex)\""
        var headers = Self.blobFields(security: securityHeaders.fields)
        headers[.eTag] = etag
        if req.headers[.ifNoneMatch] == etag { return Response(status: .notModified, headers: headers) }
        if let rangeHeader = req.headers[.range] {
            guard let range = ByteRange.parse(rangeHeader, size: size) else {
                headers[.contentRange] = "bytes */\(size)"
                return Response(status: .rangeNotSatisfiable, headers: headers)
            }
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
            headers[.contentLength] = String(range.count)
            let body = try await routerFileIO.loadFile(
                path: path, range: Int(range.lowerBound)...Int(range.upperBound), context: ctx, chunkLength: Self.routerChunk)
            return Response(status: .partialContent, headers: headers, body: body)
        }
        headers[.contentLength] = String(size)
        let body = try await routerFileIO.loadFile(path: path, context: ctx, chunkLength: Self.routerChunk)
        return Response(status: .ok, headers: headers, body: body)
    }
}

extension Endpoint {
    /// Piece size of a file the router sends (the direct paths send file regions instead): small,
    /// since Hummingbird reads pieces ahead of a slow socket and malloc keeps what it once held.
    static let routerChunk = 256 << 10

    /// The headers every blob is sent with, but its ETag and length: immutable, ranges accepted.
    static func blobFields(security: HTTPFields) -> HTTPFields {
        var fields: HTTPFields = [
            .contentType: "application/octet-stream", .acceptRanges: "bytes", .cacheControl: "public, max-age=31536000, immutable",
        ]
        fields.append(contentsOf: security)
        return fields
    }
}

extension HTTPHeaders {
    /// The same fields in NIO's form.
    init(_ fields: HTTPFields) {
        self.init(fields.map { ($0.name.rawName, $0.value) })
    }
}

/// A single `Range: bytes=…` request resolved against a file size; multi-range requests are not served.
enum ByteRange {
    static func parse(_ header: String, size: Int64) -> ClosedRange<Int64>? {
        guard header.hasPrefix("bytes="), size > 0 else { return nil }
        let spec = header.dropFirst(6)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingWhitespace()
        let last = spec[spec.index(after: dash)...].trimmingWhitespace()
        if first.isEmpty {
            guard let suffix = Int64(last), suffix > 0 else { return nil }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = Int64(first), start < size else { return nil }
        let end = last.isEmpty ? size - 1 : min(Int64(last) ?? -1, size - 1)
        guard end >= start else { return nil }
        return start...end
    }
}

/// A rendered page with the headers it is always sent with.
struct RenderedPage: Sendable {
    static let snapshotHeader = HTTPField.Name("X-Airlock-Snapshot")!

    let body: ByteBuffer
    let headers: HTTPFields
    let etag: String
    /// The same headers in NIO's form for the `DirectResponder`: with the length, and for a 304.
    let head: HTTPHeaders
    let notModifiedHead: HTTPHeaders

    init(body: [UInt8], contentType: String, variant: String, snapshot: Snapshot, pinned: Bool, extraHeaders: HTTPFields, vary: String = "Accept") {
        self.body = ByteBuffer(bytes: body)
        self.etag = "\"s\(snapshot.id)-\(variant.replacingOccurrences(of: " ", with: "-"))\""
        var headers: HTTPFields = [
            .contentType: contentType, .eTag: etag, .vary: vary,
            // An exact snapshot id never changes; `latest` and dates move as snapshots are published.
            .cacheControl: pinned ? "public, max-age=31536000, immutable" : "public, max-age=30",
        ]
        headers[Self.snapshotHeader] = String(snapshot.id)
        headers.append(contentsOf: extraHeaders)
        self.headers = headers
        self.notModifiedHead = HTTPHeaders(headers)
        var withLength = notModifiedHead
        withLength.add(name: "Content-Length", value: String(body.count))
        self.head = withLength
    }

    func response(to req: Request) -> Response {
        if req.headers[.ifNoneMatch] == etag { return Response(status: .notModified, headers: headers) }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
    }
}

/// What was worked out from one snapshot view (its id and revocation generation) for a path and a
/// variant: snapshots are immutable, so an entry is right forever. Bounded; cleared whole when full.
final class ViewMemo<Value: Sendable>: Sendable {
    /// Snapshot ids are unique across ecosystems.
    struct Key: Hashable {
        let snapshot: Int64
        let generation: Int64
        let path: String
        let variant: String
        let pinned: Bool

        init(_ view: SnapshotView, path: String, variant: String, pinned: Bool = false) {
            (snapshot, generation, self.path, self.variant, self.pinned) = (view.snapshot.id, view.generation, path, variant, pinned)
        }
    }

    private let entries = Mutex<[Key: Value]>([:])
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    subscript(key: Key) -> Value? {
        get { entries.withLock { $0[key] } }
        set {
            entries.withLock {
                if $0.count >= limit { $0.removeAll(keepingCapacity: true) }
                $0[key] = newValue
            }
        }
    }
}

/// Rendered pages, keyed by snapshot, project, format and pinning: a page rendered once is right forever.
final class PageCache: Sendable {
    private let pages = ViewMemo<RenderedPage>(limit: 50_000)
    /// Headers every page carries (the security headers), built into each page once.
    let extraHeaders: HTTPFields

    init(extraHeaders: HTTPFields) { self.extraHeaders = extraHeaders }

    /// The page `path` of a snapshot view in one representation (`variant`, which `vary` names the
    /// request header of), rendered on first use.
    func page(
        _ view: SnapshotView, path: String, variant: String, contentType: String, pinned: Bool, vary: String = "Accept", render: () throws -> [UInt8]
    ) rethrows -> RenderedPage {
        let key = ViewMemo<RenderedPage>.Key(view, path: path, variant: variant, pinned: pinned)
        if let hit = pages[key] { return hit }
        let page = RenderedPage(
            body: try render(), contentType: contentType, variant: variant, snapshot: view.snapshot, pinned: pinned, extraHeaders: extraHeaders,
            vary: vary)
        pages[key] = page
        return page
    }
}
