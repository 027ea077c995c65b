import AirlockCore
import AirlockUpstream
import Testing

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
        #expect(page.serial == 27446843)
        let files = try SimpleIndexParser.parse(Array(html.utf8), contentType: "text/html", url: "http://127.0.0.1:1/simple/alpha/", project: project).files
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
        let files = try SimpleIndexParser.parse(Array(json.utf8), contentType: "application/vnd.pypi.simple.v1+json", url: "http://127.0.0.1:1/simple/alpha/", project: project).files
        let f = try #require(files.first)
        #expect(try SimpleIndexParser.parse(Array(json.utf8), contentType: "application/json", url: "http://127.0.0.1:1/simple/alpha/", project: project).serial == 31415)
        // PyPI has sent the serial as a string too; a value that is no number is ignored, never fatal.
        for (meta, serial) in [(#"{"_last-serial": "37059094"}"#, 37059094 as Int?), (#"{"_last-serial": [1]}"#, nil), (#"{}"#, nil)] {
            let page = #"{"meta": \#(meta), "files": []}"#
            #expect(try SimpleIndexParser.parse(Array(page.utf8), contentType: "application/json", url: "http://127.0.0.1:1/simple/alpha/", project: project).serial == serial)
        }
        #expect(f.url == "http://127.0.0.1:1/p/alpha-1.0-py3-none-any.whl")
        #expect(f.size == 1234)
        #expect(f.yanked == "use 1.1")
        #expect(f.coreMetadataSHA256?.hex == hex)
        #expect(f.uploadTime.map(Timestamp.format) == "2024-01-02T03:04:05.123Z")
    }

    @Test func malformedJSONNamesPageAndPlace() {
        #expect {
            try SimpleIndexParser.parse(Array(#"{"files": [{"filename": 3}]}"#.utf8), contentType: "application/vnd.pypi.simple.v1+json", url: "http://127.0.0.1:1/simple/alpha/", project: project)
        } throws: { error in
            let message = (error as? AirlockError)?.message ?? ""
            return message.contains("http://127.0.0.1:1/simple/alpha/") && message.contains("files[0]")
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
