import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The endpoint's HTTP/1.1 connection: the `WireResponder`, which answers the common page and file
/// requests from the raw bytes; then NIO's HTTP decoder and encoder with pipelining assistance (one
/// request at a time), the `ConnectionGuard`, the `DirectResponder` (pages and files again, for
/// connections handed on), and only then Hummingbird's codec and router for everything else.
/// Hummingbird's own `HTTP1Channel` has no place below its codec, where file regions (sendfile) can
/// still be written; this is that channel with one.
struct RepositoryChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    /// Made anew for each connection: the handler that reads its bytes first, and those after
    /// HTTP decoding, in front of the router.
    let handlers: @Sendable () -> (wire: any ChannelHandler, afterDecoding: [any ChannelHandler])

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            let (wire, afterDecoding) = handlers()
            try pipeline.addHandler(wire)
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: true, withErrorHandling: false, withOutboundHeaderValidation: false, withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: .init())
            try pipeline.addHandlers(afterDecoding)
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
