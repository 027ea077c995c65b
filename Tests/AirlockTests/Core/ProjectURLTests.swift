import AirlockCore
import Testing

/// Where a release says its code lives, and when two such URLs name the same place.
@Suite struct ProjectURLTests {
    @Test func sourceAndHomeByLabelHomePageFieldAsFallback() throws {
        let text = """
            Metadata-Version: 2.4
            Name: x
            Version: 1
            Home-page: http://127.0.0.1:9/x
            Project-URL: Documentation, http://127.0.0.1:9/docs
            Project-URL: Homepage, http://127.0.0.1:9/home/x
            Project-URL: Source Code, http://127.0.0.1:9/org/x

            """
        #expect(
            try CoreMetadata(bytes: Array(text.utf8), source: "t").projectURLs == [
                "source": "http://127.0.0.1:9/org/x", "home": "http://127.0.0.1:9/home/x",
            ])
        let homeOnly = "Metadata-Version: 2.1\nName: x\nVersion: 1\nHome-page: http://127.0.0.1:9/x\n\n"
        #expect(try CoreMetadata(bytes: Array(homeOnly.utf8), source: "t").projectURLs == ["home": "http://127.0.0.1:9/x"])
        let onGitHub = "Metadata-Version: 2.1\nName: x\nVersion: 1\nHome-page: github.com/org/x\n\n"
        #expect(try CoreMetadata(bytes: Array(onGitHub.utf8), source: "t").projectURLs == ["home": "github.com/org/x", "source": "github.com/org/x"])
        let none = "Metadata-Version: 2.1\nName: x\nVersion: 1\nHome-page: UNKNOWN\nProject-URL: Docs, http://127.0.0.1:9/d\n\n"
        #expect(try CoreMetadata(bytes: Array(none.utf8), source: "t").projectURLs.isEmpty)
    }

    @Test func locationsCompareHostOrganisationAndRepository() {
        let same = [
            "http://127.0.0.1:9/Org/Repo", "HTTP://127.0.0.1:9/org/repo.git", "http://127.0.0.1:9/org/repo/tree/main#readme",
            "127.0.0.1:9/org/repo/?tab=x", "www.127.0.0.1:9/org/repo",
        ]
        #expect(Set(same.map(CoreMetadata.projectLocation)) == ["127.0.0.1:9/org/repo"])
        #expect(CoreMetadata.projectLocation("http://127.0.0.1:9/other/repo") != CoreMetadata.projectLocation(same[0]))
        #expect(CoreMetadata.projectLocation("http://127.0.0.1:10/org/repo") != CoreMetadata.projectLocation(same[0]))
    }
}
