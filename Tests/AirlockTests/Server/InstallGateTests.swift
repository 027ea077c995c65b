import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockServer

/// `--require-auth` holds however a path is spelled: every request target is read once, by
/// `CanonicalPath`, before any gate or route decides on it.
@Suite(.timeLimit(.minutes(10))) struct InstallGateTests {
    @Test(arguments: [
        ("/simple/x/", CanonicalPath.Verdict.canonical), ("/", .canonical), ("/files/sha256/ab/x-1.0%2Bcpu-py3-none-any.whl", .canonical),
        ("//simple/x/", .redirect("/simple/x/")), ("/simple//x/", .redirect("/simple/x/")), ("/simple/x//", .redirect("/simple/x/")),
        ("///simple/x/?a=b", .redirect("/simple/x/?a=b")), ("/%73imple/x/", .redirect("/simple/x/")), ("/simple/%7e%41/", .redirect("/simple/~A/")),
        ("/files/a%2bb", .redirect("/files/a%2Bb")), ("//127.0.0.2/x", .redirect("/127.0.0.2/x")),
        ("http://127.0.0.1/simple/x/", .redirect("/simple/x/")), ("HTTPS://127.0.0.1", .redirect("/")),
    ])
    func canonicalForms(_ target: String, _ verdict: CanonicalPath.Verdict) {
        #expect(CanonicalPath.check(Substring(target)) == verdict, "\(target)")
    }

    /// The query starts at the first `?` byte, even when a combining mark makes `?` part of a larger character.
    @Test(arguments: [
        ("/simple/x/?\u{301}", "/simple/x/"), ("/healthz?\u{301}/simple/x/", "/healthz"), ("/simple/x/", "/simple/x/"), ("/a?b?c", "/a"), ("/?", "/"),
    ])
    func pathEndsAtTheFirstQuestionMarkByte(_ target: String, _ path: String) {
        #expect(CanonicalPath.path(of: Substring(target)) == Substring(path))
        #expect(CanonicalPath.check(Substring(target)) == .canonical)
    }

    @Test(arguments: [
        "/./simple/x/", "/simple/./x/", "/x/../simple/", "/simple/x/..", "/simple/x/%2e%2e/", "/simple/%2E/", "/simple%2Fx/", "/%2fsimple/x/",
        "/simple%5cx/", "/simple\\x/", "/simple/x%00/", "/simple/x%0a/", "/simple/%zz/", "/simple/x%2", "/simple/x/#f", "*", "gopher://127.0.0.1/x",
        "/simple/é/", "/simple/a b/",
    ])
    func refusedForms(_ target: String) {
        guard case .refused = CanonicalPath.check(Substring(target)) else {
            Issue.record("\(target) should be refused, got \(CanonicalPath.check(Substring(target)))")
            return
        }
    }

    /// Spellings of one page, one file and one CRAN index, each with where it must lead: the
    /// canonical path it is served (or redirected) as, or nil when it names nothing.
    static func spellings(file: String) -> [(target: String, leadsTo: String?)] {
        let page = "/simple/unrelated/"
        let pinned = "/pypi/latest/simple/unrelated/"
        let cran = "/cran/latest/src/contrib/PACKAGES"
        return [
            (page, page), ("//simple/unrelated/", page), ("/simple//unrelated/", page), ("///simple/unrelated/", page), ("/simple/unrelated//", page),
            ("/%73imple/unrelated/", page), ("/simple/%75nrelated/", page), ("/simple/unrelated/?q=1", "/simple/unrelated/?q=1"),
            ("/./simple/unrelated/", nil), ("/simple/./unrelated/", nil), ("/x/../simple/unrelated/", nil), ("/simple%2Funrelated/", nil),
            ("/%2Fsimple/unrelated/", nil), ("/simple/unrelated/%2e%2e/", nil), ("/simple/unrelated/.", nil), ("/simple%5Cunrelated/", nil),
            (pinned, pinned), ("//pypi/latest/simple/unrelated/", pinned), ("/pypi//latest/simple/unrelated/", pinned),
            ("/pypi/latest//simple/unrelated/", pinned),
            ("/pypi/%6Catest/simple/unrelated/", pinned), ("/pypi/./latest/simple/unrelated/", nil),
            ("/pypi/latest/simple/../simple/unrelated/", nil),
            (file, file), ("/" + file, file), (file.replacingOccurrences(of: "/sha256/", with: "//sha256/"), file),
            (file.replacingOccurrences(of: "/files/", with: "/files//"), file), (file.replacingOccurrences(of: "/files/", with: "/%66iles/"), file),
            (file.replacingOccurrences(of: "/sha256/", with: "/./sha256/"), nil),
            (file + ".metadata", file + ".metadata"), ("/" + file + ".metadata", file + ".metadata"),
            (cran, cran), ("/" + cran, cran), (cran.replacingOccurrences(of: "/src/", with: "/src//"), cran),
            (cran.replacingOccurrences(of: "/src/", with: "/src/./"), nil),
        ].map { ($0.0, $0.1) }
    }

    struct Answer {
        let status: Int
        let location: String
        let body: String
    }

    /// One request with curl, the path sent exactly as written; `viaRouter` sends a body, so the
    /// wire reader hands the request to NIO's decoder and the router's side of the connection.
    private func get(_ base: String, _ target: String, token: String?, viaRouter: Bool, tls: [String]) throws -> Answer {
        var args = ["-s", "--path-as-is", "-o", "-", "-w", "\n%{http_code} %header{location}"] + tls
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        if viaRouter { args += ["-X", "GET", "--data-binary", "x"] }
        if target.hasPrefix("/") { args.append(base + target) } else { args += ["--request-target", target, base + "/"] }
        let r = try Subprocess.run("/usr/bin/curl", args)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let last = lines.last.map(String.init) ?? ""
        let parts = last.split(separator: " ", maxSplits: 1).map(String.init)
        return Answer(status: Int(parts.first ?? "") ?? 0, location: parts.count > 1 ? parts[1] : "", body: lines.dropLast().joined(separator: "\n"))
    }

    @Test(arguments: [false, true])
    func everySpellingIsGated(tls: Bool) throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        try mirror.syncOK(["unrelated"])
        let wheel = "unrelated-1.0-py3-none-any.whl"
        let file = "/files/sha256/\(try mirror.digest(of: wheel).hex)/\(wheel)"
        let made = try AirlockCommand.run(["token", "create", "--data", mirror.data, "--name", "ci", "--role", "reader"])
        #expect(made.succeeded, "\(made.output)")
        let token = made.stdout.trimmingWhitespace()
        var extra = ["--require-auth"]
        var curlTLS: [String] = []
        if tls {
            let pki = try TestCertificates(in: mirror.dir.path)
            extra += ["--tls-cert", pki.serverCertificate, "--tls-key", pki.serverKey]
            curlTLS = ["--cacert", pki.caCertificate]
        }
        let server = try AirlockCommand.serve(data: mirror.data, logDirectory: mirror.dir.path, extraArgs: extra)
        let spellings = Self.spellings(file: file) + [("\(server.base)/simple/unrelated/", "/simple/unrelated/")]
        for viaRouter in [false, true] {
            for (target, leadsTo) in spellings {
                let anonymous = try get(server.base, target, token: nil, viaRouter: viaRouter, tls: curlTLS)
                #expect([401, 308, 404].contains(anonymous.status), "\(target) without a token (router: \(viaRouter)): \(anonymous.status)")
                let leaked = ["href", "\"files\"", "Metadata-Version", "PK\u{3}\u{4}"].filter(anonymous.body.contains)
                #expect(leaked.isEmpty, "\(target) without a token answered what it serves: \(anonymous.body.prefix(200))")
                let authed = try get(server.base, target, token: token, viaRouter: viaRouter, tls: curlTLS)
                let where_ = "\(target) with a token (router: \(viaRouter))"
                switch leadsTo {
                case nil:
                    #expect(authed.status == 404, "\(where_) names nothing: \(authed.status) \(authed.body)")
                case target?:
                    let served = target.hasPrefix("/cran/") ? 404 : 200  // no CRAN snapshot: the route answers, unknown snapshot
                    #expect(authed.status == served, "\(where_): \(authed.status) \(authed.body)")
                case let canonical?:
                    #expect(
                        authed.status == 308 && authed.location == canonical,
                        "\(where_) redirects to \(canonical): \(authed.status) '\(authed.location)'")
                    #expect(anonymous.status == 401 || anonymous.location == canonical, "\(target) without a token leads nowhere else")
                }
            }
        }
        // Where the redirects lead is served, to a token only.
        #expect(try get(server.base, file, token: token, viaRouter: false, tls: curlTLS).status == 200)
        #expect(try get(server.base, file, token: nil, viaRouter: false, tls: curlTLS).status == 401)
    }
}
