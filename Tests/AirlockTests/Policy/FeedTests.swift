import AirlockCore
import AirlockPolicy
import Foundation
import Testing

@Suite struct FeedTests {
    static func osvRecord(
        id: String = "GHSA-test-0001", package: String = "alpha", events: String, severity: String? = "HIGH", versions: String = "[]"
    ) -> [UInt8] {
        let specific = severity.map { #", "database_specific": {"severity": "\#($0)"}"# } ?? ""
        return Array(
            #"""
            {"id": "\#(id)", "summary": "remote code execution", "affected": [
              {"package": {"ecosystem": "PyPI", "name": "\#(package)"}, "ranges": [{"type": "ECOSYSTEM", "events": \#(events)}], "versions": \#(versions)},
              {"package": {"ecosystem": "npm", "name": "\#(package)"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}
            ]\#(specific)}
            """#.utf8)
    }

    @Test func introducedAndFixed() throws {
        let advisories = try FeedParsers.osv(
            Self.osvRecord(events: #"[{"introduced": "1.0"}, {"fixed": "1.2"}]"#), source: "a.json", ecosystem: .pypi)
        #expect(advisories.count == 1, "only the PyPI package is kept")
        let a = advisories[0]
        #expect(a.severity == .high)
        #expect(!a.affects("0.9"))
        #expect(a.affects("1.0"))
        #expect(a.affects("1.1.5"))
        #expect(!a.affects("1.2"))
        #expect(!a.affects("2.0"))
        #expect(a.fixedIn == ["1.2"])
    }

    @Test func lastAffectedAndExplicitVersions() throws {
        let a = try FeedParsers.osv(
            Self.osvRecord(events: #"[{"introduced": "0"}, {"last_affected": "2.0"}]"#, versions: #"["3.0.1"]"#), source: "b.json", ecosystem: .pypi)[
                0]
        #expect(a.affects("0.1"))
        #expect(a.affects("2.0"))
        #expect(!a.affects("2.0.1"))
        #expect(a.affects("3.0.1"))
    }

    @Test func reintroducedRanges() throws {
        let a = try FeedParsers.osv(
            Self.osvRecord(events: #"[{"introduced": "1.0"}, {"fixed": "1.1"}, {"introduced": "2.0"}, {"fixed": "2.3"}]"#), source: "c.json",
            ecosystem: .pypi)[0]
        #expect(a.affects("1.0.5") && !a.affects("1.5") && a.affects("2.2") && !a.affects("2.3"))
    }

    @Test func malformedOSVNamesTheField() {
        #expect {
            try FeedParsers.osv(Array(#"{"summary": "no id"}"#.utf8), source: "osv/x.json", ecosystem: .pypi)
        } throws: { ($0 as? AirlockError)?.message == "osv/x.json: OSV record lacks field 'id'" }
    }

    @Test func popularityFormats() throws {
        let json = try FeedParsers.popularity(
            Array(
                #"{"last_update": "x", "rows": [{"project": "Requests", "download_count": 900}, {"project": "numpy", "download_count": 50}]}"#.utf8),
            source: "top.json")
        #expect(json == ["requests": 900, "numpy": 50])
        let csv = try FeedParsers.popularity(Array("package,count\nrequests,900\n\"numpy\",50\n".utf8), source: "dl.csv")
        #expect(csv == ["requests": 900, "numpy": 50])
        #expect {
            try FeedParsers.popularity(Array("project,downloads\nrequests,900\nnumpy,lots\n".utf8), source: "dl.csv")
        } throws: { ($0 as? AirlockError)?.message == "dl.csv:3: field 'downloads' is not a whole number: 'lots'" }
        #expect {
            try FeedParsers.popularity(Array(#"[{"project": "requests"}]"#.utf8), source: "top.json")
        } throws: { ($0 as? AirlockError)?.message.contains("row 0 (requests): field 'download_count'") == true }
    }

    @Test func engineUsesFeeds() throws {
        let base = PolicyEngineTests()
        let advisory = try FeedParsers.osv(Self.osvRecord(events: #"[{"introduced": "0"}, {"fixed": "1.0"}]"#), source: "a", ecosystem: .pypi)[0]
        let malware = try FeedParsers.osv(
            Self.osvRecord(id: "MAL-2026-1", package: "beta", events: #"[{"introduced": "0"}]"#, severity: nil), source: "m", ecosystem: .pypi)[0]
        let feeds = Feeds(downloads: ["alpha": 1000, "popularname": 5_000_000], advisories: ["alpha": [advisory], "beta": [malware]])
        let engine = PolicyEngine(try PolicyFile.parse(PolicyEngineTests.policyText, path: "t.toml"), feeds: feeds)
        let d = engine.evaluate(base.facts(), at: base.now)
        // 1,000 downloads on a log scale to 10^6: half of 25 = 12.5 points; now 75 of 100 possible.
        #expect(base.points(d, "popularity") == 12.5)
        #expect(d.score == 75)
        // alpha 1.0 is the fixed version: not affected, and (released yesterday) exempt from cooldown.
        let fix = engine.evaluate(base.facts(released: 1), at: base.now)
        #expect(!fix.factors.contains { $0.name == "rule:vulnerability" })
        #expect(fix.factors.contains { $0.name == "rule:cooldown" && $0.signal.contains("fixes GHSA-test-0001") })
        var vulnerable = base.facts()
        vulnerable.version = "0.9"
        let denied = engine.evaluate(vulnerable, at: base.now)
        #expect(denied.verdict == .deny)
        #expect(denied.factors.contains { $0.name == "rule:vulnerability" && $0.signal.hasPrefix("GHSA-test-0001: high vulnerability") })
        #expect(engine.evaluate(base.facts("beta"), at: base.now).verdict == .deny, "malware is always denied")
        #expect(
            engine.evaluate(base.facts("popu1arname"), at: base.now).factors.contains { $0.name == "rule:typosquat" },
            "the feed's top names are protected")
    }
}

@Suite struct ServeAsYankedTests {
    @Test func onlyVulnerabilityDenialsAreServedYanked() throws {
        let base = PolicyEngineTests()
        let advisory = try FeedParsers.osv(FeedTests.osvRecord(events: #"[{"introduced": "0"}, {"fixed": "2.0"}]"#), source: "a", ecosystem: .pypi)[0]
        let malware = try FeedParsers.osv(
            FeedTests.osvRecord(id: "MAL-1", package: "beta", events: #"[{"introduced": "0"}]"#), source: "m", ecosystem: .pypi)[0]
        let engine = PolicyEngine(
            try PolicyFile.parse(PolicyEngineTests.policyText, path: "t.toml"),
            feeds: Feeds(downloads: nil, advisories: ["alpha": [advisory], "beta": [malware]]))
        let vulnerable = engine.evaluate(base.facts(), at: base.now)
        #expect(vulnerable.verdict == .deny)
        #expect(
            vulnerable.serveYanked?.hasPrefix("airlock: known vulnerability: GHSA-test-0001: high vulnerability") == true,
            "\(String(describing: vulnerable.serveYanked))")
        #expect(engine.evaluate(base.facts("beta"), at: base.now).serveYanked == nil, "malware is never served")
        #expect(engine.evaluate(base.facts(license: "AGPL-3.0-only"), at: base.now).serveYanked == nil, "denied for another reason too")
    }
}
