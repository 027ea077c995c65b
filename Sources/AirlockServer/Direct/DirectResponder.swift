import AirlockCatalog
import AirlockCore
import AirlockStore
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOPosix

/// Answers the hot repository requests on the event loop, in front of Hummingbird's router: pages
/// from the page cache and stored blobs, sent with sendfile (or, under TLS, read in pieces off the
/// event loop). Whatever it cannot answer that way — misses, redirects, refusals, other routes and
/// methods — goes on to the router untouched, and it decides with the same `Endpoint.answer` the
/// router uses, so both give the same answer. `HTTPServerPipelineHandler` in front keeps requests
/// one at a time, so its answers and the router's never overtake each other.
final class DirectResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// The router has the request; its parts go on.
        case passing
        /// Answered here when the request's end arrives (a body, if any, is dropped).
        case answering(Reply)
        case sending(BlobSender)
    }

    private let endpoint: Endpoint
    private let tls: Bool
    private var state = State.idle

    init(endpoint: Endpoint, tls: Bool) {
        self.endpoint = endpoint
        self.tls = tls
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), _):
            if let reply = reply(to: head) {
                state = .answering(reply)
            } else {
                state = .passing
                context.fireChannelRead(data)
            }
        case (.end, .passing):
            state = .idle
            context.fireChannelRead(data)
        case (.body, .passing):
            context.fireChannelRead(data)
        case (.end, .answering(let reply)):
            state = .idle
            send(reply, context)
        case (.body, _), (.end, _):
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandon()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { abandon() }

    /// Gives back a file handle a request still holds when the connection goes.
    private func abandon() {
        switch state {
        case .answering(let reply): reply.release()
        case .sending(let sender): sender.stop()
        default: break
        }
        state = .idle
    }

    // MARK: Deciding

    /// What a request head is answered with here, or nil to leave it to the router.
    private func reply(to head: HTTPRequestHead) -> Reply? {
        guard head.method == .GET || head.method == .HEAD, head.uri.utf8.first == UInt8(ascii: "/") else { return nil }
        let path = head.uri.firstIndex(of: "?").map { head.uri[..<$0] } ?? Substring(head.uri)
        guard let route = RepositoryRoute(path: path) else { return nil }
        if endpoint.options.requireAuth, !endpoint.auth.admits(.reader, secret: Authenticator.secret(inHeader: head.headers.first(name: "authorization"))) {
            return nil  // the router refuses it, and records the failure
        }
        let answer: RepositoryAnswer
        do {
            answer = try endpoint.answer(route, path: path, accept: Self.joined(head.headers, "accept"))
        } catch {
            return nil  // the router answers (and logs) the same error
        }
        let start = NIODeadline.now()
        switch answer {
        case .page(let page):
            let fresh = head.headers.first(name: "if-none-match") == page.etag
            return Reply(
                head, start: start, status: fresh ? .notModified : .ok, headers: fresh ? page.notModifiedHead : page.head,
                body: fresh ? .none : .buffer(page.body))
        case .blob(let digest, _):
            guard let path = endpoint.store.localPath(for: digest), let lease = endpoint.openBlobs.open(digest, path: path) else { return nil }
            return blobReply(head, start: start, lease)
        case .miss, .other:
            return nil
        }
    }

    /// A blob's answer: 304 for its own ETag, 416 or 206 for a `Range`, else the whole file.
    private func blobReply(_ head: HTTPRequestHead, start: NIODeadline, _ lease: OpenBlobs.Lease) -> Reply {
        let etag = "\"\(lease.digest.hex)\""
        var headers = endpoint.blobHead
        headers.add(name: "ETag", value: etag)
        if head.headers.first(name: "if-none-match") == etag {
            endpoint.openBlobs.release(lease)
            return Reply(head, start: start, status: .notModified, headers: headers, body: .none)
        }
        var range: Range<Int64> = 0..<lease.size
        var status = HTTPResponseStatus.ok
        if let header = head.headers.first(name: "range") {
            guard let r = ByteRange.parse(header, size: lease.size) else {
                endpoint.openBlobs.release(lease)
                headers.add(name: "Content-Range", value: "bytes */\(lease.size)")
                headers.add(name: "Content-Length", value: "0")
                return Reply(head, start: start, status: .rangeNotSatisfiable, headers: headers, body: .none)
            }
            range = r.lowerBound..<(r.upperBound + 1)
            status = .partialContent
            headers.add(name: "Content-Range", value: "bytes \(r.lowerBound)-\(r.upperBound)/\(lease.size)")
        }
        headers.add(name: "Content-Length", value: String(range.count))
        return Reply(head, start: start, status: status, headers: headers, body: .blob(lease, range, endpoint.openBlobs))
    }

    private static func joined(_ headers: HTTPHeaders, _ name: String) -> String? {
        let values = headers[name]
        return values.count <= 1 ? values.first : values.joined(separator: ", ")
    }

    // MARK: Sending

    private func send(_ reply: Reply, _ context: ChannelHandlerContext) {
        var headers = reply.headers
        headers.add(name: "Date", value: HTTPDate.now)
        headers.add(name: "Server", value: "airlock")
        if !reply.keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if reply.version.minor == 0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: reply.version, status: reply.status, headers: headers))), promise: nil)
        endpoint.metrics.record(
            route: reply.route, status: Int(reply.status.code), elapsed: .nanoseconds(Int64((NIODeadline.now() - reply.start).nanoseconds)),
            bodyBytes: reply.status == .notModified ? nil : reply.bodyLength)
        switch reply.body {
        case .buffer(let buffer) where !reply.isHead:
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            end(keepAlive: reply.keepAlive, context)
        case .blob(let lease, let range, let blobs) where !reply.isHead:
            let sender = BlobSender(lease: lease, range: range, blobs: blobs, fileIO: tls ? endpoint.fileIO : nil, context: context) { [self] ok in
                state = .idle
                if ok { end(keepAlive: reply.keepAlive, context) } else { context.close(promise: nil) }
            }
            state = .sending(sender)
            sender.pump()
        case .blob(let lease, _, let blobs):
            blobs.release(lease)
            end(keepAlive: reply.keepAlive, context)
        default:
            end(keepAlive: reply.keepAlive, context)
        }
    }

    private func end(keepAlive: Bool, _ context: ChannelHandlerContext) {
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

/// A response decided by the `DirectResponder`, waiting for the request's end.
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

    init(_ head: HTTPRequestHead, start: NIODeadline, status: HTTPResponseStatus, headers: HTTPHeaders, body: Body) {
        version = head.version
        keepAlive = head.isKeepAlive
        isHead = head.method == .HEAD
        route = EndpointMetrics.RouteClass(path: head.uri)
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

    /// Gives back the file handle of a reply that will not be sent.
    func release() {
        if case .blob(let lease, _, let blobs) = body { blobs.release(lease) }
    }
}

/// Sends a range of a blob in pieces, a bounded number written ahead: file regions (sendfile) on
/// plain connections, buffers read off the event loop under TLS (which must encrypt the bytes).
/// Memory per download is at most `window` pieces under TLS and nothing but the handle otherwise.
final class BlobSender {
    static let pieceSize: Int64 = 2 << 20
    static let tlsPieceSize: Int64 = 256 << 10
    static let window = 2

    private let lease: OpenBlobs.Lease
    private let blobs: OpenBlobs
    private let fileIO: NonBlockingFileIO?
    private let context: ChannelHandlerContext
    private let done: (Bool) -> Void
    private var offset: Int64
    private let end: Int64
    private var reading = false
    private var writing = 0
    private var finished = false

    init(lease: OpenBlobs.Lease, range: Range<Int64>, blobs: OpenBlobs, fileIO: NonBlockingFileIO?, context: ChannelHandlerContext, done: @escaping (Bool) -> Void) {
        self.lease = lease
        self.blobs = blobs
        self.fileIO = fileIO
        self.context = context
        self.done = done
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    /// Writes pieces until `window` are on their way; when all are out, calls `done(true)`.
    func pump() {
        guard !finished else { return }
        if offset == end {
            if writing == 0, !reading { finish(ok: true) }
            return
        }
        guard !reading, writing < Self.window else { return }
        let start = offset
        let count = min(fileIO == nil ? Self.pieceSize : Self.tlsPieceSize, end - start)
        offset += count
        reading = true
        piece(start, count).assumeIsolated().whenComplete { [self] result in
            reading = false
            guard !finished else { return }
            switch result {
            case .failure: finish(ok: false)
            case .success(let data):
                writing += 1
                context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(data))).assumeIsolated().whenComplete { [self] written in
                    writing -= 1
                    if case .failure = written { finish(ok: false) } else { pump() }
                }
                pump()
            }
        }
    }

    private func piece(_ start: Int64, _ count: Int64) -> EventLoopFuture<IOData> {
        guard let fileIO else {
            return context.eventLoop.makeSucceededFuture(.fileRegion(FileRegion(fileHandle: lease.handle, readerIndex: Int(start), endIndex: Int(start + count))))
        }
        return fileIO.read(fileHandle: lease.handle, fromOffset: start, byteCount: Int(count), allocator: context.channel.allocator, eventLoop: context.eventLoop)
            .map { IOData.byteBuffer($0) }
    }

    /// The connection went away: stop and give the handle back.
    func stop() {
        guard !finished else { return }
        finished = true
        blobs.release(lease)
    }

    private func finish(ok: Bool) {
        guard !finished else { return }
        finished = true
        blobs.release(lease)
        done(ok)
    }
}
