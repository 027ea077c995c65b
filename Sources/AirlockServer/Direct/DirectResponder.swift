import NIOCore
import NIOHTTP1

/// Answers pages and blobs on the event loop after NIO's HTTP decoder, in front of Hummingbird's
/// codec and router, for the requests the `WireResponder` handed on (a connection that asked for
/// something only the router answers stays on this path). Whatever it cannot answer goes on to
/// the router untouched; it decides with `Endpoint.directReply`, as the `WireResponder` does.
/// `HTTPServerPipelineHandler` in front keeps requests one at a time, so answers never overtake.
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
        /// Answered once the connection can take more output (the client is not reading).
        case waitingForWritable(Reply)
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
            guard context.channel.isWritable else {
                // HTTPServerPipelineHandler gives the next request only after this one's end is
                // written, so holding the answer holds the pipelined requests too.
                state = .waitingForWritable(reply)
                return
            }
            state = .idle
            send(reply, context)
        case (.body, _), (.end, _):
            break
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .waitingForWritable(let reply) = state, context.channel.isWritable {
            state = .idle
            send(reply, context)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandon()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { abandon() }

    /// Gives back a file handle a request still holds when the connection goes.
    private func abandon() {
        switch state {
        case .answering(let reply), .waitingForWritable(let reply): reply.release()
        case .sending(let sender): sender.stop()
        default: break
        }
        state = .idle
    }

    /// Every request the router will see passes here: a target that is not canonical is answered
    /// (redirected or refused) whatever the method, so the router and its gates see canonical paths only.
    private func reply(to head: HTTPRequestHead) -> Reply? {
        let accept = head.headers["accept"]
        let request = DirectRequest(
            isHead: head.method == .HEAD, target: Substring(head.uri), version: head.version, keepAlive: head.isKeepAlive,
            accept: accept.count <= 1 ? accept.first : accept.joined(separator: ", "), ifNoneMatch: head.headers.first(name: "if-none-match"),
            range: head.headers.first(name: "range"), authorization: head.headers.first(name: "authorization"))
        guard head.method == .GET || head.method == .HEAD else { return endpoint.nonCanonicalReply(request) }
        return endpoint.directReply(to: request)
    }

    private func send(_ reply: Reply, _ context: ChannelHandlerContext) {
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: reply.version, status: reply.status, headers: reply.sentHeaders))), promise: nil)
        reply.record(endpoint.metrics)
        switch reply.body {
        case .buffer(let buffer) where !reply.isHead:
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            end(keepAlive: reply.keepAlive, context)
        case .blob(let lease, let range, let blobs) where !reply.isHead:
            let sender = BlobSender(
                lease: lease, range: range, blobs: blobs, fileIO: tls ? endpoint.fileIO : nil, channel: context.channel,
                write: { [self] in context.writeAndFlush(wrapOutboundOut(.body($0))) }
            ) { [self] ok in
                state = .idle
                if ok { end(keepAlive: reply.keepAlive, context) } else { context.close(promise: nil) }
            }
            state = .sending(sender)
            sender.pump()
        default:
            reply.release()
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
