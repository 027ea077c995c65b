import AirlockTestSupport
import Foundation
import Testing

/// The landing page (also at /ui/setup) writes the server's address into its client lines from the request's `Host`
/// header, which the client controls: only a host[:port] is used, and it is escaped like any text.
@Suite(.timeLimit(.minutes(5))) struct SetupPageTests {
    @Test func aHostileHostHeaderRendersInert() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0")])
        try mirror.syncOK(["alpha"])
        let server = try mirror.serve()
        for path in ["/", "/ui/setup"] {
            let plain = try httpGet(server.base + path)
            #expect(plain.status == 200 && plain.body.contains(server.base + "/simple/"), "\(plain.body)")
            for hostile in ["<script>alert(1)</script>", "a\"onmouseover=\"x", "x'><img src=x>", "évil.example"] {
                let page = try httpGet(server.base + path, headers: ["Host: \(hostile)"])
                #expect(!page.body.contains(hostile), "\(hostile) is not written into the page: \(page.body)")
                #expect(!page.body.contains("<script>") && !page.body.contains("<img"), "\(page.body)")
                if page.status == 200 { #expect(page.body.contains("airlock.internal:8080/simple/"), "\(page.body)") }
            }
        }
    }
}
