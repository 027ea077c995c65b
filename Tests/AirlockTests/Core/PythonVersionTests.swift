import AirlockCore
import Testing

@Suite struct PythonVersionTests {
    /// PEP 440's own ordering example, in ascending order.
    @Test func pep440Ordering() throws {
        let ordered = [
            "1.dev0", "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
            "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5",
            "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1",
        ]
        let versions = try ordered.map { try #require(PythonVersion($0), "\($0) should parse") }
        for (a, b) in zip(versions, versions.dropFirst()) {
            #expect(a < b, "\(a) < \(b)")
        }
        #expect(versions.shuffled().sorted() == versions)
    }

    @Test(arguments: [
        ("1.0", "1.0.0"), ("1.0RC1", "1.0rc1"), ("1.0-alpha-2", "1.0a2"), ("1.0.preview3", "1.0rc3"), ("v2.1", "2.1"),
        ("1.0-1", "1.0.post1"), ("1.0.rev2", "1.0.post2"), ("1.0dev", "1.0.dev0"), ("1!2.0", "1!2.0"), ("1.0+ubuntu-1", "1.0+ubuntu.1"),
    ])
    func normalization(_ raw: String, _ normalized: String) throws {
        let a = try #require(PythonVersion(raw))
        let b = try #require(PythonVersion(normalized))
        #expect(a == b)
        #expect(PythonVersion(a.description) == b, "the normalized form parses back to the same version")
    }

    @Test(arguments: ["", "1.0-", "abc", "1.0.x", "1..0", "1.0+", "1.0+a..b", "=1.0"])
    func rejectsInvalid(_ raw: String) {
        #expect(PythonVersion(raw) == nil)
    }

    @Test func epochDominates() {
        #expect(PythonVersion("1!0.1")! > PythonVersion("99.0")!)
    }
}

@Suite struct VersionSpecifierTests {
    private func matches(_ spec: String, _ version: String, pre: Bool? = nil) -> Bool {
        VersionSpecifierSet(spec)!.contains(PythonVersion(version)!, prereleases: pre)
    }

    @Test func comparisons() {
        #expect(matches(">=1.26", "1.26.0"))
        #expect(matches(">=1.26,<2", "1.99"))
        #expect(!matches(">=1.26,<2", "2.0"))
        #expect(matches("!=3.0.1", "3.0.2"))
        #expect(!matches("!=3.0.1", "3.0.1"))
    }

    @Test func compatibleRelease() {
        #expect(matches("~=2.2", "2.3"))
        #expect(!matches("~=2.2", "3.0"))
        #expect(matches("~=1.4.5", "1.4.9"))
        #expect(!matches("~=1.4.5", "1.5.0"))
        #expect(VersionSpecifier("~=1") == nil)
    }

    @Test func wildcards() {
        #expect(matches("==1.1.*", "1.1.0"))
        #expect(matches("==1.1.*", "1.1.9.post1"))
        #expect(!matches("==1.1.*", "1.10"))
        #expect(!matches("!=1.1.*", "1.1.3"))
        #expect(VersionSpecifier(">=1.*") == nil)
    }

    @Test func exclusiveComparisonsFollowPEP440() {
        #expect(!matches("<2.0", "2.0rc1", pre: true), "<V excludes pre-releases of V")
        #expect(matches("<2.0rc2", "2.0rc1", pre: true))
        #expect(!matches(">1.7", "1.7.post2"), ">V excludes post-releases of V")
        #expect(matches(">1.7.post1", "1.7.post2"))
        #expect(!matches(">1.7", "1.7+local"))
    }

    @Test func equalityIgnoresLocalUnlessNamed() {
        #expect(matches("==1.0", "1.0+local"))
        #expect(!matches("==1.0+other", "1.0+local"))
    }

    @Test func prereleasesOnlyWhenAskedOrNamed() {
        #expect(!matches(">=1.0", "2.0b1"))
        #expect(matches(">=1.0", "2.0b1", pre: true))
        #expect(matches(">=2.0b1", "2.0b2"))
    }
}
