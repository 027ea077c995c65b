public import AirlockCore

/// A policy as a security team writes it in `policies/*.toml`: factor weights, verdict thresholds,
/// hard rules. Loaded by `PolicyFile`; applied by `PolicyEngine`.
public struct Policy: Sendable, Decodable {
    public struct Thresholds: Sendable, Decodable {
        /// Scores at or above this are approved.
        @TOMLNumber public var approveAt: Double
        /// Scores below this are denied; scores between the two go to review.
        @TOMLNumber public var denyBelow: Double

        enum CodingKeys: String, CodingKey {
            case approveAt = "approve_at"
            case denyBelow = "deny_below"
        }
    }

    /// The most points each factor can give; a factor that cannot be measured drops out of the total.
    public struct Weights: Sendable, Decodable {
        @TOMLNumber public var maturity: Double
        @TOMLNumber public var releaseAge: Double
        @TOMLNumber public var activity: Double
        @TOMLNumber public var maintainers: Double
        @TOMLNumber public var popularity: Double

        enum CodingKeys: String, CodingKey {
            case maturity, activity, maintainers, popularity
            case releaseAge = "release_age"
        }
    }

    public struct Age: Sendable, Decodable {
        /// A project this old (since its first release) earns all the maturity points.
        @TOMLNumber public var matureAfterDays: Double
        /// A release out this long earns all the release-age points.
        @TOMLNumber public var settledAfterDays: Double
        /// Releases younger than this are held back from the index (review), whatever their score.
        @TOMLNumber public var cooldownDays: Double
        /// With no release for this long, a project starts losing its activity points.
        @TOMLNumber public var abandonedAfterDays: Double

        enum CodingKeys: String, CodingKey {
            case matureAfterDays = "mature_after_days"
            case settledAfterDays = "settled_after_days"
            case cooldownDays = "cooldown_days"
            case abandonedAfterDays = "abandoned_after_days"
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
        /// Addresses (`alice@example.org`) or domains (`python.org`) whose maintainers earn all maintainer points.
        public var trustedMaintainers: [String]
        /// A maintainer who also keeps another project with this many downloads earns all maintainer points.
        public var provenMaintainerDownloads: Int

        enum CodingKeys: String, CodingKey {
            case allow, deny, yanked
            case disposableEmailDomains = "disposable_email_domains"
            case trustedMaintainers = "trusted_maintainers"
            case provenMaintainerDownloads = "proven_maintainer_downloads"
        }
    }

    public struct Licenses: Sendable, Decodable {
        /// Licence categories accepted (`LicenseCategories`), such as permissive or weak-copyleft.
        public var allowCategories: [String]
        /// Licence categories refused.
        public var denyCategories: [String]
        /// SPDX identifiers accepted whatever their category.
        public var allow: [String]
        /// SPDX identifiers refused whatever their category.
        public var deny: [String]
        /// The verdict when the licence is missing, or in no list and no listed category.
        public var unknown: Verdict

        enum CodingKeys: String, CodingKey {
            case allow, deny, unknown
            case allowCategories = "allow_categories"
            case denyCategories = "deny_categories"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            // Optional, so policy files written before categories existed still load.
            allowCategories = c.contains(.allowCategories) ? try c.decode([String].self, forKey: .allowCategories) : []
            denyCategories = c.contains(.denyCategories) ? try c.decode([String].self, forKey: .denyCategories) : []
            allow = try c.decode([String].self, forKey: .allow)
            deny = try c.decode([String].self, forKey: .deny)
            unknown = try c.decode(Verdict.self, forKey: .unknown)
        }
    }

    public struct Typosquat: Sendable, Decodable {
        /// Names that imitations of are denied (the popularity feed adds its top names).
        public var protected: [String]
        /// Largest edit distance (insertions, deletions, substitutions, transpositions) counted as imitation.
        public var maxDistance: Int
        /// How many of the popularity feed's most downloaded names are protected too.
        public var popularTop: Int
        /// Whether the Python standard library's module names are protected too (PyPI policies).
        public var standardLibrary: Bool
        /// What a young project whose name reads as random keystrokes gets (`RandomNameDetector`); approve: nothing.
        public var randomName: Verdict

        enum CodingKeys: String, CodingKey {
            case protected
            case maxDistance = "max_distance"
            case popularTop = "popular_top"
            case standardLibrary = "standard_library"
            case randomName = "random_name"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            protected = try c.decode([String].self, forKey: .protected)
            maxDistance = try c.decode(Int.self, forKey: .maxDistance)
            popularTop = try c.decode(Int.self, forKey: .popularTop)
            standardLibrary = try c.decodeIfPresent(Bool.self, forKey: .standardLibrary) ?? false
            randomName = try c.decodeIfPresent(Verdict.self, forKey: .randomName) ?? .review
        }
    }

    public struct Popularity: Sendable, Decodable {
        /// Downloads that earn all the popularity points (the scale is logarithmic).
        @TOMLNumber public var popularAt: Double
        /// Mirrored releases depending on a project that earn it all the popularity points.
        @TOMLNumber public var dependentsAt: Double

        enum CodingKeys: String, CodingKey {
            case popularAt = "popular_at"
            case dependentsAt = "dependents_at"
        }
    }

    public struct Vulnerabilities: Sendable, Decodable {
        /// Known vulnerabilities at or above this severity deny the release.
        public var denyAt: String
        /// Below `deny_at` but at or above this, the release goes to review.
        public var reviewAt: String
        /// The severity assumed for an advisory that gives none.
        public var unknownSeverity: String
        /// A release that fixes a known vulnerability skips the cooldown.
        public var exemptFixesFromCooldown: Bool
        /// Serve a release denied only for (non-malicious) vulnerabilities as yanked, with the advisory as the reason.
        public var serveAsYanked: Bool

        enum CodingKeys: String, CodingKey {
            case denyAt = "deny_at"
            case reviewAt = "review_at"
            case unknownSeverity = "unknown_severity"
            case exemptFixesFromCooldown = "exempt_fixes_from_cooldown"
            case serveAsYanked = "serve_as_yanked"
        }
    }

    /// What each content signal does to a release: `deny`, `review`, or `note` (shown, no effect).
    public struct Content: Sendable, Decodable {
        public enum Outcome: String, Sendable, Decodable {
            case deny, review, note
        }

        public var outcomes: [ContentSignal: Outcome]

        /// Outcomes when the policy names none: execution of hidden code, shell commands at install and
        /// executing `.pth` files deny; a binary in an sdist is noted (real sdists ship launchers, such as
        /// setuptools' `cli-64.exe`); every other signal goes to review.
        public static let defaults: [ContentSignal: Outcome] = Dictionary(
            uniqueKeysWithValues: ContentSignal.allCases.map { s in
                (s, [.pthExec, .decodeExec, .installShell].contains(s) ? Outcome.deny : [.binaryInSdist, .noSummary].contains(s) ? .note : .review)
            })

        public init(outcomes: [ContentSignal: Outcome] = Content.defaults) { self.outcomes = outcomes }

        public init(from decoder: any Decoder) throws {
            let table = try decoder.singleValueContainer().decode([String: String].self)
            var outcomes = Self.defaults
            for (key, value) in table {
                guard let signal = ContentSignal(rawValue: key) else {
                    throw DecodingError.dataCorrupted(
                        .init(
                            codingPath: decoder.codingPath,
                            debugDescription:
                                "unknown content signal '\(key)'; known: \(ContentSignal.allCases.map(\.rawValue).joined(separator: ", "))"))
                }
                guard let outcome = Outcome(rawValue: value) else {
                    throw DecodingError.dataCorrupted(
                        .init(
                            codingPath: decoder.codingPath,
                            debugDescription: "content.\(key) must be \"deny\", \"review\" or \"note\", not \"\(value)\""))
                }
                outcomes[signal] = outcome
            }
            self.outcomes = outcomes
        }
    }

    /// Who published a release, from its verified PEP 740 attestations.
    public struct Provenance: Sendable, Decodable {
        /// The factor weight a release earns when a verified attestation names its publisher; a release
        /// without one leaves the factor out (no penalty: most projects do not attest yet).
        @TOMLNumber public var trustedPublisher: Double
        /// A release whose publisher is not the one the project's earlier attested releases had.
        public var publisherChanged: Content.Outcome
        /// A release without attestations after the project had them.
        public var attestationsDropped: Content.Outcome
        /// A pinned project's release whose publisher is not the pinned identity (or that has none).
        public var pinMismatch: Content.Outcome
        /// Project (any spelling) → the identity its releases must be published by (`github:psf/requests`).
        public var pin: [String: String]

        enum CodingKeys: String, CodingKey {
            case pin
            case trustedPublisher = "trusted_publisher"
            case publisherChanged = "publisher_changed"
            case attestationsDropped = "attestations_dropped"
            case pinMismatch = "pin_mismatch"
        }

        public init() {
            trustedPublisher = 10
            publisherChanged = .review
            attestationsDropped = .review
            pinMismatch = .deny
            pin = [:]
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Provenance()
            trustedPublisher = try c.decodeIfPresent(TOMLNumber.self, forKey: .trustedPublisher)?.wrappedValue ?? d.trustedPublisher
            publisherChanged = try c.decodeIfPresent(Content.Outcome.self, forKey: .publisherChanged) ?? d.publisherChanged
            attestationsDropped = try c.decodeIfPresent(Content.Outcome.self, forKey: .attestationsDropped) ?? d.attestationsDropped
            pinMismatch = try c.decodeIfPresent(Content.Outcome.self, forKey: .pinMismatch) ?? d.pinMismatch
            pin = try c.decodeIfPresent([String: String].self, forKey: .pin) ?? [:]
            for (project, identity) in pin where !identity.contains(":") {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.pin],
                        debugDescription:
                            "provenance.pin.\(project) = \"\(identity)\" is not an identity: write kind:name, such as \"github:psf/requests\""))
            }
        }
    }

    /// What the upstream's status marker for a project (PEP 792) does to its releases. A quarantined
    /// project is always denied (the index itself says its files are unsafe).
    public struct ProjectStatusRules: Sendable, Decodable {
        /// The project expects no more updates.
        public var archived: Content.Outcome
        /// The project is obsolete, perhaps superseded by another.
        public var deprecated: Content.Outcome

        public init(archived: Content.Outcome = .note, deprecated: Content.Outcome = .note) {
            self.archived = archived
            self.deprecated = deprecated
        }
    }

    public var name: String
    public var thresholds: Thresholds
    public var weights: Weights
    public var age: Age
    public var rules: Rules
    public var licenses: Licenses
    public var typosquat: Typosquat
    public var popularity: Popularity
    public var vulnerabilities: Vulnerabilities
    /// Optional in the file (policies written before content scanning load with the defaults).
    public var content: Content
    /// Optional in the file (policies written before provenance load with the defaults).
    public var provenance: Provenance
    /// Optional in the file, as `provenance` is.
    public var projectStatus: ProjectStatusRules

    enum CodingKeys: String, CodingKey {
        case name, thresholds, weights, age, rules, licenses, typosquat, popularity, vulnerabilities, content, provenance
        case projectStatus = "project_status"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        thresholds = try c.decode(Thresholds.self, forKey: .thresholds)
        weights = try c.decode(Weights.self, forKey: .weights)
        age = try c.decode(Age.self, forKey: .age)
        rules = try c.decode(Rules.self, forKey: .rules)
        licenses = try c.decode(Licenses.self, forKey: .licenses)
        typosquat = try c.decode(Typosquat.self, forKey: .typosquat)
        popularity = try c.decode(Popularity.self, forKey: .popularity)
        vulnerabilities = try c.decode(Vulnerabilities.self, forKey: .vulnerabilities)
        content = try c.decodeIfPresent(Content.self, forKey: .content) ?? Content()
        provenance = try c.decodeIfPresent(Provenance.self, forKey: .provenance) ?? Provenance()
        projectStatus = try c.decodeIfPresent(ProjectStatusRules.self, forKey: .projectStatus) ?? ProjectStatusRules()
    }
}

/// A TOML number, written as an integer (`7`) or a float (`7.5`): TOMLKit reads an integer as a
/// `Double` only when asked for an `Int`.
@propertyWrapper
public struct TOMLNumber: Sendable, Decodable {
    public var wrappedValue: Double

    public init(wrappedValue: Double) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let whole = try? c.decode(Int.self) {
            wrappedValue = Double(whole)
        } else {
            wrappedValue = try c.decode(Double.self)
        }
    }
}
