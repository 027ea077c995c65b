import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core context plus the client's address,
/// recorded with install misses.
public struct AirlockRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address, for the record.
    var clientAddress: String? { remoteAddress?.ipAddress }
}
