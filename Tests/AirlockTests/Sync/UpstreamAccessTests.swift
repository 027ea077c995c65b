import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// The upstream as companies have it: a private index on HTTPS signed by the company's own CA, with
/// credentials, reached only through an HTTP proxy.
@Suite struct UpstreamAccessTests {
    @Test func aPrivateTLSUpstreamThroughAProxyWithBasicAuth() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        let dir = mirror.dir.path
        let pki = try TestCertificates(in: dir)
        let secret = "pw-\(UUID().uuidString)"
        let upstream = try UpstreamIndex(
            serving: mirror.packages, kind: .json, logDirectory: dir, tls: (pki.serverCertificate, pki.serverKey), basicAuth: "svc-airlock:\(secret)")
        defer { upstream.stop() }
        let proxy = try TestProxy(logDirectory: dir)
        defer { proxy.stop() }
        try secret.write(toFile: dir + "/password", atomically: true, encoding: .utf8)
        try "wrong-\(secret)\n".write(toFile: dir + "/wrong-password", atomically: true, encoding: .utf8)

        func config(_ name: String, data: String, upstreamURL: String = upstream.simpleURL, trustCA: Bool = true, extra: String) throws -> String {
            let path = dir + "/\(name).toml"
            try """
            data = "\(data)"
            [pypi]
            upstream = "\(upstreamURL)"
            requirements = ["alpha"]
            python = ["\(MirrorHarness.python)"]
            proxy = "\(proxy.url)"
            \(trustCA ? "ca_bundle = \"pki/ca.pem\"" : "")
            headers = { "X-Airlock-Tenant" = "research" }
            \(extra)
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let good = try config(
            "good", data: dir + "/data", extra: "username = \"svc-airlock\"\npassword_file = \"password\"\nmax_requests_per_second = 10")

        let check = try AirlockCommand.run(["config", "check", "--config", good])
        #expect(check.succeeded, "\(check.output)")
        for line in [
            "proxy: \(proxy.url)", "CA bundle: \(dir)/pki/ca.pem", "credentials: basic auth as svc-airlock", "extra headers: X-Airlock-Tenant",
            "at most 10 requests/s",
        ] {
            #expect(check.stdout.contains(line), "config check names \(line): \(check.stdout)")
        }

        let sync = try AirlockCommand.run(["sync", "pypi", "--config", good, "--policy", "none", "--json"])
        #expect(sync.succeeded, "\(sync.output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(sync.stdout.utf8)) as? [String: Any])
        #expect(report["downloaded"] as? Int ?? 0 >= 4, "alpha (its versions), beta, delta, epsilon: \(report)")
        #expect(proxy.requests.contains("CONNECT 127.0.0.1:\(upstream.port)"), "the upstream was reached through the proxy: \(proxy.requests)")
        #expect(try upstream.requestCounts()["header:X-Airlock-Tenant"] ?? 0 >= 8, "the extra header goes with every request")
        // The request-rate limit: n requests at 10 a second take at least (n - 1) / 10 s.
        let requests = try #require(report["upstreamRequests"] as? Int)
        #expect(try #require(report["seconds"] as? Double) >= Double(requests - 1) / 10, "\(requests) requests at most 10 a second")

        // The password is in no output, and in no file of the data directory or of an exported bundle.
        let keys = dir + "/keys"
        #expect(try AirlockCommand.run(["keys", "generate", "--out", keys]).succeeded)
        let export = try AirlockCommand.run(["export", "--data", dir + "/data", "--key", keys + "/airlock.key", "--out", dir + "/bundle.tar"])
        #expect(export.succeeded, "\(export.output)")
        #expect(!sync.output.contains(secret) && !check.output.contains(secret) && !export.output.contains(secret))
        #expect(try filesContaining(secret, under: dir + "/data").isEmpty)
        #expect(try filesContaining(secret, under: dir + "/bundle.tar").isEmpty)

        // Credentials written into the upstream URL work too, and are kept nowhere either.
        var withCredentials = try #require(URLComponents(string: upstream.simpleURL))
        withCredentials.user = "svc-airlock"
        withCredentials.password = secret
        let inURL = try #require(withCredentials.string)
        let urlConfig = try config("in-url", data: dir + "/data-url", upstreamURL: inURL, extra: "")
        let viaURL = try AirlockCommand.run(["sync", "pypi", "--config", urlConfig, "--policy", "none"])
        #expect(viaURL.succeeded, "\(viaURL.output)")
        #expect(!viaURL.output.contains(secret))
        #expect(try filesContaining(secret, under: dir + "/data-url").isEmpty)

        // A wrong password fails naming the upstream and the status; no CA bundle fails naming the certificate.
        let wrong = try config("wrong", data: dir + "/data-wrong", extra: "username = \"svc-airlock\"\npassword_file = \"wrong-password\"")
        let refused = try AirlockCommand.run(["sync", "pypi", "--config", wrong, "--policy", "none"])
        #expect(!refused.succeeded)
        #expect(refused.stderr.contains("upstream answered HTTP 401 for \(upstream.simpleURL)alpha/"), "\(refused.output)")
        #expect(!refused.output.contains(secret))
        let untrusted = try config(
            "untrusted", data: dir + "/data-untrusted", trustCA: false, extra: "username = \"svc-airlock\"\npassword_file = \"password\"")
        let noCA = try AirlockCommand.run(["sync", "pypi", "--config", untrusted, "--policy", "none"])
        #expect(!noCA.succeeded)
        #expect(noCA.stderr.contains(upstream.simpleURL) && noCA.stderr.lowercased().contains("certificate"), "\(noCA.output)")
    }

    @Test func configurationRefusesAccessSettingsThatCannotWork() throws {
        let dir = try TemporaryDirectory()
        try "x".write(toFile: dir.path + "/pw", atomically: true, encoding: .utf8)
        let cases: [(String, String)] = [
            ("username = \"u\"", "field 'pypi.username' needs password_file"),
            ("username = \"u\"\npassword_file = \"pw\"\nnetrc = true", "gives credentials more than one way"),
            ("proxy = \"ftp://proxy\"", "field 'pypi.proxy' must be a proxy URL"),
            ("ca_bundle = \"missing.pem\"", "field 'pypi.ca_bundle' names"),
            ("headers = { \"Bad Name\" = \"v\" }", "field 'pypi.headers' has 'Bad Name'"),
            ("max_requests_per_second = 0", "field 'pypi.max_requests_per_second' must be positive"),
        ]
        for (extra, message) in cases {
            let path = dir.path + "/airlock.toml"
            try "[pypi]\nrequirements = [\"alpha\"]\n\(extra)\n".write(toFile: path, atomically: true, encoding: .utf8)
            let check = try AirlockCommand.run(["config", "check", "--config", path])
            #expect(!check.succeeded && check.stderr.contains(message), "\(extra): \(check.output)")
        }
    }

    /// Files under `path` (or `path` itself) whose bytes contain `needle`.
    private func filesContaining(_ needle: String, under path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw TestSupportError("\(path) does not exist") }
        let files = isDirectory.boolValue ? (FileManager.default.subpaths(atPath: path) ?? []).map { path + "/" + $0 } : [path]
        let bytes = Data(needle.utf8)
        return files.filter { file in (FileManager.default.contents(atPath: file)?.range(of: bytes)) != nil }
    }
}
