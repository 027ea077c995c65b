import AirlockCore
import Testing

@testable import AirlockUpstream

@Suite struct SimpleIndexParserTests {
    let project = ProjectName("alpha")
    let hex = String(repeating: "ab", count: 32)

    @Test func html() throws {
        let html = """
            <!DOCTYPE html><html><body>
            <a href="../../packages/alpha-1.0-py3-none-any.whl#sha256=\(hex)" data-requires-python="&gt;=3.8"
               data-dist-info-metadata="sha256=\(hex)">alpha-1.0-py3-none-any.whl</a><br/>
            <A HREF='https://files.example.invalid/alpha-0.9.tar.gz#md5=00' data-yanked="broken &amp; bad">alpha-0.9.tar.gz</A>
            </body></html>
            <!--SERIAL 27446843-->
            """
        let page = try SimpleIndexParser.parse(Array(html.utf8), contentType: "text/html", url: "http://127.0.0.1:1/simple/alpha/", project: project)
        #expect(page.serial == 27_446_843)
        let files = try SimpleIndexParser.parse(Array(html.utf8), contentType: "text/html", url: "http://127.0.0.1:1/simple/alpha/", project: project)
            .files
        #expect(files.count == 2)
        #expect(files[0].url == "http://127.0.0.1:1/packages/alpha-1.0-py3-none-any.whl")
        #expect(files[0].sha256?.hex == hex)
        #expect(files[0].requiresPython == ">=3.8")
        #expect(files[0].hasCoreMetadata)
        #expect(files[1].sha256 == nil)
        #expect(files[1].yanked == "broken & bad")
    }

    @Test func json() throws {
        let json = """
            {"meta": {"api-version": "1.1", "_last-serial": 31415}, "name": "alpha", "versions": ["1.0"], "files": [
              {"filename": "alpha-1.0-py3-none-any.whl", "url": "/p/alpha-1.0-py3-none-any.whl", "hashes": {"sha256": "\(hex)"},
               "requires-python": ">=3.9", "core-metadata": {"sha256": "\(hex)"}, "yanked": "use 1.1", "size": 1234,
               "upload-time": "2024-01-02T03:04:05.123456Z"}]}
            """
        let files = try SimpleIndexParser.parse(
            Array(json.utf8), contentType: "application/vnd.pypi.simple.v1+json", url: "http://127.0.0.1:1/simple/alpha/", project: project
        ).files
        let f = try #require(files.first)
        #expect(
            try SimpleIndexParser.parse(Array(json.utf8), contentType: "application/json", url: "http://127.0.0.1:1/simple/alpha/", project: project)
                .serial == 31415)
        // PyPI has sent the serial as a string too; a value that is no number is ignored, never fatal.
        for (meta, serial) in [(#"{"_last-serial": "37059094"}"#, 37_059_094 as Int?), (#"{"_last-serial": [1]}"#, nil), (#"{}"#, nil)] {
            let page = #"{"meta": \#(meta), "files": []}"#
            #expect(
                try SimpleIndexParser.parse(
                    Array(page.utf8), contentType: "application/json", url: "http://127.0.0.1:1/simple/alpha/", project: project
                ).serial == serial)
        }
        #expect(f.url == "http://127.0.0.1:1/p/alpha-1.0-py3-none-any.whl")
        #expect(f.size == 1234)
        #expect(f.yanked == "use 1.1")
        #expect(f.coreMetadataSHA256?.hex == hex)
        #expect(f.uploadTime.map(Timestamp.format) == "2024-01-02T03:04:05.123Z")
    }

    @Test func malformedJSONNamesPageAndPlace() {
        #expect {
            try SimpleIndexParser.parse(
                Array(#"{"files": [{"filename": 3}]}"#.utf8), contentType: "application/vnd.pypi.simple.v1+json",
                url: "http://127.0.0.1:1/simple/alpha/", project: project)
        } throws: { error in
            let message = (error as? AirlockError)?.message ?? ""
            return message.contains("http://127.0.0.1:1/simple/alpha/") && message.contains("files[0]")
        }
    }

    /// Members airlock does not read (nested or not) are stepped over; a repeated member counts once,
    /// the first; `dist-info-metadata` stands in for `core-metadata`; a page that is not an object, or
    /// has no `files` array, or breaks off, is an error naming the page.
    @Test func jsonMembersReadOneByOne() throws {
        let json = """
            {"name": "alpha", "files": [
              {"x-nested": {"a": [1, {"b": null}], "c": "}"}, "filename": "alpha-1.0.tar.gz", "filename": "other-9.tar.gz",
               "url": "https://files.example.invalid/alpha-1.0.tar.gz", "hashes": {}, "dist-info-metadata": true, "size": null},
              {"filename": "alpha-1.1.tar.gz", "url": "../../p/./alpha-1.1.tar.gz", "hashes": {"md5": "00"}}],
             "files": [], "versions": ["1.0"], "meta": {"_last-serial": 7}}
            """
        let page = try SimpleIndexParser.parse(
            Array(json.utf8), contentType: "application/vnd.pypi.simple.v1+json", url: "http://127.0.0.1:1/simple/alpha/", project: project)
        #expect(page.serial == 7)
        #expect(page.files.map(\.filename) == ["alpha-1.0.tar.gz", "alpha-1.1.tar.gz"])
        #expect(page.files[0].url == "https://files.example.invalid/alpha-1.0.tar.gz" && page.files[0].hasCoreMetadata && page.files[0].size == nil)
        #expect(page.files[1].url == "http://127.0.0.1:1/p/alpha-1.1.tar.gz", "a relative link with a dot segment is resolved, not passed through")
        #expect(page.files.allSatisfy { $0.provenanceURL == nil })
        for broken in [
            #"[]"#, #"{"meta": {}}"#, #"{"files": {}}"#, #"{"files": [{"filename": "a-1.tar.gz", "url": "/a", "hashes": {}}"#, #"{"files": []} x"#,
        ] {
            #expect(throws: AirlockError.self, "\(broken)") {
                try SimpleIndexParser.parse(
                    Array(broken.utf8), contentType: "application/vnd.pypi.simple.v1+json", url: "http://127.0.0.1:1/simple/alpha/", project: project)
            }
        }
    }

    /// PEP 740: the provenance link of a file, resolved against the page, in JSON and in HTML.
    @Test func provenanceLinksAreRead() throws {
        let base = "http://127.0.0.1:1/simple/alpha/"
        let json =
            #"{"meta": {"api-version": "1.3"}, "files": [{"filename": "alpha-1.0.tar.gz", "url": "/p/alpha-1.0.tar.gz", "hashes": {}, "provenance": "/integrity/alpha/1.0/alpha-1.0.tar.gz/provenance"}, {"filename": "alpha-1.1.tar.gz", "url": "/p/alpha-1.1.tar.gz", "hashes": {}, "provenance": null}]}"#
        let page = try SimpleIndexParser.parse(Array(json.utf8), contentType: "application/vnd.pypi.simple.v1+json", url: base, project: project)
        #expect(page.files.map(\.provenanceURL) == ["http://127.0.0.1:1/integrity/alpha/1.0/alpha-1.0.tar.gz/provenance", nil])
        let html =
            #"<a href="/p/alpha-1.0.tar.gz" data-provenance="../../integrity/alpha-1.0.tar.gz/provenance">alpha-1.0.tar.gz</a><a href="/p/alpha-1.1.tar.gz">alpha-1.1.tar.gz</a>"#
        let links = try SimpleIndexParser.parse(Array(html.utf8), contentType: "text/html", url: base, project: project)
        #expect(links.files.map(\.provenanceURL) == ["http://127.0.0.1:1/integrity/alpha-1.0.tar.gz/provenance", nil])
        let wrong = #"{"files": [{"filename": "alpha-1.0.tar.gz", "url": "/p/alpha-1.0.tar.gz", "hashes": {}, "provenance": {"url": "/x"}}]}"#
        #expect {
            try SimpleIndexParser.parse(Array(wrong.utf8), contentType: "application/vnd.pypi.simple.v1+json", url: base, project: project)
        } throws: { error in
            (error as? AirlockError)?.message.contains("files[0].provenance") == true
        }
    }

    /// PEP 792: a project's status marker, in JSON and in HTML; none means active.
    @Test func projectStatusIsRead() throws {
        let base = "http://127.0.0.1:1/simple/alpha/"
        let json = #"{"meta": {"api-version": "1.4"}, "project-status": {"status": "quarantined", "reason": "malware"}, "files": []}"#
        #expect(
            try SimpleIndexParser.parse(Array(json.utf8), contentType: "application/vnd.pypi.simple.v1+json", url: base, project: project).status
                == ProjectStatus(status: "quarantined", reason: "malware"))
        let html =
            #"<html><head><meta name="pypi:project-status" content="archived"><meta name="pypi:project-status-reason" content="moved &amp; done"></head><body></body></html>"#
        #expect(
            try SimpleIndexParser.parse(Array(html.utf8), contentType: "text/html", url: base, project: project).status
                == ProjectStatus(status: "archived", reason: "moved & done"))
        #expect(
            try SimpleIndexParser.parse(
                Array(#"{"files": []}"#.utf8), contentType: "application/vnd.pypi.simple.v1+json", url: base, project: project
            ).status == nil)
        #expect(throws: AirlockError.self) {
            try SimpleIndexParser.parse(
                Array(#"{"project-status": {"reason": "x"}, "files": []}"#.utf8), contentType: "application/vnd.pypi.simple.v1+json", url: base,
                project: project)
        }
    }

    /// Absolute links are taken as they are only when resolving could not change them.
    @Test func absoluteLinksPassThroughOnlyWhenPlain() throws {
        let base = "http://127.0.0.1:1/simple/alpha/"
        for plain in ["https://files.example.invalid/packages/ab/cd/alpha-1.0-py3-none-any.whl", "http://127.0.0.1:1/p/a.b/alpha-1.0.tar.gz?x=1"] {
            #expect(SimpleIndexParser.isPlainAbsolute(plain), "\(plain)")
            #expect(try SimpleIndexParser.resolve(plain, against: base) == plain)
        }
        for other in [
            "https://127.0.0.1/a/../b.whl", "https://127.0.0.1/a/./b.whl", "https://127.0.0.1/a/..", "https:///x", "HTTPS://127.0.0.1/x",
            "https://127.0.0.1/a b", "https://127.0.0.1/%41", "/p/x.whl", "x.whl",
        ] {
            #expect(!SimpleIndexParser.isPlainAbsolute(other), "\(other)")
        }
    }

    @Test func malformedHTML() {
        for broken in [#"<a href="/x.whl>x</a>"#, #"<a href="/x.whl">never closed"#, "<a data-x=1>no href</a>"] {
            #expect(throws: AirlockError.self, "\(broken)") {
                try SimpleIndexParser.parse(Array(broken.utf8), contentType: "text/html", url: "http://127.0.0.1:1/simple/alpha/", project: project)
            }
        }
    }

    @Test func unknownContentType() {
        #expect(throws: AirlockError.self) {
            try SimpleIndexParser.parse([], contentType: "image/png", url: "http://127.0.0.1:1/simple/alpha/", project: project)
        }
    }
}
