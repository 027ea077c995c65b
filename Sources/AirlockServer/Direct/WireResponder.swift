import NIOCore
import NIOHTTP1

/// What the `WireResponder` tells the connection's `ConnectionGuard`, which never sees the requests
/// it answers, so the guard's deadlines move as they would for any request.
enum WireActivity {
    case requestHead
    case responseProgress
    case responseEnd
}

/// The first handler of a connection (after TLS): answers well-formed GET and HEAD requests for
/// cached pages and blobs straight from the socket's bytes, with the response written as one buffer
/// (pages) or a head and file regions (blobs), skipping the HTTP decoder, encoder and router. The
/// first request it does not answer (`WireRequestParser` refuses it, or `Endpoint.directReply`
/// leaves it to the router) is handed on with every byte after it, and the connection stays with
/// NIO's HTTP pipeline from then on. Requests are answered one at a time, and only while the
/// connection can take more output (NIO's writability): while a blob is being sent or the client is
/// not reading what it asked for, it neither answers nor reads, so pipelined requests wait in the
/// kernel's buffers and a connection's queued output stays within the channel's write watermark.
final class WireResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// A head longer than this goes to NIO's parser, which has its own limits.
    static let maxHead = 16 << 10

    private let endpoint: Endpoint
    private let tls: Bool
    private let connectionGuard: ConnectionGuard
    /// Bytes read and not yet answered.
    private var pending: ByteBuffer?
    private var handedOn = false
    private var sender: BlobSender?
    private var readWanted = false
    private var closeWhenDone = false
    private var closing = false

    init(endpoint: Endpoint, tls: Bool, connectionGuard: ConnectionGuard) {
        self.endpoint = endpoint
        self.tls = tls
        self.connectionGuard = connectionGuard
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if handedOn { return context.fireChannelRead(data) }
        if closing { return }
        var incoming = unwrapInboundIn(data)
        if pending == nil { pending = incoming } else { pending!.writeBuffer(&incoming) }
        answerPending(context)
    }

    func read(context: ChannelHandlerContext) {
        if !handedOn, sender != nil || !context.channel.isWritable { readWanted = true } else { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !handedOn { resume(context) }
        context.fireChannelWritabilityChanged()
    }

    /// Answers what waits and reads again, once no blob is being sent and output can flow.
    private func resume(_ context: ChannelHandlerContext) {
        guard !handedOn, !closing, sender == nil, context.channel.isWritable else { return }
        answerPending(context)
        if readWanted, !handedOn, sender == nil, context.channel.isWritable {
            readWanted = false
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        sender?.stop()
        sender = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        sender?.stop()
        sender = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent, !handedOn else { return context.fireUserInboundEventTriggered(event) }
        // Shutting down: close now if idle, else after the response in progress.
        if sender == nil { context.close(promise: nil) } else { closeWhenDone = true }
    }

    /// Answers the complete requests in `pending`, in order, until one must wait or be handed on.
    private func answerPending(_ context: ChannelHandlerContext) {
        while !handedOn, !closing, sender == nil, context.channel.isWritable, let buffer = pending, buffer.readableBytes > 0 {
            let head: (request: DirectRequest?, length: Int)? = buffer.withUnsafeReadableBytes { bytes in
                guard let length = WireRequestParser.headLength(bytes, limit: Self.maxHead) else { return nil }
                return (WireRequestParser.parse(UnsafeRawBufferPointer(rebasing: bytes[..<length])), length)
            }
            guard let head else {
                if buffer.readableBytes > Self.maxHead { handOn(context) }
                return  // the rest of the head is still to come
            }
            guard let request = head.request, let reply = endpoint.directReply(to: request) else { return handOn(context) }
            pending!.moveReaderIndex(forwardBy: head.length)
            if pending!.readableBytes == 0 { pending = nil }
            connectionGuard.wire(.requestHead)
            send(reply, context)
        }
    }

    /// Gives this request and everything after it to NIO's HTTP pipeline, for good.
    private func handOn(_ context: ChannelHandlerContext) {
        handedOn = true
        if let bytes = pending {
            pending = nil
            context.fireChannelRead(wrapInboundOut(bytes))
            context.fireChannelReadComplete()
        }
        if readWanted {
            readWanted = false
            context.read()
        }
    }

    private func send(_ reply: Reply, _ context: ChannelHandlerContext) {
        var inline = 0
        if case .buffer(let body) = reply.body, !reply.isHead { inline = body.readableBytes }
        var out = context.channel.allocator.buffer(capacity: 1024 + inline)
        out.writeString("HTTP/1.\(reply.version.minor) \(reply.status.code) \(reply.status.reasonPhrase)\r\n")
        for (name, value) in reply.sentHeaders {
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("\r\n")
        reply.record(endpoint.metrics)
        switch reply.body {
        case .buffer(var body) where !reply.isHead:
            out.writeBuffer(&body)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(out)), promise: nil)
            responseEnded(keepAlive: reply.keepAlive, context)
        case .blob(let lease, let range, let blobs) where !reply.isHead:
            context.write(wrapOutboundOut(.byteBuffer(out)), promise: nil)
            let blobSender = BlobSender(
                lease: lease, range: range, blobs: blobs, fileIO: tls ? endpoint.fileIO : nil, channel: context.channel,
                write: { [self] piece in
                    let written = context.writeAndFlush(wrapOutboundOut(piece))
                    written.assumeIsolated().whenSuccess { [connectionGuard] in connectionGuard.wire(.responseProgress) }
                    return written
                }
            ) { [self] ok in
                self.sender = nil
                guard ok else { return context.close(promise: nil) }
                responseEnded(keepAlive: reply.keepAlive, context)
                resume(context)
            }
            sender = blobSender
            blobSender.pump()
        default:
            reply.release()
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(out)), promise: nil)
            responseEnded(keepAlive: reply.keepAlive, context)
        }
    }

    private func responseEnded(keepAlive: Bool, _ context: ChannelHandlerContext) {
        connectionGuard.wire(.responseEnd)
        if !keepAlive || closeWhenDone {
            closing = true  // nothing more is read from this connection
            pending = nil
            // Completes after every earlier write has gone out.
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer()))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
