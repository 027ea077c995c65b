/// How far a sync may go toward an upstream: where redirects may lead, how long one transfer and a
/// whole sync may take, and whether a file the index gives no hash for is fetched at all. Only
/// `http` and `https` are ever spoken, whatever an index links to.
public struct UpstreamLimits: Sendable, Equatable {
    /// Hosts a redirect may lead to besides the host of the URL asked for and the upstream's own.
    public var redirectHosts: [String]
    public var maxRedirects: Int
    /// Longest one transfer (an index page, a file) may take from start to end.
    public var transferTimeout: Duration
    /// Longest a whole sync may spend fetching: no transfer runs past it.
    public var syncTimeout: Duration
    /// Fetch files whose index entry carries no SHA-256 (verified by nothing but their size).
    public var allowUnhashed: Bool

    public init(
        redirectHosts: [String] = [], maxRedirects: Int = 5, transferTimeout: Duration = .seconds(30 * 60),
        syncTimeout: Duration = .seconds(6 * 3600),
        allowUnhashed: Bool = false
    ) {
        self.redirectHosts = redirectHosts
        self.maxRedirects = maxRedirects
        self.transferTimeout = transferTimeout
        self.syncTimeout = syncTimeout
        self.allowUnhashed = allowUnhashed
    }
}
