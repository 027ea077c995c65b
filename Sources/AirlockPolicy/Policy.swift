public import AirlockCore

/// A policy as a security team writes it in `policies/*.toml`: factor weights, verdict thresholds,
/// hard rules. Loaded by `PolicyFile`; applied by `PolicyEngine`.
public struct Policy: Sendable, Decodable {
    public struct Thresholds: Sendable, Decodable {
        /// Scores at or above this are approved.
        public var approveAt: Double
        /// Scores below this are denied; scores between the two go to review.
        public var denyBelow: Double

        enum CodingKeys: String, CodingKey {
            case approveAt = "approve_at"
            case denyBelow = "deny_below"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            approveAt = try c.number(.approveAt)
            denyBelow = try c.number(.denyBelow)
        }
    }

    /// The most points each factor can give; a factor that cannot be measured drops out of the total.
    public struct Weights: Sendable, Decodable {
        public var maturity: Double
        public var releaseAge: Double
        public var activity: Double
        public var maintainers: Double
        public var popularity: Double

        enum CodingKeys: String, CodingKey {
            case maturity, activity, maintainers, popularity
            case releaseAge = "release_age"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            maturity = try c.number(.maturity)
            releaseAge = try c.number(.releaseAge)
            activity = try c.number(.activity)
            maintainers = try c.number(.maintainers)
            popularity = try c.number(.popularity)
        }
    }

    public struct Age: Sendable, Decodable {
        /// A project this old (since its first release) earns all the maturity points.
        public var matureAfterDays: Double
        /// A release out this long earns all the release-age points.
        public var settledAfterDays: Double
        /// Releases younger than this are held back from the index (review), whatever their score.
        public var cooldownDays: Double
        /// With no release for this long, a project starts losing its activity points.
        public var abandonedAfterDays: Double

        enum CodingKeys: String, CodingKey {
            case matureAfterDays = "mature_after_days"
            case settledAfterDays = "settled_after_days"
            case cooldownDays = "cooldown_days"
            case abandonedAfterDays = "abandoned_after_days"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            matureAfterDays = try c.number(.matureAfterDays)
            settledAfterDays = try c.number(.settledAfterDays)
            cooldownDays = try c.number(.cooldownDays)
            abandonedAfterDays = try c.number(.abandonedAfterDays)
        }
    }

    public struct Rules: Sendable, Decodable {
        /// Projects always approved (unless also denied).
        public var allow: [String]
        /// Projects always denied.
        public var deny: [String]
        /// The verdict for a release whose every file is yanked.
        public var yanked: Verdict
        /// E-mail domains of throwaway mailboxes: a maintainer using one earns no maintainer points.
        public var disposableEmailDomains: [String]

        enum CodingKeys: String, CodingKey {
            case allow, deny, yanked
            case disposableEmailDomains = "disposable_email_domains"
        }
    }

    public struct Licenses: Sendable, Decodable {
        /// SPDX identifiers accepted.
        public var allow: [String]
        /// SPDX identifiers refused.
        public var deny: [String]
        /// The verdict when the licence is missing or names something in neither list.
        public var unknown: Verdict
    }

    public struct Typosquat: Sendable, Decodable {
        /// Names that imitations of are denied (the popularity feed adds its top names).
        public var protected: [String]
        /// Largest edit distance (insertions, deletions, substitutions, transpositions) counted as imitation.
        public var maxDistance: Int

        enum CodingKeys: String, CodingKey {
            case protected
            case maxDistance = "max_distance"
        }
    }

    public var name: String
    public var thresholds: Thresholds
    public var weights: Weights
    public var age: Age
    public var rules: Rules
    public var licenses: Licenses
    public var typosquat: Typosquat
}

extension KeyedDecodingContainer {
    /// A TOML number, written as an integer (`7`) or a float (`7.5`).
    func number(_ key: Key) throws -> Double {
        if let whole = try? decode(Int.self, forKey: key) { return Double(whole) }
        return try decode(Double.self, forKey: key)
    }
}
