import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// The HTTP contract of the endpoint, as curl sees it.
@Suite(.timeLimit(.minutes(10))) struct EndpointTests {
    let mirror: MirrorHarness
    let server: AirlockCommand.Server

    init() throws {
        mirror = try MirrorHarness([PackageSpec("alpha", "1.0", payloadKiB: 100), PackageSpec("alpha", "1.1")])
        try mirror.syncOK(["alpha"])
        server = try mirror.serve()
    }

    private func curl(_ args: [String]) throws -> String {
        try Subprocess.run("/usr/bin/curl", ["-s", "-D", "-", "-o", "/dev/null"] + args).stdout
    }

    @Test func contentNegotiation() throws {
        let url = server.base + "/simple/alpha/"
        #expect(try curl([url]).contains("Content-Type: text/html"))
        #expect(try curl(["-H", "Accept: application/vnd.pypi.simple.v1+json", url]).contains("Content-Type: application/vnd.pypi.simple.v1+json"))
        #expect(
            try curl(["-H", "Accept: application/vnd.pypi.simple.v1+html, application/vnd.pypi.simple.v1+json;q=0.5", url]).contains(
                "Content-Type: application/vnd.pypi.simple.v1+html"))
        #expect(try curl(["-H", "Accept: image/png", url]).hasPrefix("HTTP/1.1 406"))
        let json = try httpGet(url, headers: ["Accept: application/vnd.pypi.simple.v1+json"]).body
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(doc["versions"] as? [String] == ["1.0", "1.1"])
        #expect((doc["meta"] as? [String: Any])?["api-version"] as? String == "1.4")
        #expect((doc["files"] as? [[String: Any]])?.allSatisfy { $0["provenance"] is NSNull } == true, "no file came with provenance")
        let file = try #require((doc["files"] as? [[String: Any]])?.first)
        #expect(file["upload-time"] is String && file["size"] is Int && file["yanked"] as? Bool == false)
    }

    @Test func normalizedNameRedirects() throws {
        let headers = try curl([server.base + "/pypi/latest/simple/Alpha_/"])
        #expect(headers.hasPrefix("HTTP/1.1 301"))
        #expect(headers.contains("Location: /pypi/latest/simple/alpha/"))
        #expect(try curl([server.base + "/simple/alpha"]).contains("Location: /simple/alpha/"))
    }

    @Test func filesAreImmutableWithRangesAndETags() throws {
        let wheel = "alpha-1.0-py3-none-any.whl"
        let digest = try mirror.digest(of: wheel)
        let url = server.base + "/files/sha256/\(digest.hex)/\(wheel)"
        let full = try curl([url])
        #expect(full.contains("ETag: \"\(digest.hex)\""))
        #expect(full.contains("Cache-Control: public, max-age=31536000, immutable"))
        #expect(try curl(["-H", "If-None-Match: \"\(digest.hex)\"", url]).hasPrefix("HTTP/1.1 304"))

        let partialPath = mirror.dir.path + "/partial.bin"
        #expect(try Subprocess.run("/usr/bin/curl", ["-s", "-r", "10-19", "-o", partialPath, url]).succeeded)
        let original = try Data(contentsOf: URL(fileURLWithPath: mirror.packages + "/" + wheel))
        #expect(try Data(contentsOf: URL(fileURLWithPath: partialPath)) == original[10...19])
        let ranged = try curl(["-r", "10-19", url])
        #expect(ranged.hasPrefix("HTTP/1.1 206"))
        #expect(ranged.contains("Content-Range: bytes 10-19/\(original.count)"))
        #expect(try curl(["-r", "\(original.count + 5)-", url]).hasPrefix("HTTP/1.1 416"))

        let bytes = try Subprocess.run("/usr/bin/curl", ["-s", "-o", mirror.dir.path + "/fetched.whl", url])
        #expect(bytes.succeeded)
        #expect(try Data(contentsOf: URL(fileURLWithPath: mirror.dir.path + "/fetched.whl")) == original)
        // A real digest with another filename is not served.
        #expect(try httpGet(server.base + "/files/sha256/\(digest.hex)/other-1.0-py3-none-any.whl").status == 404)
    }

    @Test func coreMetadataFiles() throws {
        let wheel = "alpha-1.1-py3-none-any.whl"
        let digest = try mirror.digest(of: wheel)
        let metadata = try httpGet(server.base + "/files/sha256/\(digest.hex)/\(wheel).metadata")
        #expect(metadata.status == 200)
        #expect(metadata.body.contains("Name: alpha"))
        let page = try httpGet(server.base + "/simple/alpha/").body
        #expect(page.contains("data-core-metadata=\"sha256=\(Digest.of(Array(metadata.body.utf8)).hex)\""))
    }

    @Test func pagesCarrySnapshotAndCaching() throws {
        let pinned = try curl([server.base + "/pypi/1/simple/alpha/"])
        #expect(pinned.contains("X-Airlock-Snapshot: 1"))
        #expect(pinned.contains("immutable"))
        let latest = try curl([server.base + "/simple/alpha/"])
        #expect(latest.contains("Cache-Control: public, max-age=30"))
        let etag = try #require(latest.split(separator: "\r\n").first { $0.hasPrefix("ETag: ") }?.dropFirst(6))
        #expect(try curl(["-H", "If-None-Match: \(etag)", server.base + "/simple/alpha/"]).hasPrefix("HTTP/1.1 304"))
        #expect(try curl(["-I", server.base + "/simple/alpha/"]).hasPrefix("HTTP/1.1 200"))
    }

    @Test func unknownSnapshotsAndPaths() throws {
        for snapshot in ["999", "1999-01-01", "last-tuesday"] {
            let r = try httpGet(server.base + "/pypi/\(snapshot)/simple/")
            #expect(r.status == 404)
            #expect(r.body.contains("no pypi snapshot matches '\(snapshot)'"), "\(r.body)")
        }
        let other = try httpGet(server.base + "/admin")
        #expect(other.status == 404)
        #expect(try httpGet(server.base + "/healthz").status == 200)
    }

    @Test func metricsParseAsPrometheusTextAndMoveWithRequests() throws {
        let before = try prometheusSamples(server.base + "/metrics")
        let key = #"airlock_http_requests_total{class="simple",status="200"}"#
        for _ in 0..<3 { _ = try httpGet(server.base + "/simple/alpha/") }
        _ = try httpGet(server.base + "/simple/not-approved-here/")
        let after = try prometheusSamples(server.base + "/metrics")
        #expect((after[key] ?? 0) - (before[key] ?? 0) == 3, "\(after)")
        #expect((after["airlock_install_misses_total{}"] ?? 0) - (before["airlock_install_misses_total{}"] ?? 0) == 1, "\(after)")
        #expect(after[#"airlock_snapshot_served_id{ecosystem="pypi"}"#] == 1 && after[#"airlock_snapshot_served_id{ecosystem="cran"}"#] == 0)
        #expect((after[#"airlock_http_request_duration_seconds_count{class="simple"}"#] ?? 0) >= 3)
        #expect((after[#"airlock_http_response_body_bytes_total{class="simple"}"#] ?? 0) > 0)
    }
}
