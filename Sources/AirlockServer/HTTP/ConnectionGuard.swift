import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTP1
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
/// goes `requestTimeout` between a request head and a response byte (a body that never comes) or
/// between two response writes. It sits right after HTTP decoding, so it sees the requests the
/// `DirectResponder` answers as well as those the router does, and the `WireResponder` (which
/// holds it) tells it of the ones it answers before decoding. One timer per connection, never set
/// further ahead than the shorter timeout: a read or write only moves the deadline, and the timer,
/// when it fires before the deadline, sets itself again (so a deadline moved earlier is still kept).
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let limits: ConnectionLimits
    let headerTimeout: TimeAmount
    let requestTimeout: TimeAmount
    private var client: String?
    private var deadline = NIODeadline.distantFuture
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(limits: ConnectionLimits, headerTimeout: TimeAmount, requestTimeout: TimeAmount) {
        self.limits = limits
        self.headerTimeout = headerTimeout
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
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
        extend(context, headerTimeout)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { extend(context, requestTimeout) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .end: extend(context, headerTimeout)
        case .body(.fileRegion):
            // A file region may take long to go out: the deadline runs from when it has.
            extend(context, requestTimeout)
            let completion = promise ?? context.eventLoop.makePromise()
            completion.futureResult.hop(to: context.eventLoop).assumeIsolatedUnsafeUnchecked().whenSuccess { [self] in extend(context, requestTimeout)
            }
            context.write(data, promise: completion)
            return
        default: extend(context, requestTimeout)
        }
        context.write(data, promise: promise)
    }

    /// The `WireResponder` answering a request itself: the deadlines move as for any request.
    func wire(_ activity: WireActivity) {
        guard let context else { return }
        switch activity {
        case .requestHead, .responseProgress: extend(context, requestTimeout)
        case .responseEnd: extend(context, headerTimeout)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if let client { limits.close(client) }
        client = nil
        context.fireChannelInactive()
    }

    private func extend(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        deadline = .now() + timeout
        if timer == nil { schedule(context) }
    }

    private func schedule(_ context: ChannelHandlerContext) {
        let next = min(deadline, .now() + min(headerTimeout, requestTimeout))
        timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: next) { [self] in
            timer = nil
            guard client != nil else { return }
            if deadline <= .now() { context.close(promise: nil) } else { schedule(context) }
        }
    }
}
