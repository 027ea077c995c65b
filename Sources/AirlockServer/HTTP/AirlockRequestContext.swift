import AirlockCatalog
import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core context plus the client's address
/// (recorded with install misses), the caller a `RoleMiddleware` admitted, and the body size limit.
public struct AirlockRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The token a `RoleMiddleware` checked; nil on anonymous routes.
    var caller: APIToken?
    /// Bodies larger than this are refused with 413 before they are read whole (64 KiB: every body
    /// airlock takes is a small form or JSON document).
    public var maxUploadSize: Int { 64 << 10 }

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address, for the record.
    var clientAddress: String? { remoteAddress?.ipAddress }

    /// The admitted caller; only called on routes behind a `RoleMiddleware`.
    var admitted: APIToken {
        get throws {
            guard let caller else { throw Problem(.unauthorized, "this route needs a token") }
            return caller
        }
    }
}
