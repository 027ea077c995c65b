import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOHTTPTypes
import NIOCore
import Synchronization

/// How many connections the endpoint holds, in all and per client address; over either limit a new
/// connection is closed at once, so one client cannot take every file descriptor.
final class ConnectionLimits: Sendable {
    let maxTotal: Int
    let maxPerClient: Int
    private let counts = Mutex<(total: Int, byClient: [String: Int])>((0, [:]))

    init(maxTotal: Int, maxPerClient: Int) {
        self.maxTotal = maxTotal
        self.maxPerClient = maxPerClient
    }

    /// Takes a slot for `client`, or refuses.
    func open(_ client: String) -> Bool {
        counts.withLock { c in
            guard c.total < maxTotal, c.byClient[client, default: 0] < maxPerClient else { return false }
            c.total += 1
            c.byClient[client, default: 0] += 1
            return true
        }
    }

    func close(_ client: String) {
        counts.withLock { c in
            c.total -= 1
            c.byClient[client, default: 1] -= 1
            if c.byClient[client] == 0 { c.byClient[client] = nil }
        }
    }
}

/// Per connection: takes a slot from `ConnectionLimits`, and closes a connection that has not sent a
/// complete request head within `headerTimeout` of opening or of its last response (slowloris), or that
/// goes `requestTimeout` between a request head and a response byte (a body that never comes).
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let limits: ConnectionLimits
    let headerTimeout: TimeAmount
    let requestTimeout: TimeAmount
    private var client: String?
    private var deadline: Scheduled<Void>?

    init(limits: ConnectionLimits, headerTimeout: TimeAmount, requestTimeout: TimeAmount) {
        self.limits = limits
        self.headerTimeout = headerTimeout
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard client == nil else { return }
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard limits.open(address) else {
            context.close(promise: nil)
            return
        }
        client = address
        arm(context, headerTimeout)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { arm(context, requestTimeout) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // A response in progress keeps the connection as long as bytes keep going out.
        if case .end = unwrapOutboundIn(data) { arm(context, headerTimeout) } else { arm(context, requestTimeout) }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        if let client { limits.close(client) }
        client = nil
        context.fireChannelInactive()
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }
}
