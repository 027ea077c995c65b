/// The error every airlock module throws: a code that callers (and the HTTP layer) can switch on,
/// a message meant for a person, naming what was wrong and where, and an optional cause.
public struct AirlockError: Error, CustomStringConvertible, Sendable {
    /// An extensible set of error kinds.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        public static let invalidArgument = Code("invalid-argument")
        public static let notFound = Code("not-found")
        public static let hashMismatch = Code("hash-mismatch")
        public static let sizeMismatch = Code("size-mismatch")
        public static let tooLarge = Code("too-large")
        public static let truncated = Code("truncated")
        public static let network = Code("network")
        public static let upstreamStatus = Code("upstream-status")
        public static let malformedIndex = Code("malformed-index")
        public static let malformedMetadata = Code("malformed-metadata")
        public static let hostileArchive = Code("hostile-archive")
        public static let storage = Code("storage")
        public static let catalog = Code("catalog")
        public static let resolution = Code("resolution")
        /// The caller may not do this here (a replica refusing reviews, say).
        public static let forbidden = Code("forbidden")
        /// The whole sync's time limit ran out.
        public static let deadline = Code("deadline")
        /// One transfer took longer than its time limit.
        public static let timeLimit = Code("time-limit")
        /// The upstream gives no hash to check a file against.
        public static let unverifiable = Code("unverifiable")
        /// A file's PEP 740 provenance failed verification (the message names the check).
        public static let provenance = Code("provenance")
        /// The upstream marks the project quarantined (PEP 792): none of its files are mirrored.
        public static let quarantined = Code("quarantined")
    }

    public let code: Code
    public let message: String
    public let underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "\(message) (\(underlying))" }
        return message
    }
}
