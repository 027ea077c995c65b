import AirlockCore
import Testing

/// Where a release says its code lives, and when two such URLs name the same place.
@Suite struct ProjectURLTests {
    @Test func sourceAndHomeByLabelHomePageFieldAsFallback() throws {
        let text = """
            Metadata-Version: 2.4
            Name: x
            Version: 1
            Home-page: https://x.example.org
            Project-URL: Documentation, https://docs.example.org
            Project-URL: Homepage, https://example.org/x
            Project-URL: Source Code, https://github.com/org/x

            """
        #expect(try CoreMetadata(bytes: Array(text.utf8), source: "t").projectURLs == ["source": "https://github.com/org/x", "home": "https://example.org/x"])
        let homeOnly = "Metadata-Version: 2.1\nName: x\nVersion: 1\nHome-page: https://x.example.org\n\n"
        #expect(try CoreMetadata(bytes: Array(homeOnly.utf8), source: "t").projectURLs == ["home": "https://x.example.org"])
        let onGitHub = "Metadata-Version: 2.1\nName: x\nVersion: 1\nHome-page: https://github.com/org/x\n\n"
        #expect(try CoreMetadata(bytes: Array(onGitHub.utf8), source: "t").projectURLs == ["home": "https://github.com/org/x", "source": "https://github.com/org/x"])
        let none = "Metadata-Version: 2.1\nName: x\nVersion: 1\nHome-page: UNKNOWN\nProject-URL: Docs, https://d.example.org\n\n"
        #expect(try CoreMetadata(bytes: Array(none.utf8), source: "t").projectURLs.isEmpty)
    }

    @Test func locationsCompareHostOrganisationAndRepository() {
        let same = ["https://github.com/Org/Repo", "http://www.github.com/org/repo.git", "https://github.com/org/repo/tree/main#readme", "github.com/org/repo/?tab=x"]
        #expect(Set(same.map(CoreMetadata.projectLocation)) == ["github.com/org/repo"])
        #expect(CoreMetadata.projectLocation("https://github.com/other/repo") != CoreMetadata.projectLocation(same[0]))
        #expect(CoreMetadata.projectLocation("https://gitlab.com/org/repo") != CoreMetadata.projectLocation(same[0]))
    }
}
