public import AirlockCore
public import Foundation

/// Scores a release under a policy and explains the score: every factor with its raw signal and
/// points, then every hard rule that fired. Deterministic: the same facts, policy and time give the
/// same decision.
public struct PolicyEngine: ReleaseEvaluator {
    public let loaded: LoadedPolicy
    public let feeds: Feeds
    private let typosquats: TyposquatDetector
    private let randomNames: RandomNameDetector
    private let allow: Set<String>
    private let deny: Set<String>
    private let licensesAllowed: Set<String>
    private let licensesDenied: Set<String>
    private let categoriesAllowed: Set<String>
    private let categoriesDenied: Set<String>
    private let disposableDomains: Set<String>
    private let trusted: Set<String>
    /// Protected only on PyPI: the standard library's module names the feed and the policy do not name.
    private let pythonOnlyNames: Set<String>
    /// `[provenance] pin`, keyed by normalized project name.
    private let pins: [String: String]

    public init(_ loaded: LoadedPolicy, feeds: Feeds = .none) {
        let p = loaded.policy
        self.loaded = loaded
        self.feeds = feeds
        self.typosquats = TyposquatDetector(
            protected: p.typosquat.protected + feeds.topProjects(p.typosquat.popularTop),
            closelyGuarded: p.typosquat.protected + feeds.topProjects(min(100, p.typosquat.popularTop)),
            known: (feeds.downloads.map { Array($0.keys) } ?? []) + (p.typosquat.standardLibrary ? TyposquatDetector.pythonStandardLibrary : []),
            maxDistance: p.typosquat.maxDistance)
        self.randomNames = RandomNameDetector(
            knownNames: (feeds.downloads.map { Array($0.keys) } ?? []) + p.typosquat.protected
                + (p.typosquat.standardLibrary ? TyposquatDetector.pythonStandardLibrary : []))
        self.allow = Set(p.rules.allow.map(ProjectName.normalize))
        self.deny = Set(p.rules.deny.map(ProjectName.normalize))
        self.licensesAllowed = Set(p.licenses.allow)
        self.licensesDenied = Set(p.licenses.deny)
        self.categoriesAllowed = Set(p.licenses.allowCategories)
        self.categoriesDenied = Set(p.licenses.denyCategories)
        self.disposableDomains = Set(p.rules.disposableEmailDomains.map { $0.lowercased() })
        self.trusted = Set(p.rules.trustedMaintainers.map { $0.lowercased().trimmingPrefix("@") })
        self.pins = Dictionary(p.provenance.pin.map { (ProjectName.normalize($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.pythonOnlyNames =
            p.typosquat.standardLibrary
            ? Set(TyposquatDetector.pythonStandardLibrary).subtracting(p.typosquat.protected.map(ProjectName.normalize)).subtracting(
                feeds.downloads?.keys.map { $0 } ?? [])
            : []
    }

    public var policyDigest: String { loaded.digest }

    /// One SPDX identifier against the policy: the identifier lists first, then its category.
    private func judgeLicense(_ id: String) -> LicenseExpression.Standing {
        if licensesDenied.contains(id) { return .denied(id) }
        if licensesAllowed.contains(id) { return .allowed }
        let category = LicenseCategories.category(of: id)
        if categoriesDenied.contains(category) { return .denied("\(id) (\(category))") }
        if categoriesAllowed.contains(category) { return .allowed }
        return .unknown("\(id) (\(category))")
    }
    public var policyFile: LoadedPolicy? { loaded }
    public var knowsPopularity: Bool { feeds.downloads != nil }

    public func evaluate(_ r: ReleaseFacts, at now: Date) -> Decision {
        let p = loaded.policy
        var factors: [Decision.Factor] = []
        var earned = 0.0
        var possible = 0.0
        var vulnerabilityDenials: [String] = []
        var otherDenial = false

        func days(since date: Date?) -> Double? { date.map { max(0, now.timeIntervalSince($0) / 86_400) } }
        func score(_ name: String, weight: Double, fraction: Double?, signal: String) {
            guard let fraction else {
                factors.append(.init(name: name, signal: signal + " (not scored)", points: 0))
                return
            }
            let points = (weight * min(max(fraction, 0), 1) * 10).rounded() / 10
            earned += points
            possible += weight
            factors.append(.init(name: name, signal: signal, points: points))
        }

        let projectAge = days(since: r.history.firstUpload)
        score(
            "maturity", weight: p.weights.maturity, fraction: projectAge.map { $0 / p.age.matureAfterDays },
            signal: projectAge.map { "first release \(Int($0)) days ago (\(r.history.releaseCount) releases)" } ?? "first release date unknown")
        let releaseAge = days(since: r.uploadTime)
        score(
            "release_age", weight: p.weights.releaseAge, fraction: releaseAge.map { $0 / p.age.settledAfterDays } ?? 0,
            signal: releaseAge.map { "released \(Int($0)) days ago" } ?? "no upload time")
        let quiet = days(since: r.history.lastUpload)
        score(
            "activity", weight: p.weights.activity,
            fraction: quiet.map { $0 <= p.age.abandonedAfterDays ? 1 : 1 - ($0 - p.age.abandonedAfterDays) / p.age.abandonedAfterDays } ?? 0,
            signal: quiet.map { "last release \(Int($0)) days ago" } ?? "no release dates")
        let (people, emails) = maintainers(r.people)
        let disposable = emails.first { disposableDomains.contains(Self.domain($0)) }
        let trustedEmail = emails.first { trusted.contains($0) || trusted.contains(Self.domain($0)) }
        let proven = r.maintainersOtherProjects.map { ($0, feeds.downloads?[ProjectName.normalize($0)] ?? 0) }.max {
            $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 > $1.0
        }
        .flatMap { $0.1 >= p.rules.provenMaintainerDownloads ? $0 : nil }
        score(
            "maintainers", weight: p.weights.maintainers,
            fraction: disposable != nil ? 0 : trustedEmail != nil || proven != nil ? 1 : min(Double(people.count), 2) / 2,
            signal: disposable.map { "uses a disposable e-mail domain (\(Self.domain($0)))" }
                ?? trustedEmail.map { "trusted maintainer \($0)" }
                ?? proven.map { "a maintainer also keeps \($0.0) (\($0.1) downloads)" }
                ?? (people.isEmpty ? "no author or maintainer named" : "\(people.count) named: \(people.sorted().joined(separator: ", "))"))
        let dependentsFraction = Double(r.dependents) / p.popularity.dependentsAt
        if let downloads = feeds.downloads {
            let count = downloads[ProjectName.normalize(r.project.normalized)] ?? 0
            let fraction = count > 0 ? log10(Double(count)) / log10(p.popularity.popularAt) : 0
            score(
                "popularity", weight: p.weights.popularity, fraction: max(fraction, dependentsFraction),
                signal: "\(count) downloads (all points at \(Int(p.popularity.popularAt))), \(r.dependents) dependents in the mirror")
        } else {
            // Without downloads the factor is left out: a few dependents must not count against a project.
            score(
                "popularity", weight: p.weights.popularity, fraction: nil,
                signal: "no popularity feed imported; \(r.dependents) dependents in the mirror")
        }

        // Left out when there is no attestation: most projects do not publish through a trusted publisher yet.
        score(
            "publisher", weight: p.provenance.trustedPublisher, fraction: r.attestation == nil ? nil : 1,
            signal: r.attestation.map { "verified trusted publisher \($0.described)" } ?? "no verified attestation")
        let total = possible > 0 ? (earned / possible * 1000).rounded() / 10 : 0
        var verdict: Verdict = total >= p.thresholds.approveAt ? .approve : total < p.thresholds.denyBelow ? .deny : .review
        factors.append(
            .init(name: "score", signal: "\(total) of 100: approve at \(p.thresholds.approveAt), deny below \(p.thresholds.denyBelow)", points: total)
        )

        if verdict == .deny { otherDenial = true }
        func rule(_ name: String, _ outcome: Verdict, _ signal: String, vulnerability: Bool = false) {
            factors.append(.init(name: "rule:\(name)", signal: "\(signal) → \(outcome.rawValue)", points: 0))
            if outcome.severity > verdict.severity { verdict = outcome }
            if outcome == .deny {
                if vulnerability { vulnerabilityDenials.append(signal) } else { otherDenial = true }
            }
        }
        // Feeds and lists are keyed by PEP 503 form; R names (`data.table`) are folded the same way to match.
        let name = ProjectName.normalize(r.project.normalized)
        // A name one slip from a project its own maintainers keep (`httpx2` by httpx's) is a sibling, not an imitation.
        // Typosquats are young and live on stray installs: an imitation of a protected name by a new
        // project is denied; one of a merely ranked name, a combination, two slips away, or by a project
        // as old as a mature one goes to review; a project the feed knows is no weak imitation at all.
        if let imitation = typosquats.imitation(of: r.project.display), !Self.popularInItsOwnRight(name, beside: imitation.target, feeds.downloads),
            r.ecosystem == .pypi || !pythonOnlyNames.contains(imitation.target),
            !r.maintainersOtherProjects.map(ProjectName.normalize).contains(ProjectName.normalize(imitation.target)),
            imitation.strong || (feeds.downloads?[name] ?? 0) == 0
        {
            let downloads =
                feeds.downloads.map { d in
                    " (\(d[name] ?? 0) downloads against \(d[ProjectName.normalize(imitation.target)] ?? 0))"
                } ?? ""
            let age = projectAge.map { "; first release \(Int($0)) days ago" } ?? ""
            let established = (projectAge ?? 0) >= p.age.matureAfterDays
            rule(
                imitation.kind == .combo ? "combosquat" : imitation.kind == .system ? "system_name" : "typosquat",
                imitation.strong && !established ? .deny : .review,
                imitation.kind == .system
                    ? "'\(r.project.display)' is \(imitation.how) (dependency confusion)\(age)"
                    : "'\(r.project.display)' imitates '\(imitation.target)' (\(imitation.how))\(downloads)\(age)")
        } else if p.typosquat.randomName != .approve, (feeds.downloads?[name] ?? 0) == 0, (projectAge ?? 0) < p.age.matureAfterDays,
            let random = randomNames.randomness(of: r.project.display)
        {
            // Throwaway names live on young projects nobody downloads; an established project keeps its odd name.
            let shown = random.unseen.prefix(5).joined(separator: ", ") + (random.unseen.count > 5 ? ", …" : "")
            rule(
                "random_name", p.typosquat.randomName,
                "'\(r.project.display)' reads as random keystrokes: \(random.unseen.count) of its \(random.triples) letter triples (\(shown)) "
                    + "appear in none of the \(randomNames.knownNames) names the popularity feed knows\(projectAge.map { "; first release \(Int($0)) days ago" } ?? "")"
            )
        }
        switch r.license?.standing(judgeLicense) {
        case .allowed: break
        case .denied(let why): rule("license", .deny, "licence \(why) is denied (declared: \(r.declaredLicense ?? r.license!.description))")
        case .unknown(let why): rule("license", p.licenses.unknown, "licence \(why) is in no allowed list or category")
        case nil: rule("license", p.licenses.unknown, "no readable licence (declared: \(r.declaredLicense ?? "nothing"))")
        }
        if !r.files.isEmpty, r.files.allSatisfy({ $0.yanked != nil }) {
            rule("yanked", p.rules.yanked, "every file is yanked upstream: \(r.files[0].yanked!.isEmpty ? "no reason given" : r.files[0].yanked!)")
        }
        if !r.newMaintainerEmails.isEmpty, let age = projectAge, age >= p.age.matureAfterDays {
            rule(
                "takeover", .review,
                "newest release of a \(Int(age))-day-old project names new e-mail(s): \(r.newMaintainerEmails.joined(separator: ", "))")
        }
        let advisories = feeds.advisories[name] ?? []
        let fixes = advisories.filter { $0.fixedIn.contains { PythonVersion($0) == PythonVersion(r.version) } }
        for advisory in advisories where advisory.affects(r.version) {
            let severity = advisory.severity ?? Severity(name: p.vulnerabilities.unknownSeverity)!
            let outcome: Verdict? =
                advisory.malicious || severity >= Severity(name: p.vulnerabilities.denyAt)!
                ? .deny
                : severity >= Severity(name: p.vulnerabilities.reviewAt)! ? .review : nil
            let fixed = advisory.fixedIn.isEmpty ? "no fixed version" : "fixed in \(advisory.fixedIn.joined(separator: ", "))"
            let what = advisory.malicious ? "malware" : "\(advisory.severity?.name ?? "ungraded (counted \(severity.name))") vulnerability"
            if let outcome {
                rule("vulnerability", outcome, "\(advisory.id): \(what): \(advisory.summary) (\(fixed))", vulnerability: !advisory.malicious)
            } else {
                factors.append(.init(name: "note:vulnerability", signal: "\(advisory.id): \(what) below the review threshold (\(fixed))", points: 0))
            }
        }
        if let age = releaseAge, age < p.age.cooldownDays, p.vulnerabilities.exemptFixesFromCooldown, let fix = fixes.first {
            factors.append(
                .init(
                    name: "rule:cooldown", signal: "released \(String(format: "%.1f", age)) days ago, but fixes \(fix.id): not held back", points: 0))
        } else if let age = releaseAge, age < p.age.cooldownDays {
            let until = r.uploadTime!.addingTimeInterval(p.age.cooldownDays * 86_400)
            rule("cooldown", .review, "released \(String(format: "%.1f", age)) days ago; held back until \(Timestamp.format(until))")
        }
        // Content: what the release's install- and import-time code does, with member, line and excerpt.
        // What a mature project's release adds over its previous approved one is change, and change is
        // how a takeover shows: a new signal is named as new, and one merely noted goes to review.
        for finding in r.contentFindings + metadataFindings(r, at: now) {
            var outcome = p.content.outcomes[finding.signal] ?? .review
            var text = finding.description
            if let previous = r.previousRelease, !previous.signals.contains(finding.signal), !finding.signal.isChangeSincePrevious {
                text += " — new since \(previous.version), which had no such code"
                if outcome == .note, let age = projectAge, age >= p.age.matureAfterDays { outcome = .review }
            }
            if outcome == .note {
                factors.append(.init(name: "note:content:\(finding.signal.rawValue)", signal: text, points: 0))
            } else {
                rule("content:\(finding.signal.rawValue)", outcome == .deny ? .deny : .review, text)
            }
        }
        let note = { (name: String, text: String) in factors.append(.init(name: "note:\(name)", signal: text, points: 0)) }
        publisherRules(r, name: name, rule: { rule($0, $1, $2) }, note: note)
        switch r.projectStatus.status {
        case "quarantined": rule("project_status", .deny, "the upstream marks the project \(r.projectStatus.described)")
        case "archived":
            Self.apply(
                p.projectStatus.archived, "project_status", "the upstream marks the project \(r.projectStatus.described)", rule: { rule($0, $1, $2) },
                note: note)
        case "deprecated":
            Self.apply(
                p.projectStatus.deprecated, "project_status", "the upstream marks the project \(r.projectStatus.described)",
                rule: { rule($0, $1, $2) }, note: note)
        default: break
        }
        if allow.contains(name) && !deny.contains(name) {
            factors.append(.init(name: "rule:allow", signal: "'\(name)' is on the policy's allow list → approve", points: 0))
            verdict = .approve
        }
        if deny.contains(name) { rule("deny", .deny, "'\(name)' is on the policy's deny list") }
        let yankedReason =
            verdict == .deny && !otherDenial && !vulnerabilityDenials.isEmpty && p.vulnerabilities.serveAsYanked
            ? "airlock: known vulnerability: " + vulnerabilityDenials.joined(separator: "; ") : nil
        return Decision(verdict: verdict, score: total, factors: factors, policyDigest: policyDigest, serveYanked: yankedReason)
    }

    /// Who published the release against who published the project before, and against a pin: a stolen
    /// upload token cannot forge a trusted publisher's identity, so a change of identity is the strongest
    /// takeover signal there is.
    private func publisherRules(_ r: ReleaseFacts, name: String, rule: (String, Verdict, String) -> Void, note: (String, String) -> Void) {
        let p = loaded.policy.provenance
        func apply(_ outcome: Policy.Content.Outcome, _ name: String, _ text: String) { Self.apply(outcome, name, text, rule: rule, note: note) }
        if let pin = pins[name] {
            if let a = r.attestation, !a.publisher.matches(pin: pin) {
                apply(p.pinMismatch, "publisher_pin", "'\(name)' is pinned to \(pin); this release was published by \(a.described)")
            } else if r.attestation == nil {
                apply(p.pinMismatch, "publisher_pin", "'\(name)' is pinned to \(pin); this release has no verified attestation")
            }
        }
        guard let before = r.attestedBefore else { return }
        if let a = r.attestation {
            if a.publisher.identity.lowercased() != before.publisher.identity.lowercased() {
                apply(p.publisherChanged, "publisher_changed", "published by \(a.described); \(before.version) was published by \(before.described)")
            }
        } else {
            apply(p.attestationsDropped, "attestations_dropped", "no verified attestation; \(before.version) was attested by \(before.described)")
        }
    }

    /// A configurable outcome as a rule (deny, review) or a note.
    private static func apply(
        _ outcome: Policy.Content.Outcome, _ name: String, _ text: String, rule: (String, Verdict, String) -> Void, note: (String, String) -> Void
    ) {
        switch outcome {
        case .deny: rule(name, .deny, text)
        case .review: rule(name, .review, text)
        case .note: note(name, text)
        }
    }

    /// Signals read from the release's metadata, shown like content findings: a first and only release
    /// already at version 5 or more; a release with no summary (when its metadata was read); a new
    /// dependency, since the previous approved release, on a project younger than `settled_after_days`.
    func metadataFindings(_ r: ReleaseFacts, at now: Date) -> [ContentFinding] {
        let file = r.files.first?.filename ?? "\(r.project.display) \(r.version)"
        var out: [ContentFinding] = []
        let major =
            r.ecosystem == .pypi ? PythonVersion(r.version).flatMap { $0.epoch == 0 ? $0.release.first : nil } : Int(r.version.prefix { $0.isNumber })
        if r.history.releaseCount == 1, let major, major >= 5 {
            out.append(
                ContentFinding(
                    signal: .highFirstVersion, file: file, member: "metadata", line: nil, excerpt: "Version: \(r.version)",
                    detail: "the project's first and only release is already at version \(r.version)"))
        }
        if let summary = r.summary, summary.trimmingWhitespace().isEmpty || summary == "UNKNOWN" {
            out.append(
                ContentFinding(
                    signal: .noSummary, file: file, member: "metadata", line: nil, excerpt: "Summary: \(summary)",
                    detail: "the release gives no summary"))
        }
        // Source repositories only, like with like: homepages move between domains in the ordinary course
        // (pillow's did), and a source URL added where there was only a homepage is no move.
        if let previous = r.previousRelease, let before = previous.projectURLs["source"], let current = r.projectURLs["source"],
            CoreMetadata.projectLocation(before) != CoreMetadata.projectLocation(current)
        {
            out.append(
                ContentFinding(
                    signal: .homepageChanged, file: file, member: "metadata", line: nil, excerpt: current,
                    detail: "the project's source URL was \(before) in \(previous.version)"))
        }
        if let previous = r.previousRelease, !previous.emails.isEmpty {
            let known = Set(previous.emails.map(Self.domain))
            let fresh = Set((r.people.map(Self.emails) ?? []) + r.metadataEmails).filter { !known.contains(Self.domain($0)) }.sorted()
            if let first = fresh.first {
                out.append(
                    ContentFinding(
                        signal: .maintainerDomainNew, file: file, member: "metadata", line: nil, excerpt: first,
                        detail:
                            "names an e-mail at \(Self.domain(first)), a domain \(previous.version)'s people (\(previous.emails.sorted().joined(separator: ", "))) did not use"
                    ))
            }
        }
        if let previous = r.previousRelease {
            for (dependency, firstUpload) in r.newDependencies.sorted(by: { $0.project < $1.project }) {
                guard let firstUpload, now.timeIntervalSince(firstUpload) < loaded.policy.age.settledAfterDays * 86_400 else { continue }
                let days = Int(now.timeIntervalSince(firstUpload) / 86_400)
                out.append(
                    ContentFinding(
                        signal: .newFreshDependency, file: file, member: "metadata", line: nil, excerpt: "Requires: \(dependency)",
                        detail: "depends on '\(dependency)', which \(previous.version) did not, a project first released \(days) days ago"))
            }
        }
        return out
    }

    /// A name one slip from a popular one is no imitation when it is popular itself (`dash` beside
    /// `dask`): typosquats live on stray installs, a small fraction of their target's downloads.
    static func popularInItsOwnRight(_ name: String, beside target: String, _ downloads: [String: Int]?) -> Bool {
        guard let downloads, let own = downloads[name], let theirs = downloads[ProjectName.normalize(target)] else { return false }
        return own * 20 >= theirs
    }

    /// Distinct people named as author or maintainer, and their e-mail addresses. One person named in
    /// both fields counts once, however differently each field writes it (`Dirk Eddelbuettel` and
    /// `Dirk Eddelbuettel <edd@debian.org> with contributions by …`).
    private func maintainers(_ people: ProjectPeople?) -> (people: Set<String>, emails: [String]) {
        guard let people else { return ([], []) }
        var names = Set<String>()
        for (name, email) in [(people.author, people.authorEmail), (people.maintainer, people.maintainerEmail)] {
            let named = Self.personNames(name ?? "")
            if !named.isEmpty {
                names.formUnion(named)
            } else {
                names.formUnion(Self.personNames(email ?? ""))
            }
        }
        return (names, Self.emails(people))
    }

    /// The people a free-text author field names, normalized for comparison: addresses, roles
    /// (`[aut, cre]`) and remarks in parentheses dropped, contributors after "with" left out, lists
    /// split on commas, semicolons and "and".
    static func personNames(_ field: String) -> Set<String> {
        // On bytes, by hand: this runs for every release decided, and Regex or Foundation string
        // searching here would dominate a decision's cost.
        var text: [UInt8] = []
        text.reserveCapacity(field.utf8.count)
        var closing: UInt8?
        for byte in field.utf8 {
            if let c = closing {
                if byte == c { closing = nil }
            } else if byte == UInt8(ascii: "<") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "(") {
                closing = byte == UInt8(ascii: "<") ? UInt8(ascii: ">") : byte == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: ")")
            } else {
                text.append(byte >= 65 && byte <= 90 ? byte + 32 : byte)  // ASCII lowercase
            }
        }
        if let with = firstRange(of: withWord, in: text) { text.removeSubrange(with...) }
        var names = Set<String>()
        var word: [UInt8] = []
        var name: [UInt8] = []
        func endWord() {
            if word == andWord {
                endName()
            } else if !word.isEmpty {
                if !name.isEmpty { name.append(32) }
                name += word
            }
            word.removeAll(keepingCapacity: true)
        }
        func endName() {
            if !name.isEmpty { names.insert(String(decoding: name, as: UTF8.self)) }
            name.removeAll(keepingCapacity: true)
        }
        for byte in text {
            switch byte {
            case UInt8(ascii: ","), UInt8(ascii: ";"):
                endWord()
                endName()
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): endWord()
            default: word.append(byte)
            }
        }
        endWord()
        endName()
        return names
    }

    private static let withWord = Array(" with ".utf8), andWord = Array("and".utf8)

    private static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }

    /// Every e-mail address in the author and maintainer fields (`Name <a@b>, c@d`), lowercased.
    public static func emails(_ people: ProjectPeople) -> [String] {
        [people.authorEmail, people.maintainerEmail].compactMap { $0 }.flatMap { $0.split(separator: ",") }.compactMap { part in
            var address = part.trimmingWhitespace()
            if let open = address.firstIndex(of: "<"), let close = address.firstIndex(of: ">"), open < close {
                address = String(address[address.index(after: open)..<close])
            }
            return address.contains("@") ? address.lowercased() : nil
        }
    }

    static func domain(_ email: String) -> String { String(email.split(separator: "@").last ?? "") }
}

extension Verdict {
    /// deny > review > approve.
    var severity: Int {
        switch self {
        case .approve: 0
        case .review: 1
        case .deny: 2
        }
    }
}

extension String {
    func trimmingPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self }
}
