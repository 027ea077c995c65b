import AirlockCore
import AirlockPolicy
import Foundation
import Testing

@Suite struct PolicyEngineTests {
    static let policyText = """
        name = "test"
        [thresholds]
        approve_at = 70
        deny_below = 30
        [weights]
        maturity = 25
        release_age = 15
        activity = 15
        maintainers = 20
        popularity = 25
        [age]
        mature_after_days = 730
        settled_after_days = 30
        cooldown_days = 7
        abandoned_after_days = 1095
        [rules]
        allow = ["trusted"]
        deny = ["banned"]
        yanked = "deny"
        disposable_email_domains = ["mailinator.com"]
        trusted_maintainers = ["trusted.org"]
        proven_maintainer_downloads = 100000
        [licenses]
        allow = ["MIT", "Apache-2.0"]
        deny = ["AGPL-3.0-only"]
        unknown = "review"
        [typosquat]
        protected = ["requests", "numpy", "boto", "boto3"]
        max_distance = 1
        popular_top = 10
        [popularity]
        popular_at = 1000000
        dependents_at = 10
        [vulnerabilities]
        deny_at = "high"
        review_at = "moderate"
        unknown_severity = "high"
        exempt_fixes_from_cooldown = true
        serve_as_yanked = true
        """
    let engine = PolicyEngine(try! PolicyFile.parse(policyText, path: "test.toml"))
    let now = Timestamp.parse("2026-11-23T00:00:00Z")!

    func facts(
        _ name: String = "alpha", released daysAgo: Double? = 100, firstRelease: Double? = 365, lastRelease: Double? = 100,
        people: ProjectPeople? = ProjectPeople(author: "Ada", authorEmail: "ada@example.org", maintainer: "Bob", maintainerEmail: "bob@example.org"),
        license: String? = "MIT", yanked: String? = nil
    ) -> ReleaseFacts {
        let upload = daysAgo.map { now.addingTimeInterval(-$0 * 86_400) }
        let file = Distribution(
            ecosystem: .pypi, project: ProjectName(name), version: "1.0", filename: "\(name)-1.0-py3-none-any.whl", kind: .wheel,
            digest: Digest.of([1]), size: 1, uploadTime: upload, yanked: yanked)
        return ReleaseFacts(
            ecosystem: .pypi, project: ProjectName(name), version: "1.0", files: [file], people: people, selectedBy: "test",
            history: ProjectHistory(
                firstUpload: firstRelease.map { now.addingTimeInterval(-$0 * 86_400) },
                lastUpload: lastRelease.map { now.addingTimeInterval(-$0 * 86_400) }, releaseCount: 4),
            license: license.flatMap(LicenseExpression.parse), declaredLicense: license)
    }

    func points(_ d: Decision, _ name: String) -> Double? { d.factors.first { $0.name == name }?.points }

    @Test func handComputedScore() {
        let d = engine.evaluate(facts(), at: now)
        // maturity 25 × 365/730 = 12.5; release_age 15 × min(1, 100/30) = 15; activity 15 (100 ≤ 1095 days);
        // maintainers 20 × 2/2 = 20; popularity unscored. 62.5 of 75 possible = 83.3.
        #expect(points(d, "maturity") == 12.5)
        #expect(points(d, "release_age") == 15)
        #expect(points(d, "activity") == 15)
        #expect(points(d, "maintainers") == 20)
        #expect(points(d, "popularity") == 0)
        #expect(d.factors.first { $0.name == "popularity" }?.signal.contains("not scored") == true)
        #expect(d.score == 83.3)
        #expect(d.verdict == .approve)
        #expect(d.policyDigest.hasPrefix("sha256:"))
    }

    @Test func releaseWithNoUploadTime() {
        let d = engine.evaluate(facts(released: nil, firstRelease: nil, lastRelease: nil), at: now)
        // maturity unscored (unknown first release); release_age 0; activity 0; maintainers 20 → 20 of 50 = 40.
        #expect(points(d, "release_age") == 0)
        #expect(d.factors.first { $0.name == "maturity" }?.signal.contains("unknown") == true)
        #expect(d.score == 40)
        #expect(d.verdict == .review)
        #expect(!d.factors.contains { $0.name == "rule:cooldown" }, "no upload time: cooldown cannot be judged")
    }

    @Test func projectWithOneReleaseYesterdayIsHeldBackByCooldown() {
        let d = engine.evaluate(facts(released: 1, firstRelease: 1, lastRelease: 1, people: ProjectPeople(author: "Eve")), at: now)
        // maturity 25 × 1/730 = 0.0 (rounded to 0.1: 0.0); release_age 15 × 1/30 = 0.5; activity 15; maintainers 10 → 25.5 of 75 = 34.
        #expect(points(d, "release_age") == 0.5)
        #expect(points(d, "maintainers") == 10)
        #expect(d.score == 34)
        let cooldown = d.factors.first { $0.name == "rule:cooldown" }
        #expect(cooldown?.signal.contains("held back until 2026-11-29") == true, "\(String(describing: cooldown))")
        #expect(d.verdict == .review)
    }

    @Test func abandonmentDecays() {
        let d = engine.evaluate(facts(released: 1642, firstRelease: 3000, lastRelease: 1642), at: now)
        // 1642 days quiet: 15 × (1 − (1642 − 1095)/1095) = 15 × 0.5005 = 7.5
        #expect(points(d, "activity") == 7.5)
    }

    @Test func hardRules() {
        #expect(engine.evaluate(facts("banned"), at: now).verdict == .deny)
        let trusted = engine.evaluate(facts("trusted", released: 1, license: nil), at: now)
        #expect(trusted.verdict == .approve, "the allow list approves despite cooldown and licence")
        #expect(engine.evaluate(facts(license: "AGPL-3.0-only"), at: now).verdict == .deny)
        #expect(engine.evaluate(facts(license: "MIT OR Apache-2.0"), at: now).verdict == .approve)
        #expect(engine.evaluate(facts(license: "GPL-3.0-only"), at: now).verdict == .review)
        #expect(engine.evaluate(facts(yanked: "broken"), at: now).verdict == .deny)
        let disposable = engine.evaluate(facts(people: ProjectPeople(author: "X", authorEmail: "x@mailinator.com")), at: now)
        #expect(points(disposable, "maintainers") == 0)
    }

    @Test func typosquatsAreDeniedButProtectedNamesAreNot() {
        for squat in ["reqeusts", "requsts", "requests_", "nurnpy", "num-py"] {
            let d = engine.evaluate(facts(squat), at: now)
            #expect(d.verdict == .deny, "\(squat)")
            #expect(d.factors.contains { $0.name == "rule:typosquat" }, "\(squat)")
        }
        for genuine in ["requests", "numpy", "boto", "boto3", "alpha"] {
            #expect(!engine.evaluate(facts(genuine), at: now).factors.contains { $0.name == "rule:typosquat" }, "\(genuine)")
        }
    }

    @Test func deterministic() {
        #expect(engine.evaluate(facts(), at: now) == engine.evaluate(facts(), at: now))
    }
}

@Suite struct LicenseExpressionTests {
    let allow: Set<String> = ["MIT", "Apache-2.0"]
    let deny: Set<String> = ["AGPL-3.0-only"]

    func standing(_ text: String) -> LicenseExpression.Standing? {
        LicenseExpression.parse(text)?.standing { id in deny.contains(id) ? .denied(id) : allow.contains(id) ? .allowed : .unknown(id) }
    }

    @Test func spdxExpressions() {
        #expect(standing("MIT OR Apache-2.0") == .allowed)
        #expect(standing("MIT AND Apache-2.0") == .allowed)
        #expect(standing("MIT OR AGPL-3.0-only") == .allowed, "the user may choose MIT")
        #expect(standing("MIT AND AGPL-3.0-only") == .denied("AGPL-3.0-only"))
        #expect(standing("(GPL-3.0-only OR AGPL-3.0-only)") == .unknown("GPL-3.0-only"))
        #expect(standing("Apache-2.0 WITH LLVM-exception") == .allowed)
        #expect(LicenseExpression.parse("MIT OR") == nil)
        #expect(LicenseExpression.parse("(MIT") == nil)
    }

    @Test func freeTextAndClassifiers() {
        #expect(standing("Apache 2.0") == .allowed)
        #expect(standing("MIT + file LICENSE") == .allowed)
        let fromClassifiers = LicenseExpression.declared(
            expression: nil, license: nil, classifiers: ["Programming Language :: Python", "License :: OSI Approved :: MIT License"])
        #expect(fromClassifiers == .license("MIT"))
        let long = String(repeating: "Permission is hereby granted ", count: 10)
        #expect(
            LicenseExpression.declared(expression: nil, license: long, classifiers: ["License :: OSI Approved :: Apache Software License"])
                == .license("Apache-2.0"))
    }
}

@Suite struct MaintainerSignalTests {
    let base = PolicyEngineTests()

    @Test func trustedMaintainerEarnsAllPoints() {
        let d = base.engine.evaluate(
            base.facts(people: ProjectPeople(author: "Core Team", authorEmail: "Core Team <team@trusted.org>")), at: base.now)
        #expect(base.points(d, "maintainers") == 20)
        #expect(d.factors.first { $0.name == "maintainers" }?.signal == "trusted maintainer team@trusted.org")
    }

    @Test func newEmailOnAMatureProjectsNewestReleaseIsATakeoverSignal() {
        var f = base.facts(firstRelease: 1000)
        f.newMaintainerEmails = ["new@elsewhere.example"]
        let d = base.engine.evaluate(f, at: base.now)
        #expect(d.verdict == .review)
        #expect(d.factors.contains { $0.name == "rule:takeover" && $0.signal.contains("new@elsewhere.example") })
        var young = base.facts(firstRelease: 100)
        young.newMaintainerEmails = ["new@elsewhere.example"]
        #expect(
            !base.engine.evaluate(young, at: base.now).factors.contains { $0.name == "rule:takeover" }, "a young project may still gain maintainers")
    }

    @Test func dependentsInTheMirrorCountAsPopularity() throws {
        let engine = PolicyEngine(
            try PolicyFile.parse(PolicyEngineTests.policyText, path: "t.toml"), feeds: Feeds(downloads: ["alpha": 10], advisories: [:]))
        var f = base.facts()
        f.dependents = 5
        let d = engine.evaluate(f, at: base.now)
        // 10 downloads earn 25 × 1/6 = 4.2; 5 of the 10 dependents that earn all points earn 12.5, the higher; 75 of 100.
        #expect(base.points(d, "popularity") == 12.5)
        #expect(d.score == 75)
        #expect(base.points(base.engine.evaluate(f, at: base.now), "popularity") == 0, "without a download feed the factor is left out")
        #expect(base.engine.evaluate(f, at: base.now).score == 83.3)
    }
}

@Suite struct ProvenMaintainerTests {
    @Test func aMaintainerOfAPopularProjectEarnsAllMaintainerPoints() throws {
        let base = PolicyEngineTests()
        let engine = PolicyEngine(
            try PolicyFile.parse(PolicyEngineTests.policyText, path: "t.toml"),
            feeds: Feeds(downloads: ["bigproj": 500_000, "smallproj": 50], advisories: [:]))
        var f = base.facts(people: ProjectPeople(author: "Solo", authorEmail: "solo@example.org"))
        #expect(base.points(engine.evaluate(f, at: base.now), "maintainers") == 10, "one maintainer: half the points")
        f.maintainersOtherProjects = ["smallproj", "bigproj"]
        let d = engine.evaluate(f, at: base.now)
        #expect(base.points(d, "maintainers") == 20)
        #expect(d.factors.first { $0.name == "maintainers" }?.signal == "a maintainer also keeps bigproj (500000 downloads)")
        f.maintainersOtherProjects = ["smallproj"]
        #expect(base.points(engine.evaluate(f, at: base.now), "maintainers") == 10, "50 downloads prove nothing")
    }
}

/// The shipped default policy's licence rule on the shapes real packages declare.
@Suite struct LicenseCategoryTests {
    static let engine = PolicyEngine(try! PolicyFile.load(PolicySyncTests.defaultPolicy))

    func licenseFactor(_ declared: String?, classifiers: [String] = [], r: Bool = false) -> Decision.Factor? {
        let license =
            r
            ? declared.flatMap { LicenseExpression.declared(rLicense: $0) }
            : LicenseExpression.declared(expression: nil, license: declared, classifiers: classifiers)
        let facts = ReleaseFacts(
            ecosystem: r ? .cran : .pypi, project: ProjectName("alpha"), version: "1.0", files: [], people: nil, selectedBy: "t",
            license: license, declaredLicense: declared)
        return Self.engine.evaluate(facts, at: Date()).factors.first { $0.name == "rule:license" }
    }

    @Test func categoriesComeFromTheShippedLicenceData() {
        #expect(LicenseCategories.category(of: "MIT-CMU") == "permissive", "Pillow 13.0.0's licence")
        #expect(LicenseCategories.category(of: "HPND") == "permissive")
        #expect(LicenseCategories.category(of: "GPL-2.0-only") == "strong-copyleft")
        #expect(LicenseCategories.category(of: "LGPL-2.1-or-later") == "weak-copyleft")
        #expect(LicenseCategories.category(of: "AGPL-3.0-or-later") == "network-copyleft")
        #expect(LicenseCategories.category(of: "CC-BY-NC-4.0") == "non-commercial")
        #expect(LicenseCategories.category(of: "SSPL-1.0") == "source-available")
        #expect(LicenseCategories.category(of: "mit") == "permissive", "identifiers are matched without regard to case")
        #expect(LicenseCategories.category(of: "NoSuchLicence") == "unknown")
    }

    @Test func permissiveAndCopyleftAreServedNetworkCopyleftAndNonCommercialAreHeld() {
        for served in [
            "MIT-CMU", "HPND", "PSFL", "BSD", "BSD License", "Apache 2.0", "MIT License", "PSF", "LGPL", "GPL-3.0-or-later", "MPL-2.0", "Unlicense",
        ] {
            #expect(licenseFactor(served) == nil, "\(served) is served: \(String(describing: licenseFactor(served)))")
        }
        #expect(licenseFactor(nil, classifiers: ["License :: OSI Approved :: BSD License"]) == nil)
        #expect(licenseFactor(nil, classifiers: ["License :: OSI Approved :: GNU Library or Lesser General Public License (LGPL)"]) == nil)
        for held in ["AGPL-3.0-only", "CC-BY-NC-4.0", "SSPL-1.0", "BUSL-1.1", "Proprietary", "see LICENSE file"] {
            let factor = licenseFactor(held)
            #expect(factor?.signal.contains("review") == true || factor != nil, "\(held) is held: \(String(describing: factor))")
        }
        #expect(licenseFactor("AGPL-3.0-only")?.signal.contains("network-copyleft") == true)
    }

    @Test func rLicencesMostOfCRANUses() {
        for served in [
            "GPL (>= 2)", "GPL-2 | GPL-3", "MIT + file LICENSE", "LGPL-3", "Apache License (== 2.0)", "BSD_3_clause + file LICENSE",
            "Apache License (== 2.0) | file LICENSE",  // utf8: one readable, allowed alternative is enough
        ] {
            #expect(licenseFactor(served, r: true) == nil, "\(served): \(String(describing: licenseFactor(served, r: true)))")
        }
        #expect(licenseFactor("AGPL-3", r: true) != nil)
        #expect(licenseFactor("file LICENSE", r: true)?.signal.contains("no readable licence") == true, "stringi's own terms go to a person")
    }

    @Test func aPolicyNamingAnUnknownCategoryIsAnErrorWithItsLine() throws {
        let text = try String(contentsOfFile: PolicySyncTests.defaultPolicy, encoding: .utf8)
            .replacingOccurrences(of: #"allow_categories = ["permissive""#, with: #"allow_categories = ["permisive""#)
        let error = try #require(throws: AirlockError.self) { try PolicyFile.parse(text, path: "p.toml") }
        #expect(error.message.hasPrefix("p.toml:") && error.message.contains("'permisive', which is not a licence category"), "\(error.message)")
    }
}

@Suite struct MaintainerNameTests {
    @Test func onePersonInAuthorAndMaintainerCountsOnce() {
        let engine = LicenseCategoryTests.engine
        let facts = ReleaseFacts(
            ecosystem: .cran, project: ProjectName("digest"), version: "0.6.37", files: [],
            people: ProjectPeople(
                author: "Dirk Eddelbuettel <edd@debian.org> with contributions by Antoine Lucas, Jarek Tuszynski, Henrik Bengtsson",
                maintainer: "Dirk Eddelbuettel", maintainerEmail: "edd@debian.org"),
            selectedBy: "t", license: .license("GPL-2.0-or-later"), declaredLicense: "GPL (>= 2)")
        let factor = engine.evaluate(facts, at: Date()).factors.first { $0.name == "maintainers" }
        #expect(factor?.signal == "1 named: dirk eddelbuettel", "\(String(describing: factor))")
    }

    @Test func distinctPeopleStillCount() {
        let facts = ReleaseFacts(
            ecosystem: .cran, project: ProjectName("x"), version: "1", files: [],
            people: ProjectPeople(author: "Jane Roe [aut, cre], John Doe [aut]", maintainer: "Jane Roe", maintainerEmail: "jane@example.org"),
            selectedBy: "t")
        let factor = LicenseCategoryTests.engine.evaluate(facts, at: Date()).factors.first { $0.name == "maintainers" }
        #expect(factor?.signal == "2 named: jane roe, john doe", "\(String(describing: factor))")
    }
}

@Suite struct NameTierTests {
    /// 150 ranked names (`name0` most downloaded), plus what a test adds.
    func engine(_ extra: [String: Int] = [:]) throws -> PolicyEngine {
        var downloads = Dictionary(uniqueKeysWithValues: (0..<150).map { ("rankedname\($0)", 1_000_000_000 / ($0 + 1)) })
        downloads.merge(extra) { a, _ in a }
        return PolicyEngine(try PolicyFile.load(PolicySyncTests.defaultPolicy), feeds: Feeds(downloads: downloads, advisories: [:]))
    }

    func rule(_ engine: PolicyEngine, _ name: String, firstReleaseDaysAgo days: Double = 0) -> Decision.Factor? {
        let first = Date().addingTimeInterval(-days * 86_400)
        let facts = ReleaseFacts(
            ecosystem: .pypi, project: ProjectName(name), version: "1.0", files: [], people: nil, selectedBy: "t",
            history: ProjectHistory(firstUpload: first, lastUpload: first, releaseCount: 1))
        return engine.evaluate(facts, at: Date()).factors.first { ["rule:typosquat", "rule:combosquat", "rule:system_name"].contains($0.name) }
    }

    /// The weak forms (review, never deny): a protected name cut short, one of the top names with a few
    /// letters glued on, a ranked name (5+ characters) one slip away or with a usual affix, the standard
    /// library's modules with an affix, and C-library package names (dependency confusion).
    @Test func weakFormsGoToReview() throws {
        // 1,000 more-downloaded names push `ranked` and `lower-ranked` out of the protected top 1,000.
        var feed = Dictionary(uniqueKeysWithValues: (0..<1_000).map { ("filler\($0)", 1_000_000 + $0) })
        feed["ranked"] = 5_000
        feed["lower-ranked"] = 4_000
        let e = try engine(feed)
        let cases: [(String, String, String)] = [
            ("rankedna", "'rankedname0' cut short", "rule:typosquat"),
            ("easyrankedname4", "'rankedname4' with 'easy'", "rule:combosquat"),
            ("rankedname4xyz", "'rankedname4' with 'xyz'", "rule:combosquat"),
            ("rankee", "'ranked' (edit distance 1: a letter replaced)", "rule:typosquat"),
            ("lower-ranked-utils", "'lower-ranked' with '-utils'", "rule:combosquat"),
            ("logging-python", "'logging' with '-python'", "rule:combosquat"),
            ("liblapack-dev", "operating system's development package", "rule:system_name"),
        ]
        for (name, says, rule) in cases {
            let r = try #require(self.rule(e, name), "\(name)")
            #expect(r.name == rule, "\(name): \(r.name)")
            #expect(r.signal.contains(says) && r.signal.hasSuffix("→ review"), "\(name): \(r.signal)")
        }
        // Not flagged: a short glued word on a name outside the top 100, digits glued on,
        // a `-dev` name that is no C library's, a library's own name.
        for name in ["superrankedname140", "rankedname41234", "textx-dev", "libfoo", "rankedx9z"] {
            #expect(rule(e, name) == nil, "\(name): \(String(describing: rule(e, name)?.signal))")
        }
    }

    /// Against a merely ranked name, only the slips of a hand count at every length (a doubled or swapped
    /// letter); a dropped one from 6 characters; another or an added letter only at 6 or 7 characters.
    @Test func rankedNamesCountTheSlipsOfAHand() throws {
        var feed = Dictionary(uniqueKeysWithValues: (0..<1_000).map { ("filler\($0)", 1_000_000 + $0) })
        for name in ["vyper", "ranked", "tkcalendar"] { feed[name] = 5_000 }
        let e = try engine(feed)
        let flagged = [
            ("vypper", "a letter doubled"), ("vyepr", "two letters swapped"), ("tkcalendr", "a letter dropped"),
            ("tkcaelndar", "two letters swapped"),
            ("rankee", "a letter replaced"), ("rankeds", "a letter added"), ("ranke", "a letter dropped"),
        ]
        for (name, slip) in flagged {
            let r = try #require(rule(e, name), "\(name)")
            #expect(r.signal.contains("(edit distance 1: \(slip))") && r.signal.hasSuffix("→ review"), "\(name): \(r.signal)")
        }
        for name in ["vyler", "avyper", "vper", "tkcalendat", "tkcalendary"] {
            #expect(rule(e, name) == nil, "\(name): \(String(describing: rule(e, name)?.signal))")
        }
    }

    @Test func strengthFollowsTheTargetAndTheCandidate() throws {
        let e = try engine(["lark": 2_000_000, "rankedname-tool": 50])
        // One slip from a protected name of 6+ characters by a new project: denied, both projects' downloads named.
        let squat = try #require(rule(e, "rankednane3"))
        #expect(squat.signal.hasSuffix("→ deny") && squat.signal.contains("0 downloads against 250000000"), "\(squat.signal)")
        // The same name by a project five years old: review.
        #expect(rule(e, "rankednane3", firstReleaseDaysAgo: 1800)?.signal.hasSuffix("→ review") == true)
        // One slip from a short protected name outside the feed's top 100: review (`nark` beside `lark`).
        #expect(rule(e, "nark")?.signal.hasSuffix("→ review") == true)
        // A popular name with a usual affix: combosquat, review; a name the feed ranks is no weak imitation.
        for combo in ["rankedname5-api", "python-rankedname5", "rankedname5-tools"] {
            let r = try #require(rule(e, combo), "\(combo)")
            #expect(r.name == "rule:combosquat" && r.signal.hasSuffix("→ review"), "\(combo): \(r.signal)")
        }
        #expect(rule(e, "rankedname-tool") == nil)
        #expect(rule(e, "rankedname5s")?.signal.hasSuffix("→ deny") == true, "a plural is also one slip away")
        // The standard library's modules are guarded too (weakly): `smtblib` beside `smtplib`.
        #expect(rule(e, "smtblib")?.signal.contains("'smtplib'") == true)
        // Two slips from a long protected name: review.
        #expect(rule(e, "rankednmae14x")?.signal.contains("edit distance 2") == true)
    }
}

@Suite struct TyposquatPopularityTests {
    @Test func aPopularProjectIsNoTyposquatOfAnotherPopularOne() {
        let feeds = Feeds(downloads: ["dask": 10_000_000, "dash": 700_000, "requests": 100_000_000], advisories: [:])
        let engine = PolicyEngine(try! PolicyFile.load(PolicySyncTests.defaultPolicy), feeds: feeds)
        func flagged(_ name: String) -> Bool {
            engine.evaluate(
                ReleaseFacts(ecosystem: .pypi, project: ProjectName(name), version: "1.0", files: [], people: nil, selectedBy: "t"), at: Date()
            )
            .factors.contains { $0.name == "rule:typosquat" }
        }
        #expect(!flagged("dash"), "dash (700k downloads) beside dask (10M) is a project of its own")
        #expect(flagged("reqeusts"), "a name the feed does not know is still an imitation")
        #expect(flagged("dasq"), "an imitation with no downloads at all is flagged")
        let sibling = ReleaseFacts(
            ecosystem: .pypi, project: ProjectName("requestz"), version: "1.0", files: [], people: nil, selectedBy: "t",
            maintainersOtherProjects: ["requests"])
        #expect(!engine.evaluate(sibling, at: Date()).factors.contains { $0.name == "rule:typosquat" }, "a project by the target's own maintainers")
    }
}

/// `rule:random_name`: a young project, unknown to the feed, whose name reads as random keystrokes goes to
/// review; names made of the feed's words, established projects and ranked names never do.
@Suite struct RandomNameTests {
    /// 6,400 names joined from words real project names are made of.
    static let feed: [String: Int] = {
        let words = [
            "data", "flask", "django", "client", "http", "async", "json", "tools", "test", "api", "sdk", "cloud", "azure", "google", "aws", "mongo",
            "redis", "kafka", "torch", "tensor", "image", "text", "parser", "schema", "config", "plugin", "server", "web", "auth", "stream", "graph",
            "model", "query", "cache", "queue", "crypto", "wallet", "solana", "token", "discord", "request", "socket", "proxy", "scrape", "browser",
            "agent", "secure", "shell", "python", "notebook", "plot", "frame", "array", "vector", "matrix", "spark", "arrow", "table", "sql",
            "openai", "chat", "llm", "prompt", "embed", "search", "index", "store", "file", "path", "time", "date", "zone", "mail", "email",
            "form", "field", "widget", "theme", "style", "color",
        ]
        var feed: [String: Int] = [:]
        for (i, a) in words.enumerated() { for (j, b) in words.enumerated() { feed["\(a)-\(b)"] = 1_000 + i * 100 + j } }
        return feed
    }()

    func rule(_ name: String, firstReleaseDaysAgo days: Double = 0, policy: String? = nil, feed: [String: Int] = feed) throws -> Decision.Factor? {
        let file = try policy.map { try PolicyFile.parse($0, path: "t.toml") } ?? PolicyFile.load(PolicySyncTests.defaultPolicy)
        let engine = PolicyEngine(file, feeds: Feeds(downloads: feed, advisories: [:]))
        let first = Date().addingTimeInterval(-days * 86_400)
        let facts = ReleaseFacts(
            ecosystem: .pypi, project: ProjectName(name), version: "1.0", files: [], people: nil, selectedBy: "t",
            history: ProjectHistory(firstUpload: first, lastUpload: first, releaseCount: 1))
        return engine.evaluate(facts, at: Date()).factors.first { $0.name == "rule:random_name" }
    }

    @Test func keyboardMashIsReviewedWordsAreNot() throws {
        for name in ["kjfgjsfgj", "jxzspwqwup", "sdgsdghsdhd12", "xqzvbwk-tools"] {
            let r = try #require(try rule(name), "\(name)")
            #expect(
                r.signal.hasSuffix("→ review") && r.signal.contains("reads as random keystrokes")
                    && r.signal.contains("names the popularity feed knows"), "\(r.signal)")
        }
        let r = try #require(try rule("kjfgjsfgj"))
        #expect(r.signal.contains("of its 7 letter triples (kjf, jfg, fgj, gjs, jsf, …)"), "\(r.signal)")
        // Words the feed's names are made of, however glued, a ranked name, digits: no signal.
        for name in ["mongo-kafka-tools", "streamwallet", "secure-chat-llm2", "data-flask", "authproxy", "test123"] {
            let r = try rule(name)
            #expect(r == nil, "\(name): \(String(describing: r?.signal))")
        }
        // An established project keeps its odd name; "approve" turns the rule off; a small feed judges nothing.
        #expect(try rule("kjfgjsfgj", firstReleaseDaysAgo: 1800) == nil)
        let text = try String(contentsOfFile: PolicySyncTests.defaultPolicy, encoding: .utf8).replacingOccurrences(
            of: "random_name = \"review\"", with: "random_name = \"approve\"")
        #expect(text.contains("random_name = \"approve\""))
        #expect(try rule("kjfgjsfgj", policy: text) == nil)
        #expect(try rule("kjfgjsfgj", feed: Dictionary(uniqueKeysWithValues: Self.feed.prefix(4_000).map { ($0.key, $0.value) })) == nil)
    }
}
